"""`judge`: the truth table of exit statuses, stderr and stdout tests; a probe that could not run,
or exited with a status that is none of its answers, proves nothing either way."""

import pytest

from reconciler.core.plan.model import Expect, StdoutTest, TcpProbe
from reconciler.execute.probe import (
    ProbeVerdict,
    describe,
    evaluate,
    holds,
    judge,
    pattern_problem,
    seen,
    unanswered,
)
from reconciler.execute.probe import (
    ProbeVerdict as Verdict,
)
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


# --- three answers: holds, does not hold, no answer -------------------------------------------


def said(outcome: Outcome, code: int | None, stdout: str = "", stderr: str = "") -> CommandResult:
    return CommandResult(argv=("x",), outcome=outcome, returncode=code, stdout=stdout, stderr=stderr)


DUMP_MD = probe(
    "drbdadm", "dump-md", "r0", holds=(0,), fails=(255,), stderr=({"code": 255, "pattern": "No valid meta"},)
)


@pytest.mark.parametrize(
    ("given", "verdict"),
    [
        (said(Outcome.OK, 0, "version v08"), Verdict.HOLDS),
        (said(Outcome.FAILED, 255, stderr="No valid meta data found\n"), Verdict.DOES_NOT_HOLD),
        (
            said(Outcome.FAILED, 255, stderr="open(/dev/x) failed: Permission denied\n"),
            Verdict.NO_ANSWER,
        ),
        (said(Outcome.FAILED, 10, stderr="r0.res:3: Parse error\n"), Verdict.NO_ANSWER),
        (said(Outcome.FAILED, 20), Verdict.NO_ANSWER),
        (MISSING, Verdict.NO_ANSWER),
        (TIMEOUT, Verdict.NO_ANSWER),
        (ERROR, Verdict.NO_ANSWER),
    ],
)
def test_holds_and_fails_name_the_only_answers(given: CommandResult, verdict: ProbeVerdict) -> None:
    assert judge(DUMP_MD, given) is verdict
    assert holds(DUMP_MD, given) is (verdict is Verdict.HOLDS)


def test_stdout_is_tested_on_a_holding_status_only() -> None:
    role = probe("drbdadm", "role", "r0", holds=(0,), fails=(10,), stdout=StdoutTest.MATCHES, text="Primary")
    assert judge(role, said(Outcome.OK, 0, "Primary\n")) is Verdict.HOLDS
    assert judge(role, said(Outcome.OK, 0, "Secondary\n")) is Verdict.DOES_NOT_HOLD
    assert judge(role, said(Outcome.FAILED, 10, "Primary\n")) is Verdict.DOES_NOT_HOLD


def test_a_quiet_status_answers_only_without_stderr() -> None:
    nothing = probe("findmnt", "/srv", holds=(1,), fails=(0,), stderr=({"code": 1, "pattern": r"\A\Z"},))
    assert judge(nothing, said(Outcome.FAILED, 1)) is Verdict.HOLDS
    assert judge(nothing, said(Outcome.FAILED, 1, stderr="  \n")) is Verdict.HOLDS  # stripped
    assert (
        judge(nothing, said(Outcome.FAILED, 1, stderr="findmnt: can't read mountinfo")) is Verdict.NO_ANSWER
    )
    assert judge(nothing, said(Outcome.OK, 0, "/dev/drbd0\n")) is Verdict.DOES_NOT_HOLD


@pytest.mark.parametrize(
    ("expect", "code", "answers"),
    [
        (
            Expect.ZERO,
            0,
            {0: Verdict.HOLDS, 1: Verdict.DOES_NOT_HOLD, 255: Verdict.DOES_NOT_HOLD},
        ),
        (Expect.NONZERO, 0, {0: Verdict.DOES_NOT_HOLD, 1: Verdict.HOLDS, 32: Verdict.HOLDS}),
        (Expect.NOT_CODE, 2, {0: Verdict.HOLDS, 2: Verdict.DOES_NOT_HOLD, 4: Verdict.HOLDS}),
    ],
)
def test_the_short_form_still_answers_for_every_status(
    expect: Expect, code: int, answers: dict[int, ProbeVerdict]
) -> None:
    p = probe("x", expect=expect, code=code)
    for status, verdict in answers.items():
        assert judge(p, said(Outcome.OK if status == 0 else Outcome.FAILED, status)) is verdict
    assert judge(p, MISSING) is Verdict.NO_ANSWER


def test_no_answer_is_told_in_the_tools_words() -> None:
    parse_error = said(
        Outcome.FAILED,
        10,
        stderr="drbd.d/r0.res:7: Parse error: 'disk' expected,\n\tbut got 'dsk'\n",
    ).model_copy(update={"argv": ("drbdadm", "dump-md", "r0")})
    assert unanswered(DUMP_MD, parse_error) == (
        "'drbdadm dump-md r0' exited 10, which is no answer (its answers: 0, 255): "
        "drbd.d/r0.res:7: Parse error: 'disk' expected, | but got 'dsk'"
    )
    assert unanswered(DUMP_MD, MISSING) == "'x' not found"
    assert describe(DUMP_MD) == "'drbdadm dump-md r0' exits 0"
    assert describe(probe("blkid", expect=Expect.NOT_CODE, code=2)) == "'blkid' exits other than 2"


def test_a_bad_stderr_pattern_is_found_before_the_plan_runs() -> None:
    bad = probe("x", holds=(0,), fails=(1,), stderr=({"code": 1, "pattern": "("},))
    problem = pattern_problem(bad)
    assert problem is not None and problem.startswith("'(' is not a valid regular expression")
    assert pattern_problem(DUMP_MD) is None
