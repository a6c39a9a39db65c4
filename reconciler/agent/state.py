"""The agent's state: one frozen value, replaced by every `step`, read by nothing else but the
loop (and the queries it answers). Mappings in it are never changed in place: a step builds new
ones."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.agent.converge import Snapshot
from reconciler.agent.events import Sensed
from reconciler.agent.overrides import Overrides
from reconciler.arbiter.lease import Lease
from reconciler.arbiter.views import Decision, FencingState, Settings, Verdict
from reconciler.manifest import ManifestSet
from reconciler.manifest.cluster import ArbitrationSpec

SELF_FENCE_SHARE = 0.4
# Verdicts under which the application should run here.
RUN_HERE = frozenset({Verdict.RUN, Verdict.TAKE_OVER})


def settings_of(spec: ArbitrationSpec) -> Settings:
    """A lease lasts `deadTime` (a takeover waits no longer than the dead time); a holder
    without contact stops when less than 40 % of it is left."""
    dead = spec.dead_time.total_seconds()
    return Settings(
        dead_time=dead,
        lease_duration=dead,
        self_fence_margin=dead * SELF_FENCE_SHARE,
        tie_breaker_configured=spec.tie_breaker is not None,
    )


@dataclass(frozen=True)
class AgentState:
    node: str
    peer: str
    manifests: ManifestSet
    pass_interval: float
    settings: Settings
    snapshot: Snapshot | None = None
    sensed: Sensed | None = None  # the latest, for re-deciding and for `status`
    overrides: Overrides = field(default_factory=Overrides)
    failed: frozenset[str] = frozenset()  # applications a monitor failed over away from here
    restarting: frozenset[str] = frozenset()
    held: Mapping[str, Lease] = field(default_factory=dict)  # in memory, with renewals
    on_disk: Mapping[str, Lease] = field(default_factory=dict)
    pending_release: Mapping[str, Lease] = field(default_factory=dict)  # written once stopped
    fencing: FencingState = FencingState.NOT_CONFIGURED
    fencing_busy: bool = False
    fencing_round: int = 0  # a fencing result of an earlier round (contact came back since) is stale
    tie_breaker: tuple[float, bool] | None = None  # (monotonic time of the probe, answer)
    probing: bool = False
    decisions: Mapping[str, Decision] = field(default_factory=dict)
    placement: Mapping[str, str] = field(default_factory=dict)  # of the pass last started
    passing: bool = False
    pass_wanted: bool = False
    next_pass: float = 0.0  # monotonic: a pass at least every `pass_interval`
    hard_stopping: frozenset[str] = frozenset()
    fenced: frozenset[str] = frozenset()  # hard-stopped once under this SELF_FENCE: passes do the rest
    exit_code: int | None = None

    @property
    def spec(self) -> ArbitrationSpec:
        return self.manifests.cluster.document.spec.arbitration

    def lease(self, app: str) -> Lease:
        return self.held.get(app) or Lease(app=app)

    def running_here(self, app: str) -> bool:
        snapshot = self.snapshot
        return snapshot is not None and app in snapshot.apps and snapshot.apps[app].running


def initial(
    manifests: ManifestSet,
    node: str,
    peer: str,
    pass_interval: float,
    leases: Mapping[str, Lease],
    overrides: Overrides,
    failed: frozenset[str],
) -> AgentState:
    spec = manifests.cluster.document.spec.arbitration
    return AgentState(
        node=node,
        peer=peer,
        manifests=manifests,
        pass_interval=pass_interval,
        settings=settings_of(spec),
        overrides=overrides,
        failed=failed,
        held=dict(leases),
        on_disk=dict(leases),
        fencing=FencingState.NOT_CONFIGURED if spec.fencing is None else FencingState.NOT_TRIED,
    )


def runs_here(decision: Decision | None) -> bool:
    return decision is not None and decision.verdict in RUN_HERE


def wanted_placement(state: AgentState) -> dict[str, str]:
    """Application -> the node it should run on, as this node acts on it (HOLD: left out)."""
    wanted = {}
    for app, decision in state.decisions.items():
        if decision.verdict is Verdict.HOLD:
            continue
        here = runs_here(decision) and app not in state.restarting
        wanted[app] = state.node if here else state.peer
    return wanted


def pass_placement(state: AgentState) -> dict[str, str]:
    """What a pass acts on: the wanted placement, less what a hard stop has in hand."""
    return {a: n for a, n in wanted_placement(state).items() if a not in state.hard_stopping}
