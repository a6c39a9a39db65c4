"""From check results to actions: the pure state machine of one monitor of one application.

`step(state, monitor, result, now)` records the result and says what to do, with a reason:

- the rc is looked up in the monitor's `actions`; an rc not listed means NOP (as in lems);
- while a PAUSE runs, results are recorded (status shows them) but never acted on;
- RESTART is allowed `restartLimit` times within `failureExpiry`; the next one within that window
  becomes FAILOVER, so an application that keeps failing ends failed over (or stopped), never
  restarting forever;
- restarts and failures older than `failureExpiry` are forgotten, so that rare failures weeks
  apart do not add up to a failover.

Nothing here sleeps, reads a clock or acts: `now` is given, the verdict is data, and the loop that
calls `step` does the acting. The reason is for people (logs, status); no decision reads it.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from reconciler.manifest.monitor import MonitorAction, MonitorActionKind, MonitorBase, format_action
from reconciler.manifest.units import format_duration
from reconciler.monitor.judge import CheckResult


class VerdictKind(StrEnum):
    NONE = "none"
    PAUSE = "pause"
    STOP = "stop"
    FAILOVER = "failover"
    RESTART = "restart"


class MonitorVerdict(BaseModel):
    """What the loop must do for this result. `until` is set for PAUSE only."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: VerdictKind
    reason: str
    until: datetime | None = None


class MonitorState(BaseModel):
    """What one monitor of one application remembers between runs (persisted by `store`).

    `failures` and `restarts` hold the times of failed results and of RESTART verdicts within the
    failure expiry; older ones are dropped at each step, which bounds both lists by
    failureExpiry / interval. `last_change` is when the rc last differed from the one before.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    consecutive_failures: int = 0
    failures: tuple[datetime, ...] = ()
    restarts: tuple[datetime, ...] = ()
    paused_until: datetime | None = None
    last_result: CheckResult | None = None
    last_change: datetime | None = None


def _recent(times: tuple[datetime, ...], now: datetime, expiry: timedelta) -> tuple[datetime, ...]:
    # An event exactly `expiry` old is forgotten: "within 10m" means less than 10 minutes ago.
    return tuple(t for t in times if now - t < expiry)


def _record(state: MonitorState, monitor: MonitorBase, result: CheckResult, now: datetime) -> MonitorState:
    failed = not result.healthy
    previous = state.last_result
    changed = previous is None or previous.rc != result.rc
    failures = (*state.failures, now) if failed else state.failures
    return MonitorState(
        consecutive_failures=state.consecutive_failures + 1 if failed else 0,
        failures=_recent(failures, now, monitor.failure_expiry),
        restarts=_recent(state.restarts, now, monitor.failure_expiry),
        paused_until=state.paused_until,
        last_result=result,
        last_change=now if changed else state.last_change,
    )


def step(
    state: MonitorState, monitor: MonitorBase, result: CheckResult, now: datetime
) -> tuple[MonitorState, MonitorVerdict]:
    """Record `result` and decide. Pure: the same inputs always give the same state and verdict."""
    recorded = _record(state, monitor, result, now)
    rc = result.rc
    if recorded.paused_until is not None:
        if now < recorded.paused_until:
            until = recorded.paused_until.isoformat(timespec="seconds")
            return recorded, MonitorVerdict(
                kind=VerdictKind.NONE, reason=f"rc {rc} recorded, not acted on: paused until {until}"
            )
        recorded = recorded.model_copy(update={"paused_until": None})
    action = monitor.actions.get(rc)
    if action is None:
        return recorded, MonitorVerdict(
            kind=VerdictKind.NONE, reason=f"rc {rc} is not listed in actions: NOP"
        )
    return _apply(recorded, monitor, action, rc, now)


def _apply(
    state: MonitorState, monitor: MonitorBase, action: MonitorAction, rc: int, now: datetime
) -> tuple[MonitorState, MonitorVerdict]:
    said = f"rc {rc}: {format_action(action)}"
    match action.kind:
        case MonitorActionKind.NOP:
            return state, MonitorVerdict(kind=VerdictKind.NONE, reason=said)
        case MonitorActionKind.PAUSE:
            until = now + (action.pause or timedelta(0))
            paused = state.model_copy(update={"paused_until": until})
            reason = f"{said}, results not acted on until {until.isoformat(timespec='seconds')}"
            return paused, MonitorVerdict(kind=VerdictKind.PAUSE, reason=reason, until=until)
        case MonitorActionKind.STOP:
            return state, MonitorVerdict(kind=VerdictKind.STOP, reason=said)
        case MonitorActionKind.FAILOVER:
            return state, MonitorVerdict(kind=VerdictKind.FAILOVER, reason=said)
        case MonitorActionKind.RESTART:
            return _restart(state, monitor, said, now)


def _restart(
    state: MonitorState, monitor: MonitorBase, said: str, now: datetime
) -> tuple[MonitorState, MonitorVerdict]:
    limit, window = monitor.restart_limit, format_duration(monitor.failure_expiry)
    if len(state.restarts) >= limit:
        reason = f"{said}, but restart limit {limit} reached within {window}: failing over"
        return state, MonitorVerdict(kind=VerdictKind.FAILOVER, reason=reason)
    restarts = (*state.restarts, now)
    reason = f"{said} ({len(restarts)} of {limit} within {window})"
    return state.model_copy(update={"restarts": restarts}), MonitorVerdict(
        kind=VerdictKind.RESTART, reason=reason
    )


# --- the view for `status` ---------------------------------------------------------------------


class FailureCount(BaseModel):
    """An application's monitors at a glance: failures and restarts within each one's expiry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    app: str
    failures: int
    restarts: int
    failing: tuple[str, ...]  # monitors whose last result failed
    paused: tuple[str, ...]  # monitors paused at `now`


def failure_count(
    app: str, monitors: Sequence[MonitorBase], states: Mapping[str, MonitorState], now: datetime
) -> FailureCount:
    """Counted at `now`, not at the last step: a failure that has since expired is not shown."""
    failures = restarts = 0
    failing: list[str] = []
    paused: list[str] = []
    for monitor in monitors:
        state = states.get(monitor.name)
        if state is None:
            continue
        failures += len(_recent(state.failures, now, monitor.failure_expiry))
        restarts += len(_recent(state.restarts, now, monitor.failure_expiry))
        if state.last_result is not None and not state.last_result.healthy:
            failing.append(monitor.name)
        if state.paused_until is not None and now < state.paused_until:
            paused.append(monitor.name)
    return FailureCount(
        app=app, failures=failures, restarts=restarts, failing=tuple(failing), paused=tuple(paused)
    )
