"""What the agent's `step` asks for: typed effects, run by the loop (`perform`), never by `step`.

Quick effects (a log line, a file of overrides, a lease write, a reply) run in the loop's thread
in the order given; their results, if any, are events stepped at once. Slow ones run in workers
and answer with an event on the queue: a pass (`RunPass`, one at a time), the tie-breaker probe,
the fencing command. An effect with a deadline (`HardStop`, a self-fence) runs at once in a worker
of its own, whatever pass is running: it preempts the plan in progress.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.agent.control import Request, Response
from reconciler.agent.decisions import DecisionRecord as Logged
from reconciler.agent.events import ReplySlot
from reconciler.agent.overrides import Overrides
from reconciler.arbiter.heartbeat import AppView
from reconciler.arbiter.lease import Lease
from reconciler.manifest import ManifestSet
from reconciler.manifest.cluster import PingTieBreaker, TcpTieBreaker


@dataclass(frozen=True)
class Log:
    """One decision line; `changed`: only if it differs from the last on its topic."""

    decision: Logged
    changed: bool = False
    topic: str = "verdict"


@dataclass(frozen=True)
class Publish:
    """What our next heartbeats say of this node's applications."""

    apps: Mapping[str, AppView]


@dataclass(frozen=True)
class SaveOverrides:
    overrides: Overrides


@dataclass(frozen=True)
class SaveFailed:
    failed: frozenset[str]


@dataclass(frozen=True)
class ResetMonitors:
    app: str


@dataclass(frozen=True)
class WriteLease:
    lease: Lease


@dataclass(frozen=True)
class Reply:
    to: ReplySlot = field(compare=False)
    response: Response


@dataclass(frozen=True)
class Answer:
    """A query (status, placement, explain) answered from the state as it is when it runs."""

    to: ReplySlot = field(compare=False)
    request: Request


@dataclass(frozen=True)
class ProbeTieBreaker:
    breaker: PingTieBreaker | TcpTieBreaker
    at: float


@dataclass(frozen=True)
class Fence:
    argv: tuple[str, ...]
    timeout: float
    round: int = 0


@dataclass(frozen=True)
class RunPass:
    """One pass of `reconcile` for `placement` (empty: observe only), under the node's lock."""

    manifests: ManifestSet
    placement: Mapping[str, str]


@dataclass(frozen=True)
class HardStop:
    """Self-fencing: destroy the application's domain now, then stop the rest of it, before
    `deadline` (SteadyClock seconds: the end of this node's lease)."""

    app: str
    manifests: ManifestSet
    deadline: float | None


@dataclass(frozen=True)
class Wake:
    """A Tick `after` seconds from now: a self-fence falls due before the next regular tick."""

    after: float


@dataclass(frozen=True)
class Exit:
    code: int
    why: str


Effect = (
    Log
    | Publish
    | SaveOverrides
    | SaveFailed
    | ResetMonitors
    | WriteLease
    | Reply
    | Answer
    | ProbeTieBreaker
    | Fence
    | RunPass
    | HardStop
    | Wake
    | Exit
)
