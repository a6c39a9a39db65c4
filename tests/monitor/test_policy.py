"""The policy as tables: a monitor, a sequence of (minute, rc), and the verdicts expected."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from reconciler.manifest.monitor import MonitorBase
from reconciler.monitor.judge import CheckResult
from reconciler.monitor.policy import (
    FailureCount,
    MonitorState,
    MonitorVerdict,
    VerdictKind,
    failure_count,
    step,
)
from tests.monitor.helpers import monitor

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
NONE, PAUSE, STOP, FAILOVER, RESTART = (
    VerdictKind.NONE,
    VerdictKind.PAUSE,
    VerdictKind.STOP,
    VerdictKind.FAILOVER,
    VerdictKind.RESTART,
)
# lems.local.xml of the seed: 0 NOP, 1 PAUSE 30, 2 STOP, 3 FAILOVER, 10 PAUSE 60.
SEED_ACTIONS = {0: "NOP", 1: "PAUSE 30", 2: "STOP", 3: "FAILOVER", 10: "PAUSE 60"}
RESTARTING = {0: "NOP", 1: "RESTART"}


def result(rc: int) -> CheckResult:
    return CheckResult(rc=rc, detail=f"saw rc {rc}")


def run(
    spec: MonitorBase, events: Sequence[tuple[float, int]], state: MonitorState | None = None
) -> tuple[MonitorState, list[MonitorVerdict]]:
    """Feed (minutes after T0, rc) pairs through `step`; the final state and every verdict."""
    state = state or MonitorState()
    verdicts = []
    for minute, rc in events:
        state, verdict = step(state, spec, result(rc), T0 + timedelta(minutes=minute))
        verdicts.append(verdict)
    return state, verdicts


def fsmon(**fields: Any) -> MonitorBase:
    return monitor(type="fsmon", **fields)


# Events as "minute:rc ..." and the verdicts expected as letters: None, Pause, Stop, Failover, Restart.
TABLE = [
    ("healthy is NOP", SEED_ACTIONS, "0:0 1:0", "NN"),
    ("STOP", SEED_ACTIONS, "0:2", "S"),
    ("FAILOVER", SEED_ACTIONS, "0:3", "F"),
    ("unlisted rc is NOP", SEED_ACTIONS, "0:7 1:255", "NN"),
    ("PAUSE suppresses within its window", SEED_ACTIONS, "0:1 0.25:3 0.4:2", "PNN"),
    ("PAUSE over: acted on again", SEED_ACTIONS, "0:1 0.25:3 0.5:3", "PNF"),
    ("a longer PAUSE", SEED_ACTIONS, "0:10 0.9:3 1:3", "PNF"),
    ("the default actions", None, "0:0 1:1 2:2", "NFN"),
    ("RESTART up to the limit", RESTARTING, "0:1 1:1 2:1", "RRR"),
    ("then FAILOVER", RESTARTING, "0:1 1:1 2:1 3:1", "RRRF"),
    ("healthy between does not reset", RESTARTING, "0:1 1:0 2:1 3:1 4:1", "RNRRF"),
    ("expiry forgets old restarts", RESTARTING, "0:1 4:1 8:1 11:1 15:1", "RRRRR"),
    ("exactly the expiry is forgotten", RESTARTING, "0:1 1:1 2:1 10:1", "RRRR"),
    ("just inside the expiry is not", RESTARTING, "0:1 1:1 2:1 9.9:1", "RRRF"),
]
LETTERS = {"N": NONE, "P": PAUSE, "S": STOP, "F": FAILOVER, "R": RESTART}


def events_of(text: str) -> list[tuple[float, int]]:
    return [(float(minute), int(rc)) for minute, rc in (e.split(":") for e in text.split())]


@pytest.mark.parametrize(
    ("actions", "events", "expected"), [row[1:] for row in TABLE], ids=[row[0] for row in TABLE]
)
def test_policy_table(actions: dict[int, str] | None, events: str, expected: str) -> None:
    spec = fsmon(actions=actions) if actions is not None else fsmon()
    _, verdicts = run(spec, events_of(events))
    assert [v.kind for v in verdicts] == [LETTERS[letter] for letter in expected]


def test_restart_limit_reason_names_limit_and_window() -> None:
    _, verdicts = run(fsmon(actions=RESTARTING), [(0, 1), (1, 1), (2, 1), (3, 1)])
    assert verdicts[1].reason == "rc 1: RESTART (2 of 3 within 10m)"
    assert verdicts[3].reason.endswith("restart limit 3 reached within 10m: failing over")


def test_restart_limit_zero_fails_over_at_once() -> None:
    _, verdicts = run(fsmon(actions=RESTARTING, restartLimit=0), [(0, 1)])
    assert verdicts[0].kind is FAILOVER


def test_flapping_never_restarts_forever() -> None:
    # Failing every interval for an hour: at most restartLimit restarts, then failovers only.
    spec = fsmon(actions=RESTARTING, restartLimit=2, failureExpiry="5m")
    _, verdicts = run(spec, [(i / 6, 1) for i in range(360)])
    kinds = [v.kind for v in verdicts]
    assert kinds[:3] == [RESTART, RESTART, FAILOVER]
    # The window moves on, so a restart is allowed again only after 5 minutes without one.
    assert kinds.count(RESTART) <= 2 * (60 // 5 + 1)
    assert FAILOVER in kinds[-30:]


def test_pause_sets_until_and_is_recorded() -> None:
    state, verdicts = run(fsmon(actions=SEED_ACTIONS), [(0, 1), (0.25, 3)])
    assert verdicts[0].until == T0 + timedelta(seconds=30)
    assert verdicts[0].reason.startswith("rc 1: PAUSE 30s")
    assert "not acted on" in verdicts[1].reason
    assert state.last_result == result(3)  # recorded while paused
    assert state.consecutive_failures == 2
    assert state.paused_until == T0 + timedelta(seconds=30)


def test_pause_ends_and_clears() -> None:
    state, _ = run(fsmon(actions=SEED_ACTIONS), [(0, 1), (1, 0)])
    assert state.paused_until is None


def test_unlisted_reason() -> None:
    _, verdicts = run(fsmon(actions=SEED_ACTIONS), [(0, 7)])
    assert verdicts[0].reason == "rc 7 is not listed in actions: NOP"


def test_state_records_failures_and_changes() -> None:
    state, _ = run(fsmon(actions=SEED_ACTIONS), [(0, 0), (1, 7), (2, 7), (3, 0)])
    assert state.consecutive_failures == 0
    assert state.failures == (T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))
    assert state.last_change == T0 + timedelta(minutes=3)
    state, _ = run(fsmon(actions=SEED_ACTIONS), [(4, 7), (5, 7)], state)
    assert state.consecutive_failures == 2
    assert state.last_change == T0 + timedelta(minutes=4)  # the rc did not change at minute 5


def test_step_is_pure() -> None:
    spec = fsmon(actions=RESTARTING)
    start = MonitorState()
    first = step(start, spec, result(1), T0)
    assert step(start, spec, result(1), T0) == first
    assert start == MonitorState()


def test_failure_count_counts_within_expiry_at_now() -> None:
    a = fsmon(name="fs", actions=RESTARTING)
    b = monitor(type="process", name="proc", process="httpd", failureExpiry="1h", actions=SEED_ACTIONS)
    fs_state, _ = run(a, [(0, 1), (1, 1), (2, 0)])
    proc_state, _ = run(b, [(0, 1), (30, 0), (59.9, 1)])
    states = {"fs": fs_state, "proc": proc_state}
    late = failure_count("xapache", [a, b], states, T0 + timedelta(minutes=60))
    assert late == FailureCount(app="xapache", failures=1, restarts=0, failing=("proc",), paused=("proc",))
    early = failure_count("xapache", [a], {"fs": fs_state}, T0 + timedelta(minutes=5))
    assert (early.failures, early.restarts, early.failing) == (2, 2, ())


def test_failure_count_ignores_monitors_without_state() -> None:
    count = failure_count("xapache", [fsmon()], {}, T0)
    assert count == FailureCount(app="xapache", failures=0, restarts=0, failing=(), paused=())
