"""Answering one stand-in call of a lab node: what the lab's stand-in server does for a request.

The programs of the lab's bin/ (`drbdadm`, `xm`, `mount`, ...) are thin clients
(`standin_client`) of one server per lab (`standin_server`), which checks that the caller runs
inside the node it names and then asks `answer` here. `answer` runs the argv on the simulator
in one `simstate.transaction`:
1. the node's DRBD resource files and Xen configurations are the real ones, as `apply` wrote them
   into the node's private /etc/drbd.d and /etc/xen (bind mounts in its mount namespace, the
   lab's `<lab>/<node>/etc/...` on the host): they are copied into the simulated node's files
   first, so that `drbdadm` and `xm create` read them; and the node's volume groups and logical
   volumes are made its real lvm2's (`lvm fullreport` inside the node, `reallvm.import_lvm`),
   read before the lock is taken, so that DRBD reads and attaches the LVs lvm2 has (`dump-md`
   too); the report is kept while the metadata on the node's disks stays the same (`lvmcache`).
   `xm`/`xl` and the mount-table and directory tools never look at an LV: they skip it;
2. a `drbdadm` command's resource is read first by the real drbdadm inside the node (its
   addresses, host name and /etc/drbd.d; `realdrbdadm`): what it refuses fails with its message
   and exit code, what it warns of is printed. It runs beside the LVM report, both before the lock;
3. `sim.commands.handle` answers; stdout, stderr and the exit code are the tool's.

Domains are real processes: `xm`/`xl create` starts a guest (`guest.py`) inside the node (nsenter
into the holder's namespaces) beside the simulated domain; `shutdown` asks it with SIGTERM (`-w`
waits, in real time and outside the lock, until it has ended or the caller has gone), `destroy`
SIGKILLs it, and a domain whose guest died is gone. The server is the guests' parent: a thread
reaps each one when it ends.

What differs from the real tools: a program the node lacks exits 127 as a shell says "not found";
an injected hang hangs for real (the client sleeps until the caller's timeout kills it); the crash
hook cannot kill the caller, so the stand-in exits 137 with the hook's message after the command
took effect (or not, for `before`); a fault meant for `shutdown -w` is written for `shutdown` (the
simulator is asked without `-w`, as the wait is the guest's).
"""

import os
import posixpath
import shutil
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from reconciler.lab import disks, fsmount, guests, lvmcache, realdrbdadm, reallvm
from reconciler.lab import node as nodes
from reconciler.lab.errors import CommandFailed, LabError
from reconciler.lab.inventory import Lab
from reconciler.lab.sim.commands import SimCrashed, handle
from reconciler.lab.sim.model import SimNode
from reconciler.lab.sim.result import exited, failed, ok
from reconciler.lab.sim.state import Cluster
from reconciler.lab.simstate import load_meta, transaction
from reconciler.observe.errors import ParseError
from reconciler.observe.lvm_json import parse_fullreport_json
from reconciler.observe.lvm_model import LvmFullReport
from reconciler.observe.node import LVM_REPORT
from reconciler.observe.runner import DEFAULT_TIMEOUT, CommandResult, Outcome, SubprocessRunner

NOT_FOUND = 127  # as a shell reports a program it cannot find
CANNOT_RUN = 126
CRASHED = 137  # as a process SIGKILLed
XEN = frozenset({"xl", "xm"})
# Programs whose simulated answer never depends on an LV: no `lvm fullreport` (~50 ms) for them.
WITHOUT_LVM = XEN | {"findmnt", "mountpoint", "umount", "mkdir", "test"}
# The node's real files that the simulated tools read: directory, and the ending of what is copied.
COPIED = (("/etc/drbd.d", ".res"), ("/etc/xen", ""))
DESTROY_WAIT = 5.0
_POLL = 0.05


@dataclass(frozen=True)
class StandinCall:
    """One call of a stand-in, from a process that the server has checked to run inside `node`."""

    lab: Lab
    node: str
    holder: int  # the node's holder: what runs inside the node enters its namespaces
    argv: tuple[str, ...]
    cwd: str  # the caller's, where what runs inside the node for it runs
    drbd_version: str  # the DRBD the node simulates (drbdadm's parser depends on it)
    drbd_conf: Path  # a drbd.conf that includes the node's /etc/drbd.d/*.res
    lvm_reports: lvmcache.ReportCache  # the server's, for every call
    caller_gone: Callable[[float], bool]  # waits up to the seconds; whether the caller has gone


@dataclass(frozen=True)
class StandinReply:
    """What the client prints and exits with; `hang`: it sleeps instead of exiting."""

    stdout: str
    stderr: str
    code: int
    hang: bool = False


def reply_of(result: CommandResult) -> StandinReply:
    """The tool's output and exit code for the simulator's result (a hang hangs)."""
    if result.outcome is Outcome.MISSING:
        return StandinReply(result.stdout, f"{result.argv[0]}: command not found\n", NOT_FOUND)
    if result.outcome is Outcome.TIMEOUT:
        return StandinReply(result.stdout, result.stderr, 0, hang=True)
    code = CANNOT_RUN if result.outcome is Outcome.ERROR else result.returncode or 0
    return StandinReply(result.stdout, result.stderr, code)


def _host_program(name: str) -> str:
    found = shutil.which(name, path=nodes.HOST_PATH)
    if found is None:
        raise LabError(f"{name} not found in {nodes.HOST_PATH}")
    return found


def in_node(call: StandinCall, argv: list[str]) -> list[str]:
    """The argv that runs `argv` inside the caller's node, in the caller's directory (as
    `node.exec_argv` builds it, but for a holder the server has checked already)."""
    enter = ["--net", "--mount", "--uts", f"--wd={call.cwd}"]
    return [_host_program("nsenter"), f"--target={call.holder}", *enter, "--", *argv]


def import_files(call: StandinCall, node: SimNode) -> None:
    """Make the simulated node's resource files and domain configurations the real ones."""
    for directory, ending in COPIED:
        for path in [p for p in node.files if posixpath.dirname(p) == directory]:
            del node.files[path]
        private = nodes.private_dir(call.lab, call.node, directory)
        # A lab made before nodes had private directories: the node's are the host's.
        source = private if private.is_dir() else Path(directory)
        try:
            entries = sorted(os.scandir(source), key=lambda e: e.name)
        except FileNotFoundError:
            continue
        for entry in entries:
            if entry.is_file() and not entry.name.startswith(".") and entry.name.endswith(ending):
                node.files[f"{directory}/{entry.name}"] = Path(entry.path).read_text(errors="replace")


def _lvm_report(call: StandinCall) -> LvmFullReport:
    """`lvm fullreport` inside the node (its /dev has the node's disks, its lvm.conf only them),
    or the last one while the metadata on the node's disks is the same (`lvmcache`)."""
    loops = [d.loop for d in call.lab.inventory.disks if d.node == call.node and d.loop is not None]
    stamp = lvmcache.metadata_stamp(loops)  # before the report: a change in between is seen next time
    kept = call.lvm_reports.get(call.node, stamp)
    if kept is not None:
        return kept
    argv = in_node(call, [_host_program("lvm"), *LVM_REPORT[1:]])
    result = SubprocessRunner(env=nodes.node_env(call.lab, call.node)).run(argv, DEFAULT_TIMEOUT)
    if not result.ok:
        raise CommandFailed(result)
    try:
        full = parse_fullreport_json(result.stdout)
    except ParseError as err:
        raise LabError(f"lvm fullreport not understood: {err}") from err
    call.lvm_reports.put(call.node, stamp, full)
    return full


def _drbdadm_check(call: StandinCall, program: str) -> CommandResult:
    """drbd-utils' drbdadm reading the resource inside the node: its host name picks the `on`
    section, its addresses are checked, its /etc/drbd.d is read."""
    env = {"DRBD_DRIVER_VERSION_OVERRIDE": call.drbd_version, "LC_ALL": "C", "PATH": nodes.HOST_PATH}
    argv = in_node(call, [program, "-c", str(call.drbd_conf), "dump", call.argv[-1]])
    return SubprocessRunner(env={**os.environ, **env}).run(argv, DEFAULT_TIMEOUT)


def _read_node(call: StandinCall) -> tuple[LvmFullReport | None, CommandResult | None]:
    """The node's LVM report and the real drbdadm's reading, each when the call needs it; at
    once when it needs both (two processes of ~50 ms each)."""
    lvm = call.argv[0] not in WITHOUT_LVM and bool(disks.lvm_env(call.lab.dir, call.node))
    drbdadm = realdrbdadm.real_drbdadm() if call.argv[0] == "drbdadm" and len(call.argv) >= 3 else None
    if lvm and drbdadm is not None:
        with ThreadPoolExecutor(max_workers=1) as pool:
            checked = pool.submit(_drbdadm_check, call, drbdadm)
            return _lvm_report(call), checked.result()
    full = _lvm_report(call) if lvm else None
    return full, _drbdadm_check(call, drbdadm) if drbdadm is not None else None


def _handle(cluster: Cluster, node: str, argv: tuple[str, ...]) -> CommandResult:
    try:
        return handle(cluster, node, argv)
    except SimCrashed as crash:
        return exited(argv, CRASHED, stderr=f"{crash}\n")


def _start_guest(call: StandinCall, domain: str, seconds: float | None) -> int:
    """Start the guest inside the node, detached: its own session, /dev/null for its standard
    streams. nsenter execs it (no fork without a PID namespace): the PID is the guest's."""
    argv = in_node(call, guests.guest_argv(call.lab.id, call.node, domain, seconds))
    actions = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
    env = nodes.node_env(call.lab, call.node)
    pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setsid=True)
    # The server lives on: it is the guest's parent, and must reap it lest it stay a zombie.
    threading.Thread(target=os.waitpid, args=(pid, 0), daemon=True, name=f"reap-{pid}").start()
    return pid


def _create(call: StandinCall, cluster: Cluster) -> CommandResult:
    """`create`, then the guest beside the domain the simulator made."""
    argv = call.argv
    result = _handle(cluster, call.node, argv)
    if not result.ok:
        return result
    host = cluster.node(call.node)
    domain = host.xen.domains[-1]  # the one just created
    seconds = None if host.xen.shutdown_seconds is None else load_meta(call.lab.dir).guest_shutdown
    try:
        domain.pid = _start_guest(call, domain.name, seconds)
    except (OSError, LabError) as err:
        host.xen.domains.remove(domain)
        return failed(argv, 1, f"{result.stderr}lab: the guest of {domain.name} did not start: {err}\n")
    domain.shutdown_seconds = None  # down when its guest has ended, not on the virtual clock
    return result


def _wait_guest(call: StandinCall, pid: int, name: str) -> bool:
    """Wait until the guest has ended; False if the caller went first (its timeout killed it:
    nobody is left to tell, and a guest that never ends must not keep a thread forever)."""
    while guests.is_guest(pid, call.lab.id, call.node, name):
        if call.caller_gone(_POLL):
            return False
    return True


def _shutdown(call: StandinCall) -> CommandResult:
    argv, name = call.argv, call.argv[-1]
    with transaction(call.lab.dir) as cluster:
        import_files(call, cluster.node(call.node))
        domain = cluster.node(call.node).xen.domain(name)
        if domain is None or domain.pid is None or argv[2:-1] not in ((), ("-w",)):
            return _handle(cluster, call.node, argv)  # none, or not ours: the simulator's answer
        pid, number = domain.pid, domain.id
        asked = _handle(cluster, call.node, (argv[0], "shutdown", name))
        if not asked.ok:
            return asked
        guests.signal_guest(pid, call.lab.id, call.node, name, signal.SIGTERM)
    if "-w" not in argv:
        return asked
    # As long as it takes: the caller's timeout ends the wait, as it would end `xm shutdown -w`.
    if not _wait_guest(call, pid, name):
        return asked  # nobody reads it; the domain goes when its guest has (`guests.reap`)
    with transaction(call.lab.dir) as cluster:
        host = cluster.node(call.node)
        left = host.xen.domain(name)
        if left is not None and left.pid == pid:
            host.xen.domains.remove(left)
    if argv[0] == "xl":
        return ok(argv, f"Waiting for 1 domains\nDomain {number} has been shut down, reason code 0\n")
    return ok(argv)


def answer(call: StandinCall) -> CommandResult:
    """Run the call's argv on the node's simulator, with the domains' guests."""
    argv = call.argv
    sub = argv[1] if len(argv) > 1 else ""
    xen = argv[0] in XEN
    if xen and sub == "shutdown" and len(argv) >= 3:
        return _shutdown(call)
    if argv[0] in fsmount.PROGRAMS:
        return fsmount.answer(call)  # the mount made real in the node, beside the simulator's
    # Read before the lock: lvm2 and drbdadm take their time, and the other node's calls wait on it.
    full, read = _read_node(call)
    if read is not None and not read.ok:
        return exited(argv, read.returncode or 1, stdout=read.stdout, stderr=read.stderr)
    victim: int | None = None
    with transaction(call.lab.dir) as cluster:
        host = cluster.node(call.node)
        import_files(call, host)
        if full is not None:
            reallvm.import_lvm(host, full)
        if xen and sub == "create":
            return _create(call, cluster)
        if xen and sub == "destroy" and len(argv) == 3:
            domain = host.xen.domain(argv[2])
            victim = domain.pid if domain is not None else None
        result = _handle(cluster, call.node, argv)
        if victim is not None and result.ok:
            guests.signal_guest(victim, call.lab.id, call.node, argv[2], signal.SIGKILL)
    if read is not None and read.stderr:
        result = result.model_copy(update={"stderr": read.stderr + result.stderr})
    if victim is not None and result.ok:
        guests.wait_gone(victim, call.lab.id, call.node, argv[2], DESTROY_WAIT)
    return result


if __name__ == "__main__":
    # The entry point of labs made before the stand-in server: their wrappers cannot be served.
    print("lab stand-in: this lab was made by an older version: `lab down` and `lab up`", file=sys.stderr)
    sys.exit(CANNOT_RUN)
