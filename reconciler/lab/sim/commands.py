"""The lab's command line: `handle(cluster, node, argv)` answers one argv as the real tool would.

No process is started: each program of the product's vocabulary (observation commands, the
planner's probes and actions, see reconciler/core/plan/*steps.py) has a stand-in function over the
cluster's state. A program the lab does not know is MISSING, as on a host without it; arguments
it does not implement fail, never succeed silently.

Before a command runs, injected faults are applied (`Fault`: fail or hang N times) and the crash
hook is counted (`Crash`: raise `SimCrashed` at the N-th state-changing command, before or after it
takes effect). File reads, file writes and TCP connections go through the same faults, with the
argv ("<read>", path), ("<write>", path) and ("<tcp>", address, port).
"""

import errno
import posixpath
from collections.abc import Callable, Sequence

from reconciler.core.plan.model import FileWrite
from reconciler.lab.sim import drbd_report, reports, tool_drbd, tool_fs, tool_lvm, tool_net, tool_xen
from reconciler.lab.sim.model import SimNode
from reconciler.lab.sim.result import exited, missing, timed_out
from reconciler.lab.sim.state import Cluster, Crash, CrashPoint, Fault, FaultKind
from reconciler.observe.host import PROBE
from reconciler.observe.runner import DEFAULT_TIMEOUT, READ, CommandResult, Outcome

WRITE = "<write>"
TCP = "<tcp>"
PROC_DRBD = "/proc/drbd"
MOUNTINFO = ("/proc/self/mountinfo", "/proc/1/mountinfo")

Handler = Callable[[Cluster, SimNode, tuple[str, ...], float], CommandResult]
TOOLS: dict[str, Handler] = {
    "lvm": tool_lvm.lvm,
    "vgs": tool_lvm.vgs,
    "lvs": tool_lvm.lvs,
    "vgcreate": tool_lvm.vgcreate,
    "vgremove": tool_lvm.vgremove,
    "lvcreate": tool_lvm.lvcreate,
    "lvremove": tool_lvm.lvremove,
    "drbdadm": tool_drbd.drbdadm,
    "drbdsetup": tool_drbd.drbdsetup,
    "mount": tool_fs.mount,
    "umount": tool_fs.umount,
    "findmnt": tool_fs.findmnt,
    "mountpoint": tool_fs.mountpoint,
    "blkid": tool_fs.blkid,
    "fsck": tool_fs.fsck,
    "mkfs": tool_fs.mkfs,
    "mkfs.ext3": tool_fs.mkfs,
    "mkfs.ext4": tool_fs.mkfs,
    "mkfs.xfs": tool_fs.mkfs,
    "mkdir": tool_fs.mkdir,
    "test": tool_fs.test,
    "ip": tool_net.ip,
    "ping": tool_net.ping,
    "xl": tool_xen.xen,
    "xm": tool_xen.xen,
}
# Commands that only look: they never count as actions (for the crash hook and the action log).
READ_ONLY: tuple[tuple[str, ...], ...] = (
    ("lvm", "fullreport"),
    ("vgs",),
    ("lvs",),
    ("drbdsetup", "status"),
    ("drbdadm", "role"),
    ("drbdadm", "dstate"),
    ("drbdadm", "dump-md"),
    ("findmnt",),
    ("blkid",),
    ("mountpoint",),
    ("test",),
    ("ping",),
    ("ip", "-j"),
    ("ip", "-o"),
    ("xl", "list"),
    ("xm", "list"),
    (READ,),
    (TCP,),
    (PROBE,),
)


class SimCrashed(Exception):
    """The crash hook fired: the caller dies here, as an agent killed mid-plan would."""

    def __init__(self, node: str, argv: Sequence[str], point: CrashPoint) -> None:
        super().__init__(f"lab: crashed {point.value} '{' '.join(argv)}' on {node}")
        self.node, self.argv, self.point = node, tuple(argv), point


def changes_state(argv: Sequence[str]) -> bool:
    args = tuple(argv)
    return not any(args[: len(prefix)] == prefix for prefix in READ_ONLY)


def _fault(cluster: Cluster, node: str, argv: tuple[str, ...]) -> Fault | None:
    for fault in cluster.faults:
        if fault.times != 0 and fault.node in (None, node) and argv[: len(fault.argv)] == tuple(fault.argv):
            if fault.times > 0:
                fault.times -= 1
            return fault
    return None


def _faulted(cluster: Cluster, argv: tuple[str, ...], fault: Fault, timeout: float) -> CommandResult:
    if fault.kind is FaultKind.HANG:
        cluster.tick(timeout)
        return timed_out(argv, timeout)
    if argv[0] in (READ, PROBE):
        return CommandResult(argv=argv, outcome=Outcome.ERROR, stderr=fault.stderr)
    return exited(argv, fault.exit_code, stderr=fault.stderr)


def _crash_due(cluster: Cluster, node: str) -> Crash | None:
    crash = cluster.crash
    if crash is None or crash.node not in (None, node):
        return None
    crash.seen += 1
    if crash.seen < crash.at:
        return None
    cluster.crash = None
    return crash


def _powered_off(argv: tuple[str, ...], node: str) -> CommandResult:
    return CommandResult(argv=argv, outcome=Outcome.ERROR, stderr=f"lab: node {node} is powered off")


def handle(
    cluster: Cluster, node: str, argv: Sequence[str], timeout: float = DEFAULT_TIMEOUT
) -> CommandResult:
    """Run `argv` on `node`. Raises `SimCrashed` when the crash hook fires."""
    args = tuple(argv)
    host = cluster.node(node)
    if not host.powered:
        return _powered_off(args, node)
    fault = _fault(cluster, node, args)
    if fault is not None:
        return _faulted(cluster, args, fault, timeout)
    tool = TOOLS.get(args[0]) if args else None
    if tool is None:
        return missing(args or ("",))
    action = changes_state(args)
    crash = _crash_due(cluster, node) if action else None
    if crash is not None and crash.point is CrashPoint.BEFORE:
        raise SimCrashed(node, args, crash.point)
    result = tool(cluster, host, args, timeout)
    if action:
        cluster.actions.append(f"{node}: {' '.join(args)} -> {result.returncode}")
    if crash is not None:
        raise SimCrashed(node, args, crash.point)
    return result


def _file(cluster: Cluster, host: SimNode, path: str) -> CommandResult:
    argv = (READ, path)
    content: str | None = None
    if path == PROC_DRBD:
        content = drbd_report.proc_drbd(cluster, host) if host.drbd.loaded else None
    elif path in MOUNTINFO:
        content = reports.mountinfo(host)
    else:
        content = host.files.get(path)
    if content is not None:
        return CommandResult(argv=argv, outcome=Outcome.OK, stdout=content)
    if path in host.directories:
        return CommandResult(argv=argv, outcome=Outcome.ERROR, stderr=f"[Errno 21] Is a directory: '{path}'")
    return CommandResult(
        argv=argv, outcome=Outcome.MISSING, stderr=f"[Errno 2] No such file or directory: '{path}'"
    )


def read(cluster: Cluster, node: str, path: str) -> CommandResult:
    """A file of the node: the kernel's /proc/drbd and mountinfo are generated, others are its files."""
    argv = (READ, path)
    host = cluster.node(node)
    if not host.powered:
        return _powered_off(argv, node)
    fault = _fault(cluster, node, argv)
    if fault is not None:
        return _faulted(cluster, argv, fault, 0.0)
    return _file(cluster, host, path)


def host_probe(cluster: Cluster, node: str) -> CommandResult:
    argv = (PROBE,)
    host = cluster.node(node)
    if not host.powered:
        return _powered_off(argv, node)
    fault = _fault(cluster, node, argv)
    if fault is not None:
        return _faulted(cluster, argv, fault, 0.0)
    return CommandResult(argv=argv, outcome=Outcome.OK, stdout=reports.host_load(host))


def write(cluster: Cluster, node: str, request: FileWrite) -> bool:
    """Write a file of the node, as `Host.write_file`: True if its content changed, OSError if it
    cannot be written (no such directory, an injected fault). An action for the crash hook."""
    argv = (WRITE, request.path)
    host = cluster.node(node)
    if not host.powered:
        raise OSError(errno.EHOSTDOWN, f"lab: node {node} is powered off", request.path)
    fault = _fault(cluster, node, argv)
    if fault is not None:
        raise OSError(errno.EIO, fault.stderr, request.path)
    crash = _crash_due(cluster, node)
    if crash is not None and crash.point is CrashPoint.BEFORE:
        raise SimCrashed(node, argv, crash.point)
    parent = posixpath.dirname(request.path) or "/"
    if parent not in host.directories:
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", request.path)
    if request.path in host.directories:
        raise IsADirectoryError(errno.EISDIR, "Is a directory", request.path)
    changed = host.files.get(request.path) != request.content
    host.files[request.path] = request.content
    cluster.actions.append(f"{node}: {WRITE} {request.path} -> {0 if changed else 'unchanged'}")
    if crash is not None:
        raise SimCrashed(node, argv, crash.point)
    return changed


def tcp_connect(cluster: Cluster, node: str, address: str, port: int, timeout: float) -> bool:
    """A connection succeeds when something listens there; an unreachable address costs the
    whole timeout (no answer), a reachable one without a listener is refused at once."""
    host = cluster.node(node)
    if not host.powered:
        return False
    if _fault(cluster, node, (TCP, address, str(port))) is not None:
        cluster.tick(timeout)
        return False
    if tool_net.locate(cluster, host, address) is None:
        cluster.tick(timeout)
        return False
    return tool_net.tcp_open(cluster, host, address, port)
