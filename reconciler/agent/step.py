"""The agent's state machine: `step(state, event) -> (state, effects)`. Pure: no I/O, no clock,
no threads; every time it needs comes in the event.

- Tick: arbitrate (`arbitrate`), and a pass when one is due (at least every pass interval);
- MonitorResult: a verdict turned into desired state (restart, failover, stop);
- OperatorRequest: a command (new overrides and a reply) or a query (answered by the loop);
- ManifestsLoaded / ManifestsRejected: a valid edit replaces the manifests in force and asks for
  a pass; an invalid one is logged and ignored;
- DrbdChanged: DRBD changed something: a pass looks at it;
- PassDone / HardStopDone / TieBreakerAnswered / FencingDone / LeaseWritten / LeaseRefused: what
  an effect found;
- Signalled: stop (what runs stays running); Crashed: a thread or an effect raised: exit 1.

Passes run one at a time (`passing`); what asks for one meanwhile sets `pass_wanted`, and the
next starts when the running one is done. A hard stop (`HardStop`) never waits for a pass.
"""

import signal
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from reconciler.agent.arbitrate import arbitrate
from reconciler.agent.decisions import DecisionRecord as Logged
from reconciler.agent.effects import Effect, Exit, Log, RunPass, SaveFailed
from reconciler.agent.events import (
    Crashed,
    DrbdChanged,
    Event,
    FencingDone,
    HardStopDone,
    LeaseRefused,
    LeaseWritten,
    ManifestsLoaded,
    ManifestsRejected,
    MonitorResult,
    OperatorRequest,
    PassDone,
    Signalled,
    Tick,
    TieBreakerAnswered,
)
from reconciler.agent.operator import operate, set_override
from reconciler.agent.state import AgentState, pass_placement
from reconciler.arbiter.views import FencingState
from reconciler.monitor.policy import VerdictKind

Stepped = tuple[AgentState, list[Effect]]


def step(state: AgentState, event: Event) -> Stepped:
    if state.exit_code is not None:
        return state, []  # ending: nothing more is started
    handler: Callable[[AgentState, Any], Stepped] = _HANDLERS[type(event)]
    state, effects = handler(state, event)
    if state.exit_code is not None:
        return state, effects
    state, more = _schedule(state)
    return state, effects + more


def _log(state: AgentState, what: str, why: str, app: str | None = None, **cause: object) -> Log:
    return Log(Logged(node=state.node, app=app, what=what, why=why, cause=dict(cause)))


def _tick(state: AgentState, event: Tick) -> Stepped:
    state, effects = arbitrate(state, event.sensed)
    if event.sensed.now >= state.next_pass:
        state = replace(state, pass_wanted=True)
    return state, effects


def _schedule(state: AgentState) -> Stepped:
    """Start the wanted pass if none runs (and an observation exists to decide from)."""
    if not state.pass_wanted or state.passing or state.snapshot is None:
        return state, []
    placement = pass_placement(state)
    state = replace(state, passing=True, pass_wanted=False, placement=placement)
    return state, [RunPass(state.manifests, placement)]


def _monitor(state: AgentState, event: MonitorResult) -> Stepped:
    cause = {"monitor": event.monitor, "rc": event.rc, "detail": event.detail}
    logged = Logged(
        node=state.node, app=event.app, what=f"monitor-{event.kind.value}", why=event.reason, cause=cause
    )
    effects: list[Effect] = [Log(logged)]
    if event.kind is VerdictKind.RESTART:
        state = replace(state, restarting=state.restarting | {event.app})
    elif event.kind is VerdictKind.FAILOVER:
        state = replace(state, failed=state.failed | {event.app})
        effects.append(SaveFailed(state.failed))
    elif event.kind is VerdictKind.STOP:
        state, more = set_override(state, event.app, stopped=True)
        effects += more
    return replace(state, pass_wanted=True), effects


def _manifests(state: AgentState, event: ManifestsLoaded) -> Stepped:
    held = {**event.leases, **state.held}
    on_disk = {**event.leases, **state.on_disk}
    state = replace(state, manifests=event.manifests, held=held, on_disk=on_disk, pass_wanted=True)
    count = len(event.manifests.applications)
    return state, [_log(state, "manifests-reloaded", f"{count} application(s)")]


def _rejected(state: AgentState, event: ManifestsRejected) -> Stepped:
    why = f"invalid edit ignored, the last good manifests stay in force: {event.first}"
    return state, [_log(state, "manifests-ignored", why, errors=event.errors)]


def _drbd(state: AgentState, event: DrbdChanged) -> Stepped:
    return replace(state, pass_wanted=True), []


def _signalled(state: AgentState, event: Signalled) -> Stepped:
    try:
        name = signal.Signals(event.signum).name
    except ValueError:
        name = f"signal {event.signum}"
    state = replace(state, exit_code=0)
    return state, [_log(state, "stop", f"signalled ({name})"), Exit(0, f"signalled ({name})")]


def _crashed(state: AgentState, event: Crashed) -> Stepped:
    state = replace(state, exit_code=1)
    why = f"{event.where} failed: {event.error}"
    return state, [_log(state, "crash", why), Exit(1, why)]


def _pass_done(state: AgentState, event: PassDone) -> Stepped:
    state = replace(state, passing=False, next_pass=event.now + state.pass_interval)
    effects: list[Effect] = []
    if event.outcome == "deferred":
        effects.append(Log(Logged(node=state.node, what="pass-deferred", why=event.why), changed=True))
    elif event.outcome in ("converged", "pass-incomplete", "pass-refused"):
        effects.append(_log(state, event.outcome, event.why))
    if event.snapshot is not None:
        state = replace(state, snapshot=event.snapshot)
        state, more = _restarted(state)
        effects += more
    return state, effects


def _restarted(state: AgentState) -> Stepped:
    """A restart is a stop then a start: once stopped, the application is placed here again."""
    done = {a for a in state.restarting if not state.running_here(a)}
    if not done:
        return state, []
    state = replace(state, restarting=state.restarting - done, pass_wanted=True)
    return state, [_log(state, "restart", "stopped: starting it again", app=a) for a in sorted(done)]


def _hard_stop_done(state: AgentState, event: HardStopDone) -> Stepped:
    hard_stopping, fenced = state.hard_stopping - {event.app}, state.fenced | {event.app}
    state = replace(state, hard_stopping=hard_stopping, fenced=fenced, pass_wanted=True)
    if event.snapshot is not None:
        state = replace(state, snapshot=event.snapshot)
    what = "hard-stop" if event.ok else "hard-stop-incomplete"
    logged = Logged(node=state.node, app=event.app, what=what, why=event.why)
    return state, [Log(logged, changed=True, topic="hard-stop")]


def _tie_breaker(state: AgentState, event: TieBreakerAnswered) -> Stepped:
    return replace(state, tie_breaker=(event.at, event.answer), probing=False), []


def _fencing(state: AgentState, event: FencingDone) -> Stepped:
    if event.round != state.fencing_round:
        return state, [_log(state, "fencing-stale", f"{event.why}; contact came back meanwhile: ignored")]
    fencing = FencingState.SUCCEEDED if event.succeeded else FencingState.FAILED
    state = replace(state, fencing=fencing, fencing_busy=False)
    return state, [_log(state, f"fencing-{fencing.value}", event.why)]


def _lease_written(state: AgentState, event: LeaseWritten) -> Stepped:
    lease = event.lease
    return state, [_log(state, "lease", f"holder {lease.holder}, epoch {lease.epoch}", app=lease.app)]


def _lease_refused(state: AgentState, event: LeaseRefused) -> Stepped:
    held = {**state.held, event.app: event.on_disk}
    on_disk = {**state.on_disk, event.app: event.on_disk}
    state = replace(state, held=held, on_disk=on_disk)
    return state, [_log(state, "lease-refused", event.error, app=event.app)]


_HANDLERS: dict[type, Callable[[AgentState, Any], Stepped]] = {
    Tick: _tick,
    MonitorResult: _monitor,
    OperatorRequest: operate,
    ManifestsLoaded: _manifests,
    ManifestsRejected: _rejected,
    DrbdChanged: _drbd,
    Signalled: _signalled,
    Crashed: _crashed,
    PassDone: _pass_done,
    HardStopDone: _hard_stop_done,
    TieBreakerAnswered: _tie_breaker,
    FencingDone: _fencing,
    LeaseWritten: _lease_written,
    LeaseRefused: _lease_refused,
}
