"""CommandResult constructors for the stand-ins: what a real tool's exit looks like to a Runner."""

from collections.abc import Sequence

from reconciler.observe.runner import CommandResult, Outcome

# lvm2's exit codes (lib/commands/errors.h): ECMD_FAILED, EINVALID_CMD_LINE.
LVM_FAILED = 5
LVM_USAGE = 3
MOUNT_FAILURE = 32  # mount(8), umount(8): "mount failure"
MOUNTPOINT_NOT = 32  # mountpoint(1): not a mountpoint
RTNETLINK = 2  # ip(8): the kernel refused the request


def ok(argv: Sequence[str], stdout: str = "", stderr: str = "") -> CommandResult:
    return CommandResult(argv=tuple(argv), outcome=Outcome.OK, returncode=0, stdout=stdout, stderr=stderr)


def failed(argv: Sequence[str], code: int, stderr: str = "", stdout: str = "") -> CommandResult:
    assert code != 0
    return CommandResult(
        argv=tuple(argv), outcome=Outcome.FAILED, returncode=code, stdout=stdout, stderr=stderr
    )


def exited(argv: Sequence[str], code: int, stdout: str = "", stderr: str = "") -> CommandResult:
    return ok(argv, stdout, stderr) if code == 0 else failed(argv, code, stderr, stdout)


def missing(argv: Sequence[str]) -> CommandResult:
    """The program is not installed on this node."""
    message = f"[Errno 2] No such file or directory: '{argv[0]}'"
    return CommandResult(argv=tuple(argv), outcome=Outcome.MISSING, stderr=message)


def timed_out(argv: Sequence[str], seconds: float, stdout: str = "") -> CommandResult:
    return CommandResult(argv=tuple(argv), outcome=Outcome.TIMEOUT, stdout=stdout, seconds=seconds)


def unsupported(argv: Sequence[str], code: int = 1) -> CommandResult:
    """Arguments the lab does not implement: a failure, never a silent success."""
    return failed(argv, code, f"lab: {argv[0]}: arguments not supported by the lab: {' '.join(argv[1:])}\n")
