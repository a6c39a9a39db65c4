"""Reading a child's pipes and files with a deadline and a size cap: the runner's raw I/O.

`communicate()` waits for end of file on every pipe, and end of file comes only when the last
process holding the write end lets go, which a daemon the command started may never do. Here
the pipes are read with `selectors` until end of file, the deadline, a short grace after the
command itself has exited, or the cap, whichever comes first; the caller decides what each
ending means. Bytes stay bytes until `decode`.
"""

import locale
import os
import selectors
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO

CHUNK = 64 * 1024  # one pipe buffer
# How often the loop looks whether the command has exited while its pipes are still open.
EXIT_POLL = 0.05


class PipeEnding(StrEnum):
    """Why `PipeReader.read_until` stopped reading."""

    EOF = "eof"  # every pipe reached end of file
    EXITED = "exited"  # the command exited; something else held a pipe open past the grace
    DEADLINE = "deadline"  # the deadline passed with the command still running
    OVERFLOW = "overflow"  # a stream passed the cap; what was kept is the cap's worth


@dataclass
class Stream:
    name: str
    fd: int
    data: bytearray = field(default_factory=bytearray)


class PipeReader:
    """Reads several pipes at once, keeping at most `cap` bytes of each."""

    def __init__(self, pipes: Sequence[tuple[str, IO[bytes]]], cap: int) -> None:
        self.cap = cap
        self.streams = [Stream(name, pipe.fileno()) for name, pipe in pipes]
        self.overflowed: str | None = None  # the name of the stream that passed the cap
        self._selector = selectors.DefaultSelector()
        for stream in self.streams:
            self._selector.register(stream.fd, selectors.EVENT_READ, stream)

    def read_until(self, deadline: float, exited: Callable[[], bool], grace: float) -> PipeEnding:
        """Read until every pipe is at end of file, or `grace` seconds after `exited()` turns
        true, or `deadline` with the command still running, or a stream passes the cap."""
        exited_at: float | None = None
        while self._selector.get_map():
            now = time.monotonic()
            if exited_at is None and exited():
                exited_at = now
            limit = deadline if exited_at is None else exited_at + grace
            if now >= limit:
                return PipeEnding.DEADLINE if exited_at is None else PipeEnding.EXITED
            for key, _ in self._selector.select(min(EXIT_POLL, limit - now)):
                stream: Stream = key.data
                if not self._read(stream):
                    return PipeEnding.OVERFLOW
        return PipeEnding.EOF

    def _read(self, stream: Stream) -> bool:
        """One read from a ready pipe; False when the stream passed the cap."""
        chunk = os.read(stream.fd, min(CHUNK, self.cap + 1 - len(stream.data)))
        if not chunk:
            self._selector.unregister(stream.fd)
            return True
        stream.data += chunk
        if len(stream.data) <= self.cap:
            return True
        del stream.data[self.cap :]
        self.overflowed = stream.name
        return False

    def text(self, name: str) -> str:
        """What was read from the stream `name`, decoded (from the buffer, without a copy)."""
        return decode(next(s.data for s in self.streams if s.name == name))

    def close(self) -> None:
        self._selector.close()


@dataclass(frozen=True)
class Capped:
    data: bytes
    cut: bool  # there was more than the cap


def read_capped(handle: IO[bytes], cap: int) -> Capped:
    """At most `cap` bytes of an open file, in chunks (a read of /dev/zero must end)."""
    data = bytearray()
    while len(data) <= cap:
        chunk = handle.read(min(CHUNK, cap + 1 - len(data)))
        if not chunk:
            return Capped(bytes(data), cut=False)
        data += chunk
    return Capped(bytes(data[:cap]), cut=True)


def has_exited(pid: int) -> bool:
    """Whether our child `pid` has exited, without reaping it: while it is an unreaped zombie
    its PID, and so its process group ID, cannot be reused, and `killpg` stays safe."""
    try:
        state = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True  # reaped already (by someone else): it is gone either way
    return state is not None


def decode(data: bytes | bytearray) -> str:
    """As `text=True` decoded: the locale's encoding, universal newlines, and bytes that do not
    decode become U+FFFD instead of raising."""
    text = data.decode(locale.getpreferredencoding(False), errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")
