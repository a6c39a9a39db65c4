"""The write probe of fsmon: write, fsync and remove a small file in a mount point, with a timeout.

A write to a filesystem whose device has stopped answering (DRBD with I/O suspended, a failing
disk) blocks in the kernel, and a thread or process blocked there cannot be interrupted or killed.
So the probe runs in a daemon thread that the monitor can walk away from: after the timeout the
check reports the hang as a failure and the monitor loop carries on. A hung probe is remembered
per directory and no second one is started there until it returns, so a filesystem that stays
stuck costs one blocked thread, not one per interval.
"""

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from reconciler.manifest.units import format_duration
from reconciler.monitor.judge import CheckResult, failed, healthy

PROBE_NAME = ".reconciler-fsmon"
PROBE_CONTENT = b"written by the reconciler's fsmon monitor; safe to remove\n"

Write = Callable[[Path], str | None]
"""Writes the probe file at a path; None when done, else what went wrong."""


def write_probe(path: Path) -> str | None:
    """Write, flush to the device, and remove `path`. O_NOFOLLOW: the agent runs as root, and a
    symbolic link planted at the probe's name must not redirect its write elsewhere."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
        try:
            written = os.write(fd, PROBE_CONTENT)
            os.fsync(fd)  # the write reaches the device: a dead disk fails here, not in the cache
        finally:
            os.close(fd)
        os.unlink(path)
    except OSError as err:
        return f"cannot write {path}: {err.strerror or err}"
    if written != len(PROBE_CONTENT):
        return f"cannot write {path}: short write ({written} of {len(PROBE_CONTENT)} bytes)"
    return None


@dataclass
class _Probe:
    thread: threading.Thread
    started: float
    outcome: list[str | None]  # filled by the thread when it returns: [None] or [error]


class WriteProber:
    """Runs write probes; keeps the ones that hung, one per directory, until they return."""

    def __init__(self, write: Write = write_probe, clock: Callable[[], float] = time.monotonic) -> None:
        self._write = write
        self._clock = clock
        self._hung: dict[Path, _Probe] = {}
        self._lock = threading.Lock()  # the agent may check several applications at once

    def probe(self, directory: Path, timeout: timedelta) -> CheckResult:
        path = directory / PROBE_NAME
        with self._lock:
            stuck = self._hung.get(directory)
            if stuck is not None and stuck.thread.is_alive():
                since = timedelta(seconds=round(self._clock() - stuck.started))
                return failed(f"write to {path} still blocked after {format_duration(since)}")
            self._hung.pop(directory, None)
            running = self._start(path)
        running.thread.join(timeout.total_seconds())
        elapsed = timedelta(seconds=self._clock() - running.started)
        if running.thread.is_alive():
            with self._lock:
                self._hung[directory] = running
            return failed(f"write to {path} hung for more than {format_duration(timeout)}", elapsed)
        error = running.outcome[0] if running.outcome else f"write probe of {path} ended without a result"
        if error is not None:
            return failed(error, elapsed)
        return healthy(f"{directory} is writable", elapsed)

    def hung(self) -> tuple[Path, ...]:
        """Directories whose last probe has not returned yet (for status and tests)."""
        with self._lock:
            return tuple(d for d, p in self._hung.items() if p.thread.is_alive())

    def _start(self, path: Path) -> _Probe:
        outcome: list[str | None] = []

        def run() -> None:
            outcome.append(self._write(path))

        # daemon: a thread stuck in the kernel must not keep the agent from exiting.
        thread = threading.Thread(target=run, name=f"fsmon {path.parent}", daemon=True)
        probe = _Probe(thread=thread, started=self._clock(), outcome=outcome)
        thread.start()
        return probe
