"""The producers of the agent's events, each in a thread of its own (started `guarded`: one that
raises ends the agent): the ticker, the manifest watcher, the `drbdsetup events2` reader, and
the control socket's bridge (a request waits for its reply, or is answered "busy").

The `drbdsetup events2` reader only wakes the loop for a pass: the pass observes for itself.
If the tool is missing or exits, it backs off and tries again; it never ends the agent.
"""

import contextlib
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import watchfiles

from reconciler.agent.control import Request, Response
from reconciler.agent.events import (
    DrbdChanged,
    Event,
    ManifestsLoaded,
    ManifestsRejected,
    OperatorRequest,
    Sensed,
    Tick,
)
from reconciler.arbiter.lease import LeaseStore
from reconciler.manifest import ManifestError, load_manifests
from reconciler.observe.drbd.events2 import EventAction, EventObject, parse_events2_line

Put = Callable[[Event], None]
BUSY_AFTER = 4.0  # seconds an operator request waits for the loop before "agent busy"
EVENTS2 = ("drbdsetup", "events2")
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 60.0


def tick(sense: Callable[[], Sensed], put: Put, interval: float, stop: threading.Event) -> None:
    """A Tick every `interval` seconds, with what the arbiter needs, sensed at that moment."""
    while not stop.is_set():
        put(Tick(sense()))
        stop.wait(interval)


def ask(put: Put, request: Request, wait: float = BUSY_AFTER) -> Response:
    """The control socket's handler: the request goes on the queue; the reply, or "busy"."""
    event = OperatorRequest(request)
    put(event)
    response = event.reply.wait(wait)
    if response is None:
        return Response(ok=False, error=f"agent busy: no answer to {request.command!r} within {wait:.0f} s")
    return response


def watch_manifests(paths: Sequence[Path], leases: LeaseStore, put: Put, stop: threading.Event) -> None:
    """A valid edit replaces the manifests in force; an invalid one is reported and ignored."""
    for _changes in watchfiles.watch(*paths, stop_event=stop, debounce=200):
        try:
            loaded = load_manifests(list(paths))
        except ManifestError as err:
            first = err.render_text().splitlines()[0] if err.diagnostics else "invalid"
            put(ManifestsRejected(first, len(err.diagnostics)))
            continue
        put(ManifestsLoaded(loaded, {a.name: leases.load(a.name) for a in loaded.applications}))


class Events2Reader:
    """A long-running `drbdsetup events2`, read line by line; each change wakes the loop."""

    def __init__(self, put: Put, argv: Sequence[str] = EVENTS2) -> None:
        self._put = put
        self._argv = list(argv)
        self._stop = threading.Event()
        self._child: subprocess.Popen[str] | None = None
        self.restarts = 0

    def run(self) -> None:
        backoff = BACKOFF_FIRST
        while not self._stop.is_set():
            started = time.monotonic()
            self._read_once()
            if time.monotonic() - started > BACKOFF_MAX:
                backoff = BACKOFF_FIRST  # it ran for a while: a fresh start
            self.restarts += 1
            self._stop.wait(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)

    def _read_once(self) -> None:
        try:
            child = subprocess.Popen(
                self._argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
        except OSError:
            return  # no drbdsetup here: try again later
        self._child = child
        try:
            assert child.stdout is not None
            for line in child.stdout:
                if self._wakes(line):
                    self._put(DrbdChanged(line.rstrip("\n")))
        finally:
            self._reap(child)

    @staticmethod
    def _wakes(line: str) -> bool:
        """Every change wakes the loop; of the initial snapshot, only its end (`exists -`)."""
        try:
            event = parse_events2_line(line.rstrip("\n"))
        except Exception:
            return bool(line.strip())
        return event.action is not EventAction.EXISTS or event.object is EventObject.NONE

    @staticmethod
    def _reap(child: "subprocess.Popen[str]") -> None:
        if child.poll() is None:
            child.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=5)

    def stop(self) -> None:
        self._stop.set()
        child = self._child
        if child is not None and child.poll() is None:
            child.kill()
