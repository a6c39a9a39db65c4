"""Whether a probe holds: its exit status, stderr and stdout tests, and TCP probes through the host.

`judge` is pure: it sorts a result already obtained into one of three answers. The state holds,
it does not hold, or the probe could not tell: the program is missing, it timed out, or it
exited with a status that is neither of its answers (drbdadm's 10 for a resource file it cannot
parse is not dump-md's 255 for "no metadata"). `holds` is the first answer alone.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

from reconciler.core.plan.model import Expect, Probe, StdoutTest, TcpProbe
from reconciler.execute.host import Host
from reconciler.observe.runner import CommandResult, Outcome

TCP = "<tcp>"
TAIL_LINES = 3


class ProbeVerdict(StrEnum):
    HOLDS = "holds"
    DOES_NOT_HOLD = "does-not-hold"
    NO_ANSWER = "no-answer"


@dataclass(frozen=True)
class ProbeAnswer:
    """One evaluation of a probe: its verdict, and what it printed (for messages, journal)."""

    verdict: ProbeVerdict
    result: CommandResult

    @property
    def holds(self) -> bool:
        return self.verdict is ProbeVerdict.HOLDS


def judge(probe: Probe, result: CommandResult) -> ProbeVerdict:
    """Holds, does not hold, or no answer (see `Probe`)."""
    ran = result.outcome in (Outcome.OK, Outcome.FAILED) and result.returncode is not None
    if not ran or result.returncode is None:
        return ProbeVerdict.NO_ANSWER
    code = result.returncode
    if not stderr_holds(probe, code, result.stderr):
        return ProbeVerdict.NO_ANSWER
    if exit_answers(probe, code, holding=True):
        return ProbeVerdict.HOLDS if stdout_holds(probe, result.stdout) else ProbeVerdict.DOES_NOT_HOLD
    if exit_answers(probe, code, holding=False):
        return ProbeVerdict.DOES_NOT_HOLD
    return ProbeVerdict.NO_ANSWER


def holds(probe: Probe, result: CommandResult) -> bool:
    return judge(probe, result) is ProbeVerdict.HOLDS


def exit_answers(probe: Probe, code: int, holding: bool) -> bool:
    """Whether exit status `code` means "holds" (`holding`) or "does not hold"."""
    if probe.holds:
        return code in (probe.holds if holding else probe.fails)
    wanted = {Expect.ZERO: 0, Expect.NONZERO: 0, Expect.NOT_CODE: probe.code}[probe.expect]
    is_wanted = code == wanted
    return is_wanted if (probe.expect is Expect.ZERO) == holding else not is_wanted


def stderr_holds(probe: Probe, code: int, stderr: str) -> bool:
    """A status with a `stderr` test answers only when its stderr passes the test."""
    text = stderr.strip()
    return all(re.search(t.pattern, text) is not None for t in probe.stderr if t.code == code)


def stdout_holds(probe: Probe, stdout: str) -> bool:
    text = stdout.strip()
    if probe.stdout is StdoutTest.EMPTY:
        return not text
    if probe.stdout is StdoutTest.NONEMPTY:
        return bool(text)
    if probe.stdout is StdoutTest.MATCHES:
        return re.fullmatch(probe.text, text) is not None
    return True


def pattern_problem(probe: Probe | TcpProbe) -> str | None:
    """Why one of the probe's regular expressions cannot be used, or None (checked before a plan runs)."""
    if not isinstance(probe, Probe):
        return None
    patterns = [t.pattern for t in probe.stderr]
    if probe.stdout is StdoutTest.MATCHES:
        patterns.append(probe.text)
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as err:
            return f"{pattern!r} is not a valid regular expression ({err})"
    return None


def evaluate(probe: Probe | TcpProbe, host: Host, timeout: float) -> ProbeAnswer:
    """Run the probe once on the host."""
    if isinstance(probe, TcpProbe):
        return evaluate_tcp(probe, host, timeout)
    result = host.run(probe.argv, timeout)
    return ProbeAnswer(judge(probe, result), result)


def evaluate_tcp(probe: TcpProbe, host: Host, timeout: float) -> ProbeAnswer:
    """A TCP probe as a command result: `("<tcp>", "address:port")`, OK when it connected."""
    start = host.monotonic()
    connected = host.tcp_connect(probe.address, probe.port, timeout)
    seconds = host.monotonic() - start
    argv = (TCP, endpoint(probe))
    if connected:
        answer = CommandResult(argv=argv, outcome=Outcome.OK, returncode=0, seconds=seconds)
        return ProbeAnswer(ProbeVerdict.HOLDS, answer)
    failed = CommandResult(
        argv=argv,
        outcome=Outcome.FAILED,
        returncode=1,
        stderr=f"no TCP connection to {endpoint(probe)} within {timeout:g} s",
        seconds=seconds,
    )
    return ProbeAnswer(ProbeVerdict.DOES_NOT_HOLD, failed)


def endpoint(probe: TcpProbe) -> str:
    return f"[{probe.address}]:{probe.port}" if ":" in probe.address else f"{probe.address}:{probe.port}"


def describe(probe: Probe | TcpProbe) -> str:
    """`'drbdadm role r0' exits 0 with output matching 'Primary(/\\S+)*'`, for messages."""
    if isinstance(probe, TcpProbe):
        return f"a TCP connection to {endpoint(probe)}"
    command = "'" + " ".join(probe.argv) + "'"
    if probe.holds:
        status = "exits " + " or ".join(str(code) for code in probe.holds)
    elif probe.expect is Expect.NOT_CODE:
        status = f"exits other than {probe.code}"
    else:
        status = "exits 0" if probe.expect is Expect.ZERO else "exits non-zero"
    output = {
        StdoutTest.ANY: "",
        StdoutTest.EMPTY: " with no output",
        StdoutTest.NONEMPTY: " with some output",
        StdoutTest.MATCHES: f" with output matching '{probe.text}'",
    }[probe.stdout]
    return f"{command} {status}{output}"


def unanswered(probe: Probe | TcpProbe, result: CommandResult) -> str:
    """Why a probe gave no answer, in the tool's own words (its last lines of stderr)."""
    if result.outcome not in (Outcome.OK, Outcome.FAILED) or result.returncode is None:
        return result.describe()
    errors = [line.strip() for line in result.stderr.strip().splitlines()[-TAIL_LINES:] if line.strip()]
    said = ": " + " | ".join(errors) if errors else ""
    answers = ""
    if isinstance(probe, Probe) and probe.holds:
        answers = f" (its answers: {', '.join(str(c) for c in (*probe.holds, *probe.fails))})"
    return f"'{' '.join(result.argv)}' exited {result.returncode}, which is no answer{answers}{said}"


def seen(result: CommandResult) -> str:
    """What a probe that did not hold showed: its last lines of stdout, else why it did not run."""
    if result.outcome not in (Outcome.OK, Outcome.FAILED):
        return result.describe()
    lines = [line.strip() for line in result.stdout.strip().splitlines()[-TAIL_LINES:]]
    errors = result.stderr.strip().splitlines()[-1:]
    shown = " | ".join(lines) if lines else (errors[0] if errors else "no output")
    return shown if result.returncode == 0 else f"{shown} (exit {result.returncode})"
