"""The built-in checks, one function each, and `run_check` choosing one by the monitor's type.

Each check looks (through the Runner, a socket, psutil or a probe file) and hands what it saw to
the pure functions of `judge`; fsmon and domain look at the observation of the pass instead of
running a command of their own (DESIGN.md: one observation per tool per pass). A check never
raises for a failure of what it checks: that is its result, with the rc its `actions` map.

The rc of a check is 0 healthy and 1 failed; ping and command checks return the program's own exit
code (a hang is 1; a program not found 127, not startable 126; see `judge.command_rc`).
"""

import math
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import assert_never

import psutil

from reconciler.manifest.application import ApplicationSpec
from reconciler.manifest.cluster import IPAddress
from reconciler.manifest.domain import Toolstack
from reconciler.manifest.monitor import (
    CommandMonitor,
    DomainMonitor,
    FilesystemMonitor,
    MemoryMonitor,
    Monitor,
    PingMonitor,
    ProcessMonitor,
    TcpMonitor,
)
from reconciler.manifest.units import format_duration
from reconciler.monitor.judge import (
    FAILED,
    CheckResult,
    MemoryUsage,
    failed,
    healthy,
    judge_command,
    judge_domain,
    judge_memory,
    judge_mounts,
    judge_process,
)
from reconciler.monitor.probe import WriteProber
from reconciler.observe.mounts import MountTable
from reconciler.observe.runner import Outcome, Runner
from reconciler.observe.state import DomainState, Observed, Section

__all__ = [
    "CheckContext",
    "CheckResult",
    "check_command",
    "check_domain",
    "check_fsmon",
    "check_memory",
    "check_ping",
    "check_process",
    "check_tcp",
    "run_check",
]

# ping's -W is its own wait for the reply; the runner's timeout is a backstop above it, so that the
# rc is ping's ("no reply", 1) and not the runner's kill.
PING_GRACE = 2.0


def running_process_names() -> frozenset[str]:
    # process_iter with attrs skips processes that exit meanwhile and gives None for ones we may
    # not read, instead of raising.
    names = (p.info.get("name") for p in psutil.process_iter(["name"]))
    return frozenset(n for n in names if isinstance(n, str) and n)


def memory_usage() -> MemoryUsage:
    return MemoryUsage(
        memory_percent=float(psutil.virtual_memory().percent),
        swap_percent=float(psutil.swap_memory().percent),
    )


def _unobserved() -> dict[Section, str]:
    return {}


@dataclass(frozen=True)
class CheckContext:
    """What a check may use: the runner, this pass's observation, the application's spec.

    `mounts` and `domains` are the node's tables (None when the observer could not read them, with
    the reason in `unobserved`); the checks pick the application's entries from them.
    """

    runner: Runner
    app: str
    spec: ApplicationSpec
    mounts: MountTable | None = None
    domains: DomainState | None = None
    unobserved: Mapping[Section, str] = field(default_factory=_unobserved)
    # One prober for the agent's lifetime, shared by every pass: it remembers the probes that hung.
    prober: WriteProber = field(default_factory=WriteProber)
    process_names: Callable[[], frozenset[str]] = running_process_names
    memory_usage: Callable[[], MemoryUsage] = memory_usage

    @classmethod
    def from_observed(
        cls, runner: Runner, app: str, spec: ApplicationSpec, observed: Observed, prober: WriteProber
    ) -> "CheckContext":
        return cls(
            runner=runner,
            app=app,
            spec=spec,
            mounts=observed.mounts,
            domains=observed.domains,
            unobserved={e.section: e.message for e in observed.errors},
            prober=prober,
        )

    def why_unobserved(self, section: Section) -> str:
        return self.unobserved.get(section, "no observation given")


def _since(start: float) -> timedelta:
    return timedelta(seconds=time.monotonic() - start)


def _with_duration(result: CheckResult, start: float) -> CheckResult:
    return result.model_copy(update={"duration": _since(start)})


# --- fsmon -------------------------------------------------------------------------------------


def mount_points(spec: ApplicationSpec) -> tuple[str, ...]:
    return tuple(lv.filesystem.mount_point for lv in spec.storage.logical_volumes if lv.filesystem)


def check_fsmon(monitor: FilesystemMonitor, context: CheckContext) -> CheckResult:
    """Every filesystem mounted (from the observed table), then each one writable (a real write).

    Mounted is checked first and for all of them: writing into an unmounted mount point would only
    test the root filesystem underneath. Each write has the monitor's timeout.
    """
    if context.mounts is None:
        return failed(f"mount table not observed: {context.why_unobserved(Section.MOUNTS)}")
    start = time.monotonic()
    mounted = judge_mounts(mount_points(context.spec), context.mounts)
    if not mounted.healthy:
        return mounted
    for point in mount_points(context.spec):
        written = context.prober.probe(Path(point), monitor.timeout)
        if not written.healthy:
            return _with_duration(written, start)
    return _with_duration(mounted.model_copy(update={"detail": f"{mounted.detail}; writable"}), start)


# --- domain ------------------------------------------------------------------------------------


def check_domain(monitor: DomainMonitor, context: CheckContext) -> CheckResult:
    """Xen: the observed `xm list`/`xl list`. Toolstack `commands`: the domain's status command,
    whose exit code is the check's (0 running)."""
    domain = context.spec.domain
    if domain.toolstack is Toolstack.COMMANDS:
        if domain.status is None:  # the manifest refuses this; kept for the type checker
            return failed(f"{domain.name}: no status command declared")
        result = context.runner.run(domain.status, timeout=monitor.timeout.total_seconds())
        return judge_command(result, monitor.timeout)
    if context.domains is None:
        return failed(f"domain list not observed: {context.why_unobserved(Section.DOMAINS)}")
    return judge_domain(domain.name, context.domains)


# --- ping and tcp ------------------------------------------------------------------------------


def ping_wait(timeout: timedelta) -> int:
    # iputils before 2015 take whole seconds only for -W; rounding up never shortens the wait.
    return max(1, math.ceil(timeout.total_seconds()))


def ping_argv(address: IPAddress, timeout: timedelta) -> tuple[str, ...]:
    return ("ping", "-c", "1", "-W", str(ping_wait(timeout)), str(address))


def check_ping(monitor: PingMonitor, context: CheckContext) -> CheckResult:
    wait = ping_wait(monitor.timeout)
    result = context.runner.run(ping_argv(monitor.address, monitor.timeout), timeout=wait + PING_GRACE)
    duration = timedelta(seconds=result.seconds)
    if result.outcome is Outcome.OK:
        return healthy(f"{monitor.address} answered a ping", duration)
    if result.outcome is Outcome.FAILED and result.returncode == FAILED:
        return failed(f"{monitor.address}: no reply to ping within {wait}s", duration)
    return judge_command(result, timedelta(seconds=wait + PING_GRACE))


def _endpoint(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def tcp_connect(address: str, port: int, timeout: timedelta) -> CheckResult:
    """A full TCP handshake, then close; nothing is sent."""
    where = _endpoint(address, port)
    start = time.monotonic()
    try:
        with socket.create_connection((address, port), timeout=timeout.total_seconds()):
            pass
    except ConnectionRefusedError:
        return failed(f"{where} refused", _since(start))
    except TimeoutError:
        return failed(f"{where}: no answer within {format_duration(timeout)}", _since(start))
    except OSError as err:
        return failed(f"{where}: {err.strerror or err}", _since(start))
    return healthy(f"{where} accepted a connection", _since(start))


def check_tcp(monitor: TcpMonitor, context: CheckContext) -> CheckResult:
    return tcp_connect(str(monitor.address), monitor.port, monitor.timeout)


# --- process and memory ------------------------------------------------------------------------


def check_process(monitor: ProcessMonitor, context: CheckContext) -> CheckResult:
    start = time.monotonic()
    return _with_duration(judge_process(monitor.process, context.process_names()), start)


def check_memory(monitor: MemoryMonitor, context: CheckContext) -> CheckResult:
    start = time.monotonic()
    judged = judge_memory(context.memory_usage(), monitor.max_memory_percent, monitor.max_swap_percent)
    return _with_duration(judged, start)


# --- command -----------------------------------------------------------------------------------


def check_command(monitor: CommandMonitor, context: CheckContext) -> CheckResult:
    """The monitor's argv with its timeout; the rc is the command's, a hang is 1 (as in lems)."""
    result = context.runner.run(monitor.argv, timeout=monitor.timeout.total_seconds())
    return judge_command(result, monitor.timeout)


def run_check(monitor: Monitor, context: CheckContext) -> CheckResult:
    """Run the check the monitor's type names."""
    match monitor:
        case FilesystemMonitor():
            result = check_fsmon(monitor, context)
        case DomainMonitor():
            result = check_domain(monitor, context)
        case PingMonitor():
            result = check_ping(monitor, context)
        case TcpMonitor():
            result = check_tcp(monitor, context)
        case ProcessMonitor():
            result = check_process(monitor, context)
        case MemoryMonitor():
            result = check_memory(monitor, context)
        case CommandMonitor():
            result = check_command(monitor, context)
        case _:
            assert_never(monitor)
    return result
