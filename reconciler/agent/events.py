"""What reaches the agent's loop: one queue of typed events, in drbd-reactor's shape.

Producers (the ticker, the heartbeat thread, the monitors, the control socket, the manifest
watcher, the `drbdsetup events2` reader, the signal handlers) and the effects that run outside
the loop (a pass, a hard stop, a tie-breaker probe, the fencing command) put events on one
queue; the loop takes them one at a time and hands each to the pure `step`. Every event is a
frozen value: what the producer saw, never a way to look at it again later.

Times: `now` is `time.monotonic()`, `steady` the `SteadyClock` reading (the scale of leases).
"""

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.agent.control import Request, Response
from reconciler.agent.converge import Snapshot
from reconciler.arbiter.lease import Lease
from reconciler.arbiter.placement import Override
from reconciler.arbiter.views import PeerView
from reconciler.manifest import ManifestSet
from reconciler.monitor.policy import VerdictKind


class ReplySlot:
    """Where the answer to one operator request goes; the control socket's thread waits on it."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._response: Response | None = None

    def put(self, response: Response) -> None:
        self._response = response
        self._done.set()

    def wait(self, timeout: float) -> Response | None:
        return self._response if self._done.wait(timeout) else None


@dataclass(frozen=True)
class Sensed:
    """The peer and this node as the arbiter needs them, read at one moment."""

    now: float
    steady: float
    peer: PeerView
    peer_overrides: Mapping[str, Override] = field(default_factory=dict)
    load: float = 0.0


@dataclass(frozen=True)
class Tick:
    """The heartbeat interval went by (or a heartbeat changed something): arbitrate."""

    sensed: Sensed


@dataclass(frozen=True)
class MonitorResult:
    """A monitor's verdict other than NONE (`monitor.policy.step`)."""

    app: str
    monitor: str
    kind: VerdictKind
    reason: str
    rc: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class OperatorRequest:
    request: Request
    reply: ReplySlot = field(default_factory=ReplySlot, compare=False)


@dataclass(frozen=True)
class ManifestsLoaded:
    """A valid edit of the manifests; with the leases on disk of the applications they declare."""

    manifests: ManifestSet
    leases: Mapping[str, Lease] = field(default_factory=dict)


@dataclass(frozen=True)
class ManifestsRejected:
    first: str
    errors: int


@dataclass(frozen=True)
class DrbdChanged:
    """A `drbdsetup events2` line: DRBD changed something; a pass looks at it."""

    line: str


@dataclass(frozen=True)
class Signalled:
    signum: int


@dataclass(frozen=True)
class PassDone:
    """A pass ended: `outcome` is converged, pass-incomplete, observed, refused or deferred."""

    outcome: str
    why: str = ""
    snapshot: Snapshot | None = None
    now: float = 0.0


@dataclass(frozen=True)
class HardStopDone:
    app: str
    ok: bool
    why: str
    snapshot: Snapshot | None = None


@dataclass(frozen=True)
class TieBreakerAnswered:
    at: float
    answer: bool


@dataclass(frozen=True)
class FencingDone:
    succeeded: bool
    why: str
    round: int = 0


@dataclass(frozen=True)
class LeaseWritten:
    lease: Lease


@dataclass(frozen=True)
class LeaseRefused:
    app: str
    error: str
    on_disk: Lease


@dataclass(frozen=True)
class Crashed:
    """A thread or an effect raised: the agent ends, loudly, with a non-zero exit."""

    where: str
    error: str


Event = (
    Tick
    | MonitorResult
    | OperatorRequest
    | ManifestsLoaded
    | ManifestsRejected
    | DrbdChanged
    | Signalled
    | PassDone
    | HardStopDone
    | TieBreakerAnswered
    | FencingDone
    | LeaseWritten
    | LeaseRefused
    | Crashed
)
