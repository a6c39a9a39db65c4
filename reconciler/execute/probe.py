"""Whether a probe holds: its exit status and stdout tests, and TCP probes through the host.

`holds` is pure: it judges a result already obtained. A probe that could not run (the program is
missing, it timed out, it could not start) proves nothing, so it holds for neither expectation:
"`mountpoint` exited non-zero" means not mounted, "`mountpoint` is missing" means nothing.
"""

import re
from dataclasses import dataclass

from reconciler.core.plan.model import Expect, Probe, StdoutTest, TcpProbe
from reconciler.execute.host import Host
from reconciler.observe.runner import CommandResult, Outcome

TCP = "<tcp>"
TAIL_LINES = 3


@dataclass(frozen=True)
class Answer:
    """One evaluation of a probe: whether it held, and what it printed (for messages, journal)."""

    holds: bool
    result: CommandResult


def holds(probe: Probe, result: CommandResult) -> bool:
    return exit_holds(probe.expect, result, probe.code) and stdout_holds(probe, result.stdout)


def exit_holds(expect: Expect, result: CommandResult, code: int = 0) -> bool:
    if expect is Expect.ZERO:
        return result.outcome is Outcome.OK and result.returncode == 0
    # It ran and said no. Runners report a non-zero exit as FAILED; OK with a non-zero code
    # does not happen with SubprocessRunner but would still be a real answer.
    ran = result.outcome in (Outcome.OK, Outcome.FAILED) and result.returncode is not None
    if expect is Expect.NOT_CODE:
        return ran and result.returncode != code
    return ran and result.returncode != 0


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
    """Why the probe's regular expression cannot be used, or None (checked before a plan runs)."""
    if not isinstance(probe, Probe) or probe.stdout is not StdoutTest.MATCHES:
        return None
    try:
        re.compile(probe.text)
    except re.error as err:
        return f"{probe.text!r} is not a valid regular expression ({err})"
    return None


def evaluate(probe: Probe | TcpProbe, host: Host, timeout: float) -> Answer:
    """Run the probe once on the host."""
    if isinstance(probe, TcpProbe):
        return evaluate_tcp(probe, host, timeout)
    result = host.run(probe.argv, timeout)
    return Answer(holds(probe, result), result)


def evaluate_tcp(probe: TcpProbe, host: Host, timeout: float) -> Answer:
    """A TCP probe as a command result: `("<tcp>", "address:port")`, OK when it connected."""
    start = host.monotonic()
    connected = host.tcp_connect(probe.address, probe.port, timeout)
    seconds = host.monotonic() - start
    argv = (TCP, endpoint(probe))
    if connected:
        return Answer(True, CommandResult(argv=argv, outcome=Outcome.OK, returncode=0, seconds=seconds))
    failed = CommandResult(
        argv=argv,
        outcome=Outcome.FAILED,
        returncode=1,
        stderr=f"no TCP connection to {endpoint(probe)} within {timeout:g} s",
        seconds=seconds,
    )
    return Answer(False, failed)


def endpoint(probe: TcpProbe) -> str:
    return f"[{probe.address}]:{probe.port}" if ":" in probe.address else f"{probe.address}:{probe.port}"


def describe(probe: Probe | TcpProbe) -> str:
    """`'drbdadm role r0' exits 0 with output matching 'Primary(/\\S+)*'`, for messages."""
    if isinstance(probe, TcpProbe):
        return f"a TCP connection to {endpoint(probe)}"
    command = "'" + " ".join(probe.argv) + "'"
    status = "exits 0" if probe.expect is Expect.ZERO else "exits non-zero"
    output = {
        StdoutTest.ANY: "",
        StdoutTest.EMPTY: " with no output",
        StdoutTest.NONEMPTY: " with some output",
        StdoutTest.MATCHES: f" with output matching '{probe.text}'",
    }[probe.stdout]
    return f"{command} {status}{output}"


def seen(result: CommandResult) -> str:
    """What a probe that did not hold showed: its last lines of stdout, else why it did not run."""
    if result.outcome not in (Outcome.OK, Outcome.FAILED):
        return result.describe()
    lines = [line.strip() for line in result.stdout.strip().splitlines()[-TAIL_LINES:]]
    errors = result.stderr.strip().splitlines()[-1:]
    shown = " | ".join(lines) if lines else (errors[0] if errors else "no output")
    return shown if result.returncode == 0 else f"{shown} (exit {result.returncode})"
