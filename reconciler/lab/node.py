"""A lab node: a holder process inside the node's namespaces, commands run beside it, power.

The network namespace is named (`ip netns add`), so it outlives its processes; the mount and UTS
namespaces are not, so a holder keeps them alive: `holder.py`, started by `ip netns exec NS
unshare --mount --uts --propagation private`, which makes the node's mounts and host name its
own. At boot the node gets its manifest name as host name (what `apply` takes as "this node"),
its own /etc/drbd.d and /etc/xen (directories of the lab bind-mounted over the host's, so
that the files `apply` writes there are the node's alone) and its own /dev, where its disks
appear under the names the manifests give them (`nodedev.py`), and first of all its own root
(`noderoot.py`: the host's directories, bound, on a root of the node's own, so that a mount point
such as /virt exists in the node alone). `exec_in` enters the namespaces of the holder with
nsenter. Powering a node off kills every process in its network namespace and removes the
namespace (its NICs go, the switch ports with them: the peer's own port keeps its carrier);
powering it on makes the namespace and its links anew, plugged into the switch, and starts a new
holder (a fresh mount namespace, as after a reboot); the switch keeps its partitions and faults.
"""

import os
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from reconciler.lab import disks, replication, switch
from reconciler.lab.errors import CommandFailed, LabError
from reconciler.lab.inventory import Lab, NodeRecord
from reconciler.lab.network import (
    create_end,
    create_namespace,
    delete_namespace,
    has_namespace,
    ip,
    settle_links,
)
from reconciler.lab.simstate import has_sim
from reconciler.lab.simstate import node_env as sim_env
from reconciler.lab.simstate import power as sim_power
from reconciler.observe.runner import DEFAULT_TIMEOUT, CommandResult, Runner, SubprocessRunner
from reconciler.render.files import write_atomically

HOLDER_SCRIPT = Path(__file__).with_name("holder.py")
NODEDEV_SCRIPT = Path(__file__).with_name("nodedev.py")
NODEROOT_SCRIPT = Path(__file__).with_name("noderoot.py")
ROOT_STAGING = "root"  # <lab>/<node>/root: where the node's root is assembled at boot
NETNS_DIR = Path("/run/netns")  # where `ip netns add` binds its namespaces
KILL_WAIT = 5.0  # seconds for SIGKILLed processes to be gone before `kill` gives up
_POLL = 0.05
# The node's own copies of these host directories (the files `apply` writes there are per node,
# and the agent's heartbeat key is in /etc/reconciler).
PRIVATE_DIRS = ("/etc/drbd.d", "/etc/xen", "/etc/reconciler")
KEY_FILE = "heartbeat.key"  # the Cluster manifest's default keyFile is /etc/reconciler/heartbeat.key
AGENT_SOCKET = "agent.sock"
# Where the lab's own tools are looked up: never a node's PATH, where a stand-in could shadow them.
HOST_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def holder_argv(namespace: str, lab_id: str, node: str) -> list[str]:
    # -I: the holder needs nothing but the standard library, whatever the caller's environment.
    python = [sys.executable, "-I", str(HOLDER_SCRIPT), lab_id, node]
    unshare = ["unshare", "--mount", "--uts", "--propagation", "private"]
    return ["ip", "netns", "exec", namespace, *unshare, "--", *python]


def start_holder(runner: Runner, namespace: str, lab_id: str, node: str) -> int:
    """Start a node's holder; its PID (the holder forks and its parent prints the PID)."""
    result = runner.run(holder_argv(namespace, lab_id, node), DEFAULT_TIMEOUT)
    if not result.ok:
        raise CommandFailed(result)
    try:
        return int(result.stdout.strip())
    except ValueError:
        raise LabError(f"the holder of {node} printed {result.stdout!r} instead of its PID") from None


def _process_state(pid: int) -> str | None:
    """The state letter of /proc/PID/stat (R, S, Z, ...), None when there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name in parentheses may hold spaces or ')': the state follows the last ')'.
    return text.rsplit(")", 1)[1].split()[0]


def is_holder(pid: int, lab_id: str, node: str) -> bool:
    """Whether PID is still the holder of `node` in lab `lab_id` (a PID can be reused)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    expected = [str(HOLDER_SCRIPT), lab_id, node]
    return [a.decode(errors="replace") for a in args if a][-3:] == expected


def holder_alive(pid: int | None, lab_id: str, node: str) -> bool:
    # A killed holder stays a zombie until init reaps it: a zombie runs nothing and holds no
    # namespace, so it counts as gone.
    return pid is not None and _process_state(pid) not in (None, "Z") and is_holder(pid, lab_id, node)


def kill_if(pid: int, still_ours: Callable[[int], bool]) -> None:
    """SIGKILL `pid` if `still_ours(pid)`, without the race of a PID reused in between: the pidfd
    pins the process, so the check and the signal are about the same one."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        if still_ours(pid):
            signal.pidfd_send_signal(fd, signal.SIGKILL)
    except (ProcessLookupError, FileNotFoundError):
        pass  # it ended meanwhile
    finally:
        os.close(fd)


def kill_holder(pid: int, lab_id: str, node: str) -> None:
    kill_if(pid, lambda p: is_holder(p, lab_id, node))


def find_holders(lab_id: str) -> list[tuple[int, str]]:
    """(PID, node) of every live holder of lab `lab_id`, found by command line: `down` kills
    them even when neither the inventory nor a namespace leads to them any more."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = [a.decode(errors="replace") for a in (entry / "cmdline").read_bytes().split(b"\0") if a]
        except OSError:
            continue  # it ended meanwhile, or is a kernel thread
        if args[-3:-1] == [str(HOLDER_SCRIPT), lab_id] and holder_alive(int(entry.name), lab_id, args[-1]):
            found.append((int(entry.name), args[-1]))
    return found


def namespace_pids(runner: Runner, namespace: str) -> list[int]:
    return [int(line) for line in ip(runner, "netns", "pids", namespace).stdout.split()]


def kill_namespace(runner: Runner, namespace: str) -> list[int]:
    """SIGKILL every process in the named network namespace, until none is left (a process
    may fork while we kill); the PIDs signalled."""
    try:
        ns = os.stat(NETNS_DIR / namespace)
    except FileNotFoundError:
        return []  # deleted already: its processes, if any, are found through their holder

    def inside(pid: int) -> bool:
        found = os.stat(f"/proc/{pid}/ns/net")
        return (found.st_dev, found.st_ino) == (ns.st_dev, ns.st_ino)

    deadline = time.monotonic() + KILL_WAIT
    killed: set[int] = set()
    while pids := namespace_pids(runner, namespace):
        if time.monotonic() > deadline:
            raise LabError(f"processes {pids} in namespace {namespace} survive SIGKILL")
        for pid in pids:
            kill_if(pid, inside)
        killed.update(pids)
        time.sleep(_POLL)
    return sorted(killed)


def wait_until(done: Callable[[], bool], timeout: float = KILL_WAIT) -> bool:
    """Poll `done` until it holds or `timeout` passes; whether it held."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(_POLL)
    return True


def wait_gone(pid: int, lab_id: str, node: str) -> None:
    deadline = time.monotonic() + KILL_WAIT
    while holder_alive(pid, lab_id, node):
        if time.monotonic() > deadline:
            raise LabError(f"the holder {pid} of {node} survives SIGKILL")
        time.sleep(_POLL)


def node_env(lab: Lab, node: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of commands in `node`: the caller's, the lab's bin first on PATH, and
    the variables that tell the stand-in tools which lab and node they serve."""
    env = {**os.environ, **(extra or {})}
    env["PATH"] = os.pathsep.join(p for p in (str(lab.bin_dir), env.get("PATH", os.defpath)) if p)
    env["RECONCILER_LAB"] = lab.id
    env["RECONCILER_LAB_NODE"] = node
    env["RECONCILER_STATE_DIR"] = str(lab.state_dir(node))
    # /run is the host's in every node: each node's agent listens in the lab's directory instead.
    env["RECONCILER_AGENT_SOCKET"] = str(lab.dir / node / AGENT_SOCKET)
    if has_sim(lab.dir):
        env.update(sim_env(lab.dir, node))
    env.update(disks.lvm_env(lab.dir, node))
    return env


def running_holder(lab: Lab, node: str) -> int:
    record = lab.node(node)
    if not record.running or not holder_alive(record.holder_pid, lab.id, node):
        raise LabError(f"node {node} is powered off: `lab start {node}` first")
    assert record.holder_pid is not None
    return record.holder_pid


def exec_argv(lab: Lab, node: str, argv: Sequence[str], cwd: Path | None = None) -> list[str]:
    """The argv that runs `argv` inside `node` (its network and mount namespaces)."""
    if not argv:
        raise LabError("no command to run")
    pid = running_holder(lab, node)
    # Entering a mount namespace moves to its root; --wd keeps the caller's directory, as
    # `ip netns exec` does.
    wd = cwd or Path.cwd()
    return ["nsenter", f"--target={pid}", "--net", "--mount", "--uts", f"--wd={wd}", "--", *argv]


def exec_in(
    lab: Lab,
    node: str,
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> CommandResult:
    """Run `argv` in `node` and wait for it. The command's failure is a result; a node that is
    off is a LabError (there is nothing to run it in)."""
    return SubprocessRunner(env=node_env(lab, node, env)).run(exec_argv(lab, node, argv), timeout)


def plug(lab: Lab, record: NodeRecord) -> None:
    """Make the node's namespace and plug its interfaces into the switch; a port of a partitioned
    network is cut at once."""
    plan = lab.inventory.plan
    create_namespace(lab.runner, plan.node(record.name))
    for link in plan.links:
        end = link.end(record.name)
        create_end(lab.runner, plan.switch, link, end)
        record.interfaces[link.network] = end.interface
        lab.save()
        if link.network in lab.inventory.partitioned:
            switch.set_forwarding(lab.runner, plan.switch, end, forwarding=False)


def kill(lab: Lab, node: str) -> None:
    """Power `node` off: SIGKILL everything in it, then remove its namespace (and its NICs)."""
    record = lab.node(node)
    # Recorded first: a crash half-way leaves a node marked off, which `start` brings back whole.
    record.running = False
    lab.save()
    # The simulated half first: a power cut is instantaneous. Were the processes killed first,
    # the peer could see the replication path break while this node still counts as on, and
    # a Primary that loses its peer while on starts a new data generation: a false split brain.
    sim_power(lab.dir, node, on=False)
    _power_off(lab, record)


def _power_off(lab: Lab, record: NodeRecord) -> None:
    kill_namespace(lab.runner, record.namespace)
    if record.holder_pid is not None:
        # In the namespace, so killed above unless the namespace was deleted under it.
        kill_holder(record.holder_pid, lab.id, record.name)
        wait_gone(record.holder_pid, lab.id, record.name)
    if has_namespace(lab.runner, record.namespace):
        delete_namespace(lab.runner, record.namespace)
    record.interfaces = {}
    lab.save()


def start(lab: Lab, node: str) -> bool:
    """Power `node` on; False if it was running already."""
    record = lab.node(node)
    if record.running and holder_alive(record.holder_pid, lab.id, node):
        return False
    # Finish a power-off that a crash interrupted, so that no process of the old life lingers.
    _power_off(lab, record)
    plug(lab, record)
    inventory = lab.inventory
    # The node's ports are new: a delay of `fault net` is put on them again (the rules name them).
    switch.apply_faults(lab.runner, inventory.plan, lab.dir, inventory.one_way, inventory.link_faults)
    boot(lab, record)
    sim_power(lab.dir, node, on=True)
    settle_links(lab.runner, lab.inventory.live_ends())
    return True


def boot(lab: Lab, record: NodeRecord) -> None:
    """Start a new holder for the node of `record` and record it (its links are left as they are)."""
    record.holder_pid = start_holder(lab.runner, record.namespace, lab.id, record.name)
    record.running = True
    lab.save()
    _furnish(lab, record.name, record.holder_pid)


def private_dir(lab: Lab, node: str, path: str) -> Path:
    """The lab's directory that is `path` inside `node` (one of PRIVATE_DIRS)."""
    return lab.dir / node / path.lstrip("/")


def _host_program(name: str) -> str:
    found = shutil.which(name, path=HOST_PATH)
    if found is None:
        raise LabError(f"{name} not found in {HOST_PATH}")
    return found


def _install_key(lab: Lab, node: str) -> None:
    """The lab's heartbeat key (made once, the same for both nodes) in the node's /etc/reconciler."""
    directory = private_dir(lab, node, "/etc/reconciler")
    if not directory.is_dir():
        return  # a lab made before the agent had a key
    shared = lab.dir / KEY_FILE
    if not shared.exists():
        write_atomically(shared, secrets.token_hex(32) + "\n", mode=0o600, keep_previous=False)
    write_atomically(directory / KEY_FILE, shared.read_text(), mode=0o600, keep_previous=False)


def _furnish(lab: Lab, node: str, pid: int) -> None:
    """What a booted node has of its own: its host name, its private directories, its /dev
    with its disks."""
    nsenter = [_host_program("nsenter"), f"--target={pid}"]
    root = lab.dir / node / ROOT_STAGING
    root.mkdir(exist_ok=True)
    _checked(lab.runner, [*nsenter, "--mount", "--", sys.executable, "-I", str(NODEROOT_SCRIPT), str(root)])
    _checked(lab.runner, [*nsenter, "--uts", "--", _host_program("hostname"), node])
    _install_key(lab, node)
    for path in PRIVATE_DIRS:
        source = private_dir(lab, node, path)
        if source.is_dir() and Path(path).is_dir():  # a lab made before it had them has neither
            _checked(
                lab.runner, [*nsenter, "--mount", "--", _host_program("mount"), "--bind", str(source), path]
            )
    staging = disks.staging_dir(lab.dir, node)
    if staging.is_dir():  # a lab made before nodes had disks has none
        script = [sys.executable, "-I", str(NODEDEV_SCRIPT), str(staging), *disks.device_args(lab, node)]
        _checked(lab.runner, [*nsenter, "--mount", "--", *script])
    if has_sim(lab.dir):
        # DRBD's connections between the nodes, for real: a process of the node, gone at power off.
        measure = [sys.executable, "-I", "-m", replication.MODULE, str(lab.dir), node]
        _checked(lab.runner, [*nsenter, "--net", "--mount", "--", *measure])


def _checked(runner: Runner, argv: list[str]) -> None:
    result = runner.run(argv, DEFAULT_TIMEOUT)
    if not result.ok:
        raise CommandFailed(result)
