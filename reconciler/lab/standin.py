"""`python -m reconciler.lab.standin PROGRAM ARGS...`: a simulated program, run inside a lab node.

The wrappers `lab up` writes into the lab's bin/ exec this with their own name. It finds the lab's
simulator (RECONCILER_LAB_SIM) and its node (RECONCILER_LAB_NODE), refuses to run anywhere but
inside that node's namespaces, and answers the argv in one `simstate.transaction`:
1. the node's DRBD resource files and Xen configurations are the real ones, as `apply` wrote them
   into the node's private /etc/drbd.d and /etc/xen (bind mounts in its mount namespace): they
   are copied into the simulated node's files first, so that `drbdadm` and `xm create` read them;
   and the node's volume groups and logical volumes are made its real lvm2's (`reallvm`), read
   before the lock is taken, so that DRBD reads and attaches the LVs lvm2 has (`dump-md` too);
2. a `drbdadm` command's resource is read first by the real drbdadm (`realdrbdadm`): what it
   refuses fails with its message and exit code, what it warns of is printed;
3. `sim.commands.handle` answers; stdout, stderr and the exit code are the tool's.

Domains are real processes: `xm`/`xl create` starts a guest (`guest.py`) in the node beside the
simulated domain; `shutdown` asks it with SIGTERM (`-w` waits, in real time and outside the lock,
until it has ended), `destroy` SIGKILLs it, and a domain whose guest died is gone.

What differs from the real tools: a program the node lacks exits 127 as a shell says "not found";
an injected hang hangs for real (until the caller's timeout kills it); the crash hook cannot kill
the caller, so the stand-in exits 137 with the hook's message after the command took effect (or
not, for `before`); a fault meant for `shutdown -w` is written for `shutdown` (the simulator is
asked without `-w`, as the wait is the guest's).
"""

import os
import posixpath
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.lab import guests, realdrbdadm, reallvm
from reconciler.lab.errors import LabError
from reconciler.lab.inventory import load_inventory
from reconciler.lab.sim.commands import Crashed, handle
from reconciler.lab.sim.model import Node
from reconciler.lab.sim.result import exited, failed, ok
from reconciler.lab.sim.state import Cluster
from reconciler.lab.simstate import SIM_ENV, load_meta, transaction
from reconciler.observe.runner import CommandResult, Outcome

NODE_ENV = "RECONCILER_LAB_NODE"
USAGE = "usage: python -m reconciler.lab.standin PROGRAM [ARG...] (run by the wrappers in the lab's bin/)"
NOT_FOUND = 127  # as a shell reports a program it cannot find
CANNOT_RUN = 126
CRASHED = 137  # as a process SIGKILLed
USAGE_ERROR = 2
# The node's real files that the simulated tools read: directory, and the ending of what is copied.
COPIED = (("/etc/drbd.d", ".res"), ("/etc/xen", ""))
DESTROY_WAIT = 5.0


@dataclass(frozen=True)
class Where:
    lab_dir: Path
    node: str

    @property
    def lab_id(self) -> str:
        return self.lab_dir.name


def _same_namespace(kind: str, pid: int) -> bool:
    mine, theirs = os.stat(f"/proc/self/ns/{kind}"), os.stat(f"/proc/{pid}/ns/{kind}")
    return (mine.st_dev, mine.st_ino) == (theirs.st_dev, theirs.st_ino)


def locate() -> Where:
    """The lab and node this runs for, once checked that it runs inside that node: a guest
    started elsewhere would escape the lab, and the files copied would be the host's."""
    sim, node = os.environ.get(SIM_ENV), os.environ.get(NODE_ENV)
    if not sim or not node:
        raise LabError(f"{SIM_ENV} and {NODE_ENV} are not set: run it with `reconciler lab exec NODE -- ...`")
    where = Where(lab_dir=Path(sim).parent, node=node)
    record = load_inventory(where.lab_dir).record(node)
    if record is None or record.holder_pid is None:
        raise LabError(f"no node {node} in the lab at {where.lab_dir}")
    try:
        inside = all(_same_namespace(kind, record.holder_pid) for kind in ("net", "mnt"))
    except OSError:
        inside = False  # the holder is gone: the node is off
    if not inside:
        raise LabError(f"this does not run inside node {node}: use `reconciler lab exec {node} -- ...`")
    return where


def import_files(node: Node) -> None:
    """Make the simulated node's resource files and domain configurations the real ones."""
    for directory, ending in COPIED:
        for path in [p for p in node.files if posixpath.dirname(p) == directory]:
            del node.files[path]
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except FileNotFoundError:
            continue
        for entry in entries:
            if entry.is_file() and not entry.name.startswith(".") and entry.name.endswith(ending):
                node.files[f"{directory}/{entry.name}"] = Path(entry.path).read_text(errors="replace")


def _handle(cluster: Cluster, node: str, argv: Sequence[str]) -> CommandResult:
    try:
        return handle(cluster, node, argv)
    except Crashed as crash:
        return exited(argv, CRASHED, stderr=f"{crash}\n")


def _create(where: Where, cluster: Cluster, argv: tuple[str, ...]) -> CommandResult:
    """`create`, then the guest beside the domain the simulator made."""
    result = _handle(cluster, where.node, argv)
    if not result.ok:
        return result
    host = cluster.node(where.node)
    domain = host.xen.domains[-1]  # the one just created
    seconds = None if host.xen.shutdown_seconds is None else load_meta(where.lab_dir).guest_shutdown
    try:
        domain.pid = guests.start_guest(where.lab_id, where.node, domain.name, seconds)
    except OSError as err:
        host.xen.domains.remove(domain)
        return failed(argv, 1, f"{result.stderr}lab: the guest of {domain.name} did not start: {err}\n")
    domain.shutdown_seconds = None  # down when its guest has ended, not on the virtual clock
    return result


def _shutdown(where: Where, argv: tuple[str, ...]) -> CommandResult:
    name = argv[-1]
    with transaction(where.lab_dir) as cluster:
        import_files(cluster.node(where.node))
        domain = cluster.node(where.node).xen.domain(name)
        if domain is None or domain.pid is None or argv[2:-1] not in ((), ("-w",)):
            return _handle(cluster, where.node, argv)  # none, or not ours: the simulator's answer
        pid, number = domain.pid, domain.id
        asked = _handle(cluster, where.node, (argv[0], "shutdown", name))
        if not asked.ok:
            return asked
        guests.signal_guest(pid, where.lab_id, where.node, name, signal.SIGTERM)
    if "-w" not in argv:
        return asked
    # As long as it takes: the caller's timeout ends the wait, as it would end `xm shutdown -w`.
    guests.wait_gone(pid, where.lab_id, where.node, name)
    with transaction(where.lab_dir) as cluster:
        host = cluster.node(where.node)
        left = host.xen.domain(name)
        if left is not None and left.pid == pid:
            host.xen.domains.remove(left)
    if argv[0] == "xl":
        return ok(argv, f"Waiting for 1 domains\nDomain {number} has been shut down, reason code 0\n")
    return ok(argv)


def answer(where: Where, argv: tuple[str, ...]) -> CommandResult:
    """Run `argv` on the node's simulator, with the domains' guests."""
    sub = argv[1] if len(argv) > 1 else ""
    xen = argv[0] in ("xl", "xm")
    if xen and sub == "shutdown" and len(argv) >= 3:
        return _shutdown(where, argv)
    victim: int | None = None
    # Read before the lock: lvm2 takes its time, and the other node's stand-ins wait on the lock.
    full = reallvm.report() if not xen and reallvm.has_real_lvm() else None
    with transaction(where.lab_dir) as cluster:
        host = cluster.node(where.node)
        import_files(host)
        if full is not None:
            reallvm.import_lvm(host, full)
        read = (
            realdrbdadm.check(argv[-1], host.drbd.version)
            if argv[0] == "drbdadm" and len(argv) >= 3
            else None
        )
        if read is not None and not read.ok:
            return exited(argv, read.returncode or 1, stdout=read.stdout, stderr=read.stderr)
        if xen and sub == "create":
            return _create(where, cluster, argv)
        if xen and sub == "destroy" and len(argv) == 3:
            domain = host.xen.domain(argv[2])
            victim = domain.pid if domain is not None else None
        result = _handle(cluster, where.node, argv)
        if read is not None and read.stderr:
            result = result.model_copy(update={"stderr": read.stderr + result.stderr})
        if victim is not None and result.ok:
            guests.signal_guest(victim, where.lab_id, where.node, argv[2], signal.SIGKILL)
    if victim is not None and result.ok:
        guests.wait_gone(victim, where.lab_id, where.node, argv[2], DESTROY_WAIT)
    return result


def emit(result: CommandResult) -> int:
    """Print what the tool printed; its exit code (a hang hangs)."""
    sys.stdout.write(result.stdout)
    sys.stdout.flush()
    if result.outcome is Outcome.MISSING:
        sys.stderr.write(f"{result.argv[0]}: command not found\n")
        return NOT_FOUND
    sys.stderr.write(result.stderr)
    sys.stderr.flush()
    if result.outcome is Outcome.TIMEOUT:
        while True:  # an injected hang: until the caller's timeout kills us
            time.sleep(3600)
    if result.outcome is Outcome.ERROR:
        return CANNOT_RUN
    return result.returncode or 0


def main(argv: Sequence[str]) -> int:
    if not argv or not argv[0]:
        print(USAGE, file=sys.stderr)
        return USAGE_ERROR
    program = argv[0]
    try:
        result = answer(locate(), tuple(argv))
    except LabError as err:  # not in a node, or a lab without (or with a damaged) simulator
        print(f"lab stand-in {program}: {err}", file=sys.stderr)
        return USAGE_ERROR
    return emit(result)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
