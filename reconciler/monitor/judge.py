"""The pure half of the checks: what an observation or a measurement means for an application.

Nothing here starts a process, opens a socket or reads a file; the functions take what the observer
saw (the mount table, the domain list, a command's result, memory percentages) and say healthy or
failed, with a one-line detail of what was seen. `checks` does the looking and calls these.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel, ConfigDict

from reconciler.manifest.units import format_duration
from reconciler.observe.mounts import Mount, MountTable
from reconciler.observe.runner import CommandResult, Outcome
from reconciler.observe.state import DomainState
from reconciler.observe.xen import DomainStateFlag, XenDomain

HEALTHY = 0
FAILED = 1
# A program that cannot be found or started gets the shell's codes, as it did under lems (whose
# checks ran through a shell): 127 and 126 can be listed in `actions` like any other code.
NOT_FOUND = 127
CANNOT_RUN = 126
SIGNALLED = 128  # the shell's 128 + n for a program killed by signal n

# A domain is running while it is on a CPU (r), waiting for an event (b), or neither at the instant
# of the listing ("------": runnable, waiting for a CPU; see xm-list-man-example.txt).
_RUNNING_FLAGS = frozenset({DomainStateFlag.RUNNING, DomainStateFlag.BLOCKED})
_FLAG_WORDS = {
    DomainStateFlag.RUNNING: "running",
    DomainStateFlag.BLOCKED: "blocked",
    DomainStateFlag.PAUSED: "paused",
    DomainStateFlag.SHUTDOWN: "shutdown",
    DomainStateFlag.CRASHED: "crashed",
    DomainStateFlag.DYING: "dying",
    DomainStateFlag.UNRECOGNISED: "not recognised",
}


class CheckResult(BaseModel):
    """One run of one check: `rc` is what the monitor's `actions` are looked up with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rc: int
    detail: str
    duration: timedelta = timedelta(0)

    @property
    def healthy(self) -> bool:
        return self.rc == HEALTHY


def healthy(detail: str, duration: timedelta = timedelta(0)) -> CheckResult:
    return CheckResult(rc=HEALTHY, detail=detail, duration=duration)


def failed(detail: str, duration: timedelta = timedelta(0)) -> CheckResult:
    return CheckResult(rc=FAILED, detail=detail, duration=duration)


# --- filesystems -------------------------------------------------------------------------------


def visible_mount(table: MountTable, mount_point: str) -> Mount | None:
    """The mount a process sees at `mount_point`: the last one there (mountinfo is in mount order,
    so a later mount on the same point hides the earlier ones)."""
    return next((m for m in reversed(table.mounts) if m.mount_point == mount_point), None)


def is_read_only(mount: Mount) -> bool:
    # Either level makes writes fail: the mount (`mount -o ro`) or the superblock (ext3's
    # errors=remount-ro after an I/O error, which leaves the per-mount flag rw).
    return "ro" in mount.options or "ro" in mount.super_options


def judge_mounts(mount_points: Sequence[str], table: MountTable) -> CheckResult:
    """Every mount point mounted, and not read-only. All problems are reported, not the first."""
    if not mount_points:
        return healthy("the application declares no filesystems")
    problems: list[str] = []
    seen: list[str] = []
    for point in mount_points:
        mount = visible_mount(table, point)
        if mount is None:
            problems.append(f"{point} is not mounted")
        elif is_read_only(mount):
            problems.append(f"{point} is mounted read-only ({mount.fstype} from {mount.source})")
        else:
            seen.append(f"{point} ({mount.fstype} from {mount.source})")
    if problems:
        return failed("; ".join(problems))
    return healthy("mounted: " + ", ".join(seen))


# --- domains -----------------------------------------------------------------------------------


def _describe(domain: XenDomain) -> str:
    words = [_FLAG_WORDS[f] for f in domain.state] or ["runnable"]
    return f"{domain.raw_state} ({', '.join(words)})"


def domain_is_running(domain: XenDomain) -> bool:
    """Running or blocked, and nothing else. Paused serves nothing; shutdown, crashed and dying are
    on their way out; a state the parser did not recognise is never taken for running."""
    return domain.id is not None and set(domain.state) <= _RUNNING_FLAGS


def judge_domain(name: str, listing: DomainState) -> CheckResult:
    command = f"`{listing.toolstack} list`"
    rows = [d for d in listing.domains if d.name == name]
    if not rows:
        return failed(f"{name}: not in {command}")
    # xl can list a dying domain beside its restarted successor under the same name: one that runs
    # is enough.
    running = next((d for d in rows if domain_is_running(d)), None)
    if running is not None:
        return healthy(f"{name}: {_describe(running)} in {command}")
    row = rows[0]
    if row.id is None:
        return failed(f"{name}: defined in xend but not running (no ID in {command})")
    return failed(f"{name}: {_describe(row)} in {command}")


# --- processes and memory ----------------------------------------------------------------------


def judge_process(name: str, running: Iterable[str]) -> CheckResult:
    if name in set(running):
        return healthy(f"process {name!r} is running")
    return failed(f"process {name!r} is not running")


@dataclass(frozen=True)
class MemoryUsage:
    """Percentages as psutil computes them: memory is (total - available) / total."""

    memory_percent: float
    swap_percent: float


def judge_memory(usage: MemoryUsage, max_memory_percent: float, max_swap_percent: float) -> CheckResult:
    """Failed when either is over its maximum; at the maximum exactly is still healthy."""
    seen = f"memory {usage.memory_percent:.1f}% (max {max_memory_percent:g}%), "
    seen += f"swap {usage.swap_percent:.1f}% (max {max_swap_percent:g}%)"
    over = usage.memory_percent > max_memory_percent or usage.swap_percent > max_swap_percent
    return failed(f"over: {seen}") if over else healthy(seen)


# --- commands ----------------------------------------------------------------------------------


def command_rc(result: CommandResult) -> int:
    """The exit code a check reports for a runner's result.

    A timeout is 1, a plain failure: lems treated a check that hung as one that failed, and a hang
    is what a stuck NFS mount or a frozen guest looks like from outside.
    """
    match result.outcome:
        case Outcome.OK:
            return HEALTHY
        case Outcome.FAILED:
            code = result.returncode if result.returncode is not None else FAILED
            return SIGNALLED - code if code < 0 else code  # Popen reports signal n as -n
        case Outcome.TIMEOUT:
            return FAILED
        case Outcome.MISSING:
            return NOT_FOUND
        case Outcome.ERROR:
            return CANNOT_RUN


def _last_line(result: CommandResult) -> str:
    for stream in (result.stderr, result.stdout):
        lines = stream.strip().splitlines()
        if lines:
            return lines[-1].strip()
    return ""


def judge_command(result: CommandResult, timeout: timedelta) -> CheckResult:
    """`'/usr/bin/check' exit 3: disk full` — the command, its code, its last line of output."""
    command = " ".join(result.argv)
    rc = command_rc(result)
    duration = timedelta(seconds=result.seconds)
    if result.outcome is Outcome.TIMEOUT:
        return CheckResult(
            rc=rc, detail=f"'{command}' timed out after {format_duration(timeout)}", duration=duration
        )
    if result.outcome is Outcome.MISSING:
        detail = f"'{command}': program not found"
    elif result.outcome is Outcome.ERROR:
        detail = f"'{command}' could not be started"
    else:
        detail = f"'{command}' exit {rc}"
    tail = _last_line(result)
    return CheckResult(rc=rc, detail=f"{detail}: {tail}" if tail else detail, duration=duration)
