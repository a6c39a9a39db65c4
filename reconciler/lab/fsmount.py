"""A DRBD device's filesystem as a real mount in the lab node: `mount` and `umount` for real.

The simulator decides whether `mount -t ext4 /dev/drbd0 /virt` succeeds (sim/tool_fs.py: a
Primary, the right filesystem, a mount point it knows) and keeps the mount in the node's
mountinfo as the observer reads it. The stand-in server then makes the same mount real in the
node's mount namespace: a bind mount of the device's directory, `<lab>/disks/<node>/drbd<minor>/`,
onto the mount point, so that what writes there (fsmon's write probe, a user) writes for real;
`umount` undoes it. When the real step fails (a busy mount point), the simulator's change is
undone and the tool's error is the real one: the two tables stay the same.

Loosely as DRBD: what the Primary mounts is its own directory (each node has its own; the
records are not replicated between them). A mount point missing in the node is made there when
it is new at the top level (the node's root is its own, `noderoot.py`); one under a directory of
the host is never made: such a mount stays the simulator's alone, as every mount was before.
"""

import shutil
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from reconciler.lab import node as nodes
from reconciler.lab.sim.commands import SimCrashed, handle
from reconciler.lab.sim.model import SimMount
from reconciler.lab.sim.result import MOUNT_FAILURE, exited, failed
from reconciler.lab.simstate import transaction
from reconciler.observe.runner import DEFAULT_TIMEOUT, CommandResult, SubprocessRunner

if TYPE_CHECKING:
    from reconciler.lab.standin import StandinCall

PROGRAMS = frozenset({"mount", "umount"})
DATA_DIR = "disks"
CRASHED = 137


def data_dir(lab_dir: Path, node: str, minor: int) -> Path:
    """What DRBD device `minor` of `node` holds: the directory mounted where the device is."""
    return lab_dir / DATA_DIR / node / f"drbd{minor}"


def _run_in_node(call: "StandinCall", argv: list[str]) -> CommandResult:
    found = shutil.which(argv[0], path=nodes.HOST_PATH)
    enter = [shutil.which("nsenter", path=nodes.HOST_PATH) or "nsenter", f"--target={call.holder}", "--mount"]
    command = [*enter, "--", found or argv[0], *argv[1:]]
    return SubprocessRunner(env={"PATH": nodes.HOST_PATH, "LC_ALL": "C"}).run(command, DEFAULT_TIMEOUT)


def _mount_point_ready(call: "StandinCall", mount_point: str) -> bool:
    """Whether the mount point is a directory in the node, made there if it is new at the top."""
    inside = Path(f"/proc/{call.holder}/root") / mount_point.lstrip("/")
    if inside.is_dir():
        return True
    top = PurePosixPath(mount_point).parts[1:2]
    if not top or Path("/", top[0]).exists():
        return False  # under a directory of the host: never made from here
    inside.mkdir(parents=True, exist_ok=True)  # on the node's own root, which the host never sees
    return True


def _real_mount(call: "StandinCall", mount: SimMount) -> str | None:
    """Bind the device's directory onto the mount point in the node; what went wrong, or None."""
    if not _mount_point_ready(call, mount.mount_point):
        return None
    source = data_dir(call.lab.dir, call.node, mount.minor)
    source.mkdir(parents=True, exist_ok=True)
    steps = [["mount", "--bind", str(source), mount.mount_point]]
    if "ro" in mount.options:
        steps.append(["mount", "-o", "remount,bind,ro", mount.mount_point])
    for argv in steps:
        result = _run_in_node(call, argv)
        if not result.ok:
            if argv is not steps[0]:
                _run_in_node(call, ["umount", mount.mount_point])
            return result.stderr or result.describe()
    return None


def _is_real_mount(call: "StandinCall", mount_point: str) -> bool:
    try:
        table = Path(f"/proc/{call.holder}/mountinfo").read_text()
    except OSError:
        return False
    return any(line.split()[4] == mount_point for line in table.splitlines() if len(line.split()) > 4)


def _real_umount(call: "StandinCall", mount: SimMount) -> str | None:
    if not _is_real_mount(call, mount.mount_point):
        return None  # a mount the simulator alone had (see _mount_point_ready)
    result = _run_in_node(call, ["umount", mount.mount_point])
    return None if result.ok else result.stderr or result.describe()


def _simulated(cluster_handle: Callable[[], CommandResult], argv: tuple[str, ...]) -> CommandResult:
    try:
        return cluster_handle()
    except SimCrashed as crash:
        return exited(argv, CRASHED, stderr=f"{crash}\n")


def answer(call: "StandinCall") -> CommandResult:
    """`mount` or `umount`: the simulator's answer, and the same change made for real."""
    argv = call.argv
    with transaction(call.lab.dir) as cluster:
        host = cluster.node(call.node)
        before = list(host.mounts)
        result = _simulated(lambda: handle(cluster, call.node, argv), argv)
        added = [m for m in host.mounts if m not in before]
        removed = [m for m in before if m not in host.mounts]
        # Also after an injected crash: the command took effect, so must its real half.
        problem = None
        if added:
            problem = _real_mount(call, added[0])
        elif removed:
            problem = _real_umount(call, removed[0])
        if problem is not None:
            host.mounts = before
            return failed(argv, MOUNT_FAILURE, problem if problem.endswith("\n") else problem + "\n")
    return result
