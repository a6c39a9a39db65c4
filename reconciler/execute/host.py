"""What execution may touch on a node: commands, file reads and writes, TCP, and the clock.

The executor sees the node only through a `Host`, so that the tests (with a scripted host and a
virtual clock) and the lab simulator run the very code a real node runs. `LocalHost` is the real
thing: commands through the `SubprocessRunner` (the only place that starts processes), files
through `write_atomically`, TCP through a socket, time through `time`.
"""

import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from reconciler.core.plan.model import FileWrite
from reconciler.observe.runner import DEFAULT_TIMEOUT, CommandResult, Runner, SubprocessRunner
from reconciler.render.files import write_atomically


class Host(Protocol):
    def run(self, argv: Sequence[str], timeout: float) -> CommandResult:
        """Run argv; a missing program, a hang or a failure is a result, never an exception."""
        ...

    def read(self, path: str) -> CommandResult:
        """A file's content as the result's stdout (`argv` is `("<read>", path)`)."""
        ...

    def write_file(self, write: FileWrite) -> bool:
        """Write the file atomically; True if anything changed. Raises OSError if it cannot."""
        ...

    def tcp_connect(self, address: str, port: int, timeout: float) -> bool:
        """True when a TCP connection to address:port succeeds within `timeout` seconds."""
        ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class LocalHost:
    """The node this process runs on."""

    def __init__(self, runner: Runner | None = None) -> None:
        self._runner: Runner = runner if runner is not None else SubprocessRunner()

    def run(self, argv: Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> CommandResult:
        return self._runner.run(argv, timeout)

    def read(self, path: str) -> CommandResult:
        return self._runner.read(path)

    def host(self) -> CommandResult:
        return self._runner.host()

    def write_file(self, write: FileWrite) -> bool:
        return write_atomically(Path(write.path), write.content, write.mode, keep_previous=True)

    def tcp_connect(self, address: str, port: int, timeout: float) -> bool:
        try:
            with socket.create_connection((address, port), timeout=timeout):
                return True
        except OSError:
            return False

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class ReadOnlyHost(LocalHost):
    """A host that observes through `runner` and refuses every change: for `plan` and `drift`,
    and for a replayed support bundle, where nothing may be written or connected to."""

    def write_file(self, write: FileWrite) -> bool:
        raise PermissionError(f"read-only host: not writing {write.path}")

    def tcp_connect(self, address: str, port: int, timeout: float) -> bool:
        raise PermissionError(f"read-only host: not connecting to {address}:{port}")
