"""Start readiness with a fake clock: every wait is simulated, so the outcome is certain."""

import socket
from collections.abc import Iterator
from datetime import timedelta

import pytest

from reconciler.monitor.checks import CheckContext
from reconciler.monitor.judge import CheckResult, failed, healthy
from reconciler.monitor.readiness import Check, readiness_checks, wait_ready
from reconciler.observe.runner import SubprocessRunner
from tests.monitor.helpers import spec_with


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def ready_after(attempts: int, detail: str = "10.0.0.5:80 refused") -> Check:
    """A check failing `attempts - 1` times, then passing."""
    calls = [0]

    def check() -> CheckResult:
        calls[0] += 1
        return healthy("ok") if calls[0] >= attempts else failed(f"{detail} ({calls[0]})")

    return check


def test_ready_at_once_does_not_sleep() -> None:
    clock = FakeClock()
    result = wait_ready([ready_after(1)], clock.now + 60, clock, clock.sleep)
    assert (result.ready, result.attempts, result.waited, result.last_failure) == (
        True,
        1,
        timedelta(0),
        None,
    )
    assert clock.sleeps == []


def test_ready_on_the_third_attempt() -> None:
    clock = FakeClock()
    result = wait_ready([ready_after(1), ready_after(3)], clock.now + 60, clock, clock.sleep, poll=2.0)
    assert (result.ready, result.attempts, result.waited) == (True, 3, timedelta(seconds=4))
    assert clock.sleeps == [2.0, 2.0]


def test_never_ready_reports_attempts_and_the_last_failure() -> None:
    clock = FakeClock()
    result = wait_ready([ready_after(1000)], clock.now + 5, clock, clock.sleep, poll=2.0)
    assert result.ready is False
    assert result.attempts == 4  # at 0, 2 and 4 s, then at the deadline
    assert clock.sleeps == [2.0, 2.0, 1.0]  # the last wait is cut short to end at the deadline
    assert result.waited == timedelta(seconds=5)
    assert result.last_failure == "10.0.0.5:80 refused (4)"


def test_checks_run_in_order_until_one_fails() -> None:
    clock = FakeClock()
    second_calls = [0]

    def second() -> CheckResult:
        second_calls[0] += 1
        return healthy("ok")

    result = wait_ready([ready_after(2, "no ping"), second], clock.now + 60, clock, clock.sleep)
    assert result.ready is True
    assert second_calls[0] == 1  # not run while the first still failed


def test_a_past_deadline_still_tries_once() -> None:
    clock = FakeClock()
    result = wait_ready([ready_after(2)], clock.now - 1, clock, clock.sleep)
    assert (result.ready, result.attempts) == (False, 1)


@pytest.fixture
def listening() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        yield server.getsockname()[1]


def test_the_declared_readiness_check_against_a_real_socket(listening: int) -> None:
    start = {
        "timeout": "600s",
        "readiness": {"name": "http", "type": "tcp", "address": "127.0.0.1", "port": listening},
    }
    spec = spec_with(start=start)
    context = CheckContext(runner=SubprocessRunner(), app="xapache", spec=spec)
    checks = readiness_checks(spec.start.readiness, context)
    clock = FakeClock()
    result = wait_ready(checks, clock.now + 10, clock, clock.sleep)
    assert (result.ready, result.attempts) == (True, 1)


def test_no_readiness_declared_is_ready_at_once() -> None:
    spec = spec_with()
    context = CheckContext(runner=SubprocessRunner(), app="xapache", spec=spec)
    clock = FakeClock()
    assert wait_ready(readiness_checks(None, context), clock.now, clock, clock.sleep).ready is True
