"""The agent's arbitration, as part of the pure step: views in, decisions and effects out.

At every tick, this node's view (leases, what the latest observation shows running, disk states,
monitor failovers, overrides) and the peer's (from its heartbeats, sensed by the tick's producer)
go to the pure `arbiter.decide`. What used to be done on the spot is now asked for as effects
whose results come back as events: the tie-breaker probe (`ProbeTieBreaker` ->
`TieBreakerAnswered`), the fencing command (`Fence` -> `FencingDone`), the lease writes
(`WriteLease` -> `LeaseWritten` or `LeaseRefused`). Then:
- leases: a decision's lease is written before a start (RUN, TAKE_OVER), after the stop for
  STOP and SELF_FENCE (the release waits until the observation shows the application stopped),
  at once otherwise. Renewals (same holder and epoch) stay in memory; the file is rewritten only
  when the holder or epoch changes: an older expiry on disk only makes a restarted agent stop
  earlier, never later;
- a SELF_FENCE of an application running here is a `HardStop` with the lease's end as deadline;
- the peer hears the result in our next heartbeats (`Publish`).
"""

from dataclasses import replace

from reconciler.agent.decisions import DecisionRecord as Logged
from reconciler.agent.effects import (
    Effect,
    Fence,
    HardStop,
    Log,
    ProbeTieBreaker,
    Publish,
    SaveOverrides,
    Wake,
    WriteLease,
)
from reconciler.agent.events import Sensed
from reconciler.agent.state import AgentState, wanted_placement
from reconciler.arbiter.decide import decide
from reconciler.arbiter.heartbeat import AppView
from reconciler.arbiter.lease import Lease
from reconciler.arbiter.views import Decision, Facts, FencingState, LocalApp, LocalView, PeerView, Verdict

TIE_BREAKER_CACHE = 1.0  # seconds a tie-breaker answer is trusted while the peer is silent
WAKE_LATE = 0.001  # a Wake comes this much after the moment, so that it is past it
Stepped = tuple[AgentState, list[Effect]]


def arbitrate(state: AgentState, sensed: Sensed) -> Stepped:
    state = replace(state, sensed=sensed)
    if state.snapshot is None:
        return state, []
    state, effects = _merge_overrides(state, sensed)
    peer = sensed.peer
    if peer.echo_age is None and peer.listening_for < state.settings.dead_time:
        # Just started: no contact yet is not a lost contact. Deciding now would stop
        # what runs here for want of a lease that the first echo would grant.
        return state, effects
    if peer.silence < state.settings.dead_time:
        state = _contact(state)
    state, answer, probe = _tie_breaker(state, sensed)
    effects += probe
    facts = Facts(tie_breaker_ok=answer, fencing=state.fencing)
    placements = {a.name: a.document.spec.placement for a in state.manifests.applications}
    decisions = decide(_local_view(state, sensed), peer, state.settings, facts, placements)
    if any(d.verdict is Verdict.NEED_FENCING for d in decisions.values()):
        state, fence = _fence(state)
        effects += fence
    for app, decision in decisions.items():
        effects.append(_log(state, decision, peer))
        state, written = _keep_lease(state, app, decision)
        effects += written
    state, released = _release_stopped(state)
    effects += released
    before = state.placement
    state = replace(state, decisions=decisions)
    effects.append(Publish(views(state, sensed.steady)))
    state, stops = _hard_stops(state, decisions)
    effects += stops + _fence_due(state, sensed)
    acting = any(
        d.verdict in (Verdict.STOP, Verdict.SELF_FENCE) and state.running_here(a)
        for a, d in decisions.items()
    )
    if acting or wanted_placement(state) != before:
        state = replace(state, pass_wanted=True)
    return state, effects


def _merge_overrides(state: AgentState, sensed: Sensed) -> Stepped:
    merged = state.overrides.merged(dict(sensed.peer_overrides))
    if merged == state.overrides:
        return state, []
    why = Logged(node=state.node, what="overrides", why="newer overrides from the peer")
    return replace(state, overrides=merged), [SaveOverrides(merged), Log(why)]


def _local_view(state: AgentState, sensed: Sensed) -> LocalView:
    assert state.snapshot is not None
    apps = state.snapshot.apps
    return LocalView(
        node=state.node,
        now=sensed.steady,
        load=sensed.load,
        apps={
            a.name: LocalApp(
                lease=state.lease(a.name),
                running=apps[a.name].running,
                disk=apps[a.name].disk,
                failed=a.name in state.failed,
                maintenance=state.overrides.of(a.name).maintenance,
                override=state.overrides.of(a.name),
            )
            for a in state.manifests.applications
            if a.name in apps
        },
    )


def _tie_breaker(state: AgentState, sensed: Sensed) -> tuple[AgentState, bool | None, list[Effect]]:
    """The answer to decide on, and a probe if a fresh one is needed. While the peer is silent,
    an answer older than TIE_BREAKER_CACHE counts as none: a stale yes never lets a takeover
    through; the probe's answer comes back as an event and the next tick decides on it."""
    breaker = state.spec.tie_breaker
    if breaker is None:
        return state, None, []
    cached = state.tie_breaker
    heard = sensed.peer.silence < state.settings.dead_time / 2
    fresh = cached is not None and sensed.now - cached[0] < TIE_BREAKER_CACHE
    answer = cached[1] if cached is not None and (heard or fresh) else None
    if fresh or state.probing or (heard and cached is not None):
        return state, answer, []
    return replace(state, probing=True), answer, [ProbeTieBreaker(breaker, sensed.now)]


def _contact(state: AgentState) -> AgentState:
    """Contact again: a later death needs fencing anew, and a fencing still under way answers
    for a death that did not happen."""
    if state.fencing is FencingState.NOT_CONFIGURED:
        return state
    if state.fencing is FencingState.NOT_TRIED and not state.fencing_busy:
        return state
    return replace(
        state, fencing=FencingState.NOT_TRIED, fencing_busy=False, fencing_round=state.fencing_round + 1
    )


def _fence(state: AgentState) -> Stepped:
    fencing = state.spec.fencing
    if fencing is None or state.fencing is not FencingState.NOT_TRIED or state.fencing_busy:
        return state, []
    argv = (*fencing.command, state.peer)
    effect = Fence(argv, fencing.timeout.total_seconds(), state.fencing_round)
    return replace(state, fencing_busy=True), [effect]


def _log(state: AgentState, decision: Decision, peer: PeerView) -> Log:
    cause = {"peer_silence": round(peer.silence, 3), "echo_age": peer.echo_age}
    logged = Logged(
        node=state.node, app=decision.app, what=decision.verdict.value, why=decision.reason, cause=cause
    )
    return Log(logged, changed=True)


def _keep_lease(state: AgentState, app: str, decision: Decision) -> Stepped:
    lease = decision.lease
    if lease is None:
        return state, []
    if decision.verdict in (Verdict.STOP, Verdict.SELF_FENCE) and state.running_here(app):
        return replace(state, pending_release={**state.pending_release, app: lease}), []
    return write_lease(state, lease)


def _release_stopped(state: AgentState) -> Stepped:
    effects: list[Effect] = []
    for app, lease in state.pending_release.items():
        if not state.running_here(app):
            pending = {a: held for a, held in state.pending_release.items() if a != app}
            state, written = write_lease(replace(state, pending_release=pending), lease)
            effects += written
    return state, effects


def write_lease(state: AgentState, lease: Lease) -> Stepped:
    """Held at once; written only when the holder, epoch or open-endedness changes."""
    app = lease.app
    held = {**state.held, app: lease}
    disk = state.on_disk.get(app)
    if disk is not None and (disk.holder, disk.epoch, disk.open_ended) == (
        lease.holder,
        lease.epoch,
        lease.open_ended,
    ):
        return replace(state, held=held), []  # a renewal: memory only
    on_disk = {**state.on_disk, app: lease}
    return replace(state, held=held, on_disk=on_disk), [WriteLease(lease)]


def _hard_stops(state: AgentState, decisions: dict[str, Decision]) -> Stepped:
    fencing = {a for a, d in decisions.items() if d.verdict is Verdict.SELF_FENCE}
    state = replace(state, fenced=state.fenced & fencing)
    effects: list[Effect] = []
    for app in sorted(fencing - state.hard_stopping - state.fenced):
        if not state.running_here(app):
            continue
        deadline = state.lease(app).expires_at
        effects.append(HardStop(app, state.manifests, deadline))
        state = replace(state, hard_stopping=state.hard_stopping | {app})
    return state, effects


def _fence_due(state: AgentState, sensed: Sensed) -> list[Effect]:
    """A Wake for the moment a lease held here without renewal gets within the self-fencing
    margin, when that comes before the next tick: the hard stop starts on time, not up to a
    heartbeat interval late."""
    interval = state.spec.heartbeat_interval.total_seconds()
    margin = state.settings.self_fence_margin
    due = [
        lease.expires_at - margin - sensed.steady
        for app, decision in state.decisions.items()
        if decision.verdict is Verdict.RUN
        and state.running_here(app)
        and (lease := state.lease(app)).holder == state.node
        and lease.expires_at is not None
    ]
    soonest = min((d for d in due if 0 < d < interval), default=None)
    return [] if soonest is None else [Wake(soonest + WAKE_LATE)]


def views(state: AgentState, steady: float) -> dict[str, AppView]:
    """This node's applications as our heartbeats tell the peer."""
    out = {}
    apps = state.snapshot.apps if state.snapshot is not None else {}
    for app, facts in apps.items():
        lease = state.lease(app)
        expires = lease.expires_at if lease.holder is not None else None
        decision = state.decisions.get(app)
        out[app] = AppView(
            running=facts.running,
            lease_epoch=lease.epoch,
            lease_holder=lease.holder,
            lease_expires_in=max(0.0, expires - steady) if expires is not None else None,
            disk=facts.disk,
            state=decision.verdict.value if decision is not None else "unknown",
            failed=app in state.failed,
            override=state.overrides.of(app),
        )
    return out
