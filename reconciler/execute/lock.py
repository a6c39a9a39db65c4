"""One apply at a time per node: an exclusive lock on `<state dir>/apply.lock`.

The lock is `flock` on the open file, so the kernel releases it when its holder exits, however
it exits (a crash, SIGKILL): a lock is never left behind. The holder writes its pid into the file
so that the next one can say who holds it. Note that flock belongs to the open file description:
two opens in one process exclude each other too.
"""

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

LOCK_NAME = "apply.lock"
LOCK_POLL = 0.2


class Busy(RuntimeError):
    """Another apply holds the node's lock."""

    def __init__(self, pid: int | None, path: Path) -> None:
        self.pid = pid
        self.path = path
        holder = f"pid {pid}" if pid is not None else "pid unknown"
        super().__init__(f"another apply is running ({holder}); it holds {path}")


@contextlib.contextmanager
def node_lock(state_dir: Path, wait: float = 0.0, name: str = LOCK_NAME) -> Iterator[Path]:
    """Hold the node's apply lock for the `with` block; raise `Busy` if it is still held after
    `wait` seconds (at once by default). The agent takes it for each of its passes."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / name
    # No O_TRUNC: until we hold the lock, the file holds the current holder's pid.
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        _take(fd, path, wait)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)  # no stale pid for the next reader; the lock goes with the close
    finally:
        os.close(fd)


def _take(fd: int, path: Path, wait: float) -> None:
    try:
        for attempt in Retrying(
            stop=stop_after_delay(wait),
            wait=wait_fixed(LOCK_POLL),
            retry=retry_if_exception_type(BlockingIOError),
            reraise=True,
        ):
            with attempt:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise Busy(_holder(fd), path) from None


def _holder(fd: int) -> int | None:
    """The pid the holder wrote; None if it has not written it yet (it just took the lock)."""
    text = os.pread(fd, 64, 0).decode(errors="replace").strip()
    return int(text) if text.isdigit() else None
