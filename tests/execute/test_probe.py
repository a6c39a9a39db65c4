"""`holds`: the truth table of exit expectations and stdout tests; a probe that could not run
proves nothing either way."""

import pytest

from reconciler.core.plan.model import Expect, StdoutTest, TcpProbe
from reconciler.execute.probe import describe, evaluate, holds, seen
from reconciler.observe.runner import CommandResult, Outcome
from tests.execute.fakes import ScriptedHost, probe


def result(outcome: Outcome, code: int | None, stdout: str = "") -> CommandResult:
    return CommandResult(argv=("x",), outcome=outcome, returncode=code, stdout=stdout)


OK = result(Outcome.OK, 0)
FAILED = result(Outcome.FAILED, 1)
MISSING = result(Outcome.MISSING, None)
TIMEOUT = result(Outcome.TIMEOUT, None)
ERROR = result(Outcome.ERROR, None)


@pytest.mark.parametrize(
    ("given", "zero", "nonzero"),
    [
        (OK, True, False),
        (FAILED, False, True),
        (MISSING, False, False),
        (TIMEOUT, False, False),
        (ERROR, False, False),
    ],
)
def test_exit_expectations(given: CommandResult, zero: bool, nonzero: bool) -> None:
    assert holds(probe("x", expect=Expect.ZERO), given) is zero
    assert holds(probe("x", expect=Expect.NONZERO), given) is nonzero


def test_a_timed_out_probe_holds_for_no_stdout_test_either() -> None:
    stuck = CommandResult(argv=("x",), outcome=Outcome.TIMEOUT, stdout="")
    for test in StdoutTest:
        for expect in Expect:
            assert not holds(probe("x", expect=expect, stdout=test, text=".*"), stuck)


@pytest.mark.parametrize(
    ("test", "text", "stdout", "expected"),
    [
        (StdoutTest.ANY, "", "", True),
        (StdoutTest.ANY, "", "whatever", True),
        (StdoutTest.EMPTY, "", "", True),
        (StdoutTest.EMPTY, "", "  \n\n", True),
        (StdoutTest.EMPTY, "", "2: eth0 inet 10.0.0.1/24\n", False),
        (StdoutTest.NONEMPTY, "", "2: eth0 inet 10.0.0.1/24\n", True),
        (StdoutTest.NONEMPTY, "", " \n", False),
        (StdoutTest.MATCHES, r"Primary(/\S+)*", "Primary/Secondary\n", True),
        (StdoutTest.MATCHES, r"Primary(/\S+)*", "Secondary/Primary\n", False),  # fullmatch, not search
        (StdoutTest.MATCHES, r"Primary", "Primary/Secondary", False),
        (StdoutTest.MATCHES, r"UpToDate(/UpToDate)+", "  UpToDate/UpToDate  \n", True),
        (StdoutTest.MATCHES, r"/dev/drbd0", "/dev/drbd0\n", True),
    ],
)
def test_stdout_tests(test: StdoutTest, text: str, stdout: str, expected: bool) -> None:
    assert holds(probe("x", stdout=test, text=text), result(Outcome.OK, 0, stdout)) is expected


def test_stdout_is_judged_only_with_the_right_exit() -> None:
    p = probe("x", expect=Expect.NONZERO, stdout=StdoutTest.EMPTY)
    assert holds(p, result(Outcome.FAILED, 32, ""))
    assert not holds(p, result(Outcome.FAILED, 32, "mounted"))
    assert not holds(p, result(Outcome.OK, 0, ""))


def test_tcp_probe_through_the_host() -> None:
    host = ScriptedHost(listening={("10.0.0.5", 80)})
    up = evaluate(TcpProbe(address="10.0.0.5", port=80), host, 2)
    down = evaluate(TcpProbe(address="10.0.0.5", port=81), host, 2)
    assert (up.holds, up.result.argv) == (True, ("<tcp>", "10.0.0.5:80"))
    assert (down.holds, down.result.outcome) == (False, Outcome.FAILED)
    assert seen(down.result) == "no TCP connection to 10.0.0.5:81 within 2 s (exit 1)"
    assert describe(TcpProbe(address="fd00::1", port=443)) == "a TCP connection to [fd00::1]:443"


def test_descriptions() -> None:
    assert (
        describe(probe("mountpoint", "-q", "/srv", expect=Expect.NONZERO))
        == "'mountpoint -q /srv' exits non-zero"
    )
    assert describe(probe("ip", "addr", stdout=StdoutTest.EMPTY)) == "'ip addr' exits 0 with no output"
    assert seen(result(Outcome.OK, 0, "a\nb\nc\nd\n")) == "b | c | d"
    assert seen(MISSING) == "'x' not found"
