"""util-linux and e2fsprogs stand-ins: mount, umount, findmnt, mountpoint, blkid, fsck, mkfs, mkdir,
test.

Only DRBD devices carry a filesystem in the lab (its type is in the replicated data, see
`DrbdMetadata.fstype`). Opening a Secondary fails with "wrong medium type" as DRBD answers
EMEDIUMTYPE, unless DRBD 9's auto-promote is on and the promotion succeeds.
"""

import posixpath
import re

from reconciler.lab.sim import drbd
from reconciler.lab.sim.drbd import Refused, Side
from reconciler.lab.sim.model import DRBD_MAJOR, DrbdResource, SimMount, SimNode
from reconciler.lab.sim.result import MOUNT_FAILURE, MOUNTPOINT_NOT, failed, ok, unsupported
from reconciler.lab.sim.state import Cluster
from reconciler.observe.drbd.states import DiskState, Role
from reconciler.observe.runner import CommandResult

FSCK_ERROR = 8  # fsck(8): operational error
BLKID_NOTHING = 2  # blkid(8): nothing found (or the device could not be probed)
BLKID_USAGE = 4
_DRBD_DEVICE = re.compile(r"/dev/drbd(\d+)")
_EXT = {"ext2", "ext3", "ext4"}


def drbd_device(node: SimNode, device: str) -> DrbdResource | None:
    match = _DRBD_DEVICE.fullmatch(device)
    return node.drbd.by_minor(int(match[1])) if match else None


def open_problem(cluster: Cluster, node: SimNode, res: DrbdResource) -> str | None:
    """Why the device cannot be opened for writing, or None (auto-promoting where DRBD 9 would)."""
    if res.role is Role.PRIMARY:
        return None
    if node.drbd.nine and node.drbd.auto_promote:
        try:
            drbd.promote(cluster, node, res, force=False)
        except Refused:
            return "Read-only file system"
        return None
    return "Wrong medium type"


def _parent(node: SimNode, mount_point: str) -> int:
    best: SimMount | None = None
    for m in node.mounts:
        inside = mount_point == m.mount_point or mount_point.startswith(m.mount_point.rstrip("/") + "/")
        if inside and (best is None or len(m.mount_point) >= len(best.mount_point)):
            best = m
    return best.mount_id if best is not None else 1


def _mount_args(argv: tuple[str, ...]) -> tuple[str, list[str], str, str] | None:
    args = list(argv[1:])
    if len(args) < 4 or args[0] != "-t":
        return None
    fstype, rest = args[1], args[2:]
    options: list[str] = []
    if rest[0] == "-o" and len(rest) >= 2:
        options, rest = rest[1].split(","), rest[2:]
    if len(rest) != 2:
        return None
    return fstype, options, rest[0], rest[1]


def _mount_problem(cluster: Cluster, node: SimNode, fstype: str, device: str, mount_point: str) -> str | None:
    if mount_point not in node.directories:
        return "mount point does not exist."
    res = drbd_device(node, device)
    if res is None:
        return f"special device {device} does not exist."
    top = node.mount_at(mount_point)
    if top is not None and top.source == device:
        return f"{device} already mounted on {mount_point}."
    problem = open_problem(cluster, node, res)
    if problem is not None:
        return f"cannot mount {device}: {problem.lower()}."
    if Side(node, res).md.fstype != fstype:
        return (
            f"wrong fs type, bad option, bad superblock on {device}, missing codepage or helper program, or "
            "other error.\n       dmesg(1) may have more information after failed mount system call."
        )
    return None


def mount(cluster: Cluster, node: SimNode, argv: tuple[str, ...], timeout: float) -> CommandResult:
    parsed = _mount_args(argv)
    if parsed is None:
        return unsupported(argv, MOUNT_FAILURE)
    fstype, options, device, mount_point = parsed
    problem = _mount_problem(cluster, node, fstype, device, mount_point)
    res = drbd_device(node, device)
    if problem is not None or res is None:
        return failed(argv, MOUNT_FAILURE, f"mount: {mount_point}: {problem}\n")
    node.mounts.append(
        SimMount(
            mount_id=node.next_mount_id,
            parent_id=_parent(node, mount_point),
            mount_point=mount_point,
            source=device,
            fstype=fstype,
            options=options or ["rw"],
            major=DRBD_MAJOR,
            minor=res.minor,
        )
    )
    node.next_mount_id += 1
    return ok(argv)


def umount(cluster: Cluster, node: SimNode, argv: tuple[str, ...], timeout: float) -> CommandResult:
    if len(argv) != 2:
        return unsupported(argv, MOUNT_FAILURE)
    mount_point = argv[1]
    top = node.mount_at(mount_point)
    if mount_point not in node.directories:
        return failed(argv, MOUNT_FAILURE, f"umount: {mount_point}: no mount point specified.\n")
    if top is None:
        return failed(argv, MOUNT_FAILURE, f"umount: {mount_point}: not mounted.\n")
    inside = mount_point.rstrip("/") + "/"
    children = any(m.parent_id == top.mount_id for m in node.mounts)
    used = any(p.startswith(inside) for d in node.xen.domains for p in d.devices)
    if children or used:
        return failed(argv, MOUNT_FAILURE, f"umount: {mount_point}: target is busy.\n")
    node.mounts.remove(top)
    return ok(argv)


def findmnt(cluster: Cluster, node: SimNode, argv: tuple[str, ...], timeout: float) -> CommandResult:
    if argv[1:5] != ("-n", "-o", "SOURCE", "--mountpoint") or len(argv) != 6:
        return unsupported(argv)
    top = node.mount_at(argv[5])
    return ok(argv, f"{top.source}\n") if top is not None else failed(argv, 1)


def mountpoint(cluster: Cluster, node: SimNode, argv: tuple[str, ...], timeout: float) -> CommandResult:
    if argv[1:2] != ("-q",) or len(argv) != 3:
        return unsupported(argv)
    path = argv[2]
    if path not in node.directories:
        return failed(argv, 1)
    return ok(argv) if node.mount_at(path) is not None else failed(argv, MOUNTPOINT_NOT)


def fsck(cluster: Cluster, node: SimNode, argv: tuple[str, ...], timeout: float) -> CommandResult:
    args = [a for a in argv[1:] if a not in ("-p", "-T")]
    if len(args) != 3 or args[0] != "-t":
        return unsupported(argv, FSCK_ERROR)
    fstype, device = args[1], args[2]
    checker = f"fsck.{fstype}"
    res = drbd_device(node, device)
    if res is None:
        return failed(
            argv,
            FSCK_ERROR,
            f"{checker}: No such file or directory while trying to open {device}\n"
            "Possibly non-existent device?\n",
        )
    if any(m.source == device for m in node.mounts):
        return failed(argv, FSCK_ERROR, f"{device} is mounted.\ne2fsck: Cannot continue, aborting.\n\n\n")
    problem = open_problem(cluster, node, res)
    if problem is not None:
        return failed(argv, FSCK_ERROR, f"{checker}: {problem} while trying to open {device}\n")
    actual = Side(node, res).md.fstype
    if actual is None or (actual != fstype and not {actual, fstype} <= _EXT):
        return failed(
            argv, FSCK_ERROR, f"{checker}: Bad magic number in super-block while trying to open {device}\n"
        )
    return ok(argv, f"{device}: clean, 11/65536 files, 12955/262144 blocks\n")


def mkfs(cluster: Cluster, node: SimNode, argv: tuple[str, ...], timeout: float) -> CommandResult:
    """`mkfs -t TYPE DEV` or `mkfs.TYPE DEV` (not in the planner's vocabulary: for tests and users)."""
    if argv[0] == "mkfs" and len(argv) == 4 and argv[1] == "-t":
        fstype, device = argv[2], argv[3]
    elif argv[0].startswith("mkfs.") and len(argv) == 2:
        fstype, device = argv[0].split(".", 1)[1], argv[1]
    else:
        return unsupported(argv)
    res = drbd_device(node, device)
    if res is None:
        return failed(
            argv, 1, "mke2fs: No such file or directory while trying to determine filesystem size\n"
        )
    if any(m.source == device for m in node.mounts):
        return failed(
            argv,
            1,
            f"{device} contains a {fstype} file system\n\t/dev is apparently in use by the system; "
            "will not make a filesystem here!\n",
        )
    problem = open_problem(cluster, node, res)
    if problem is not None:
        return failed(argv, 1, f"mke2fs: {problem} while trying to determine filesystem size\n")
    drbd.make_filesystem(cluster, node, res, fstype)
    return ok(
        argv,
        f"Creating filesystem with {res.size // 4096} 4k blocks\nWriting superblocks and filesystem "
        "accounting information: done\n",
    )


def _read_problem(node: SimNode, res: DrbdResource) -> str | None:
    """Opening read-only: a Primary; on DRBD 9 also a Secondary with UpToDate data; never on 8.4."""
    if res.role is Role.PRIMARY or (node.drbd.nine and Side(node, res).md.disk is DiskState.UP_TO_DATE):
        return None
    return "Wrong medium type"


def blkid(cluster: Cluster, node: SimNode, argv: tuple[str, ...], timeout: float) -> CommandResult:
    """`blkid -p -s TYPE -o value DEV`: the filesystem type; exit 2 when none is found."""
    if argv[1:6] != ("-p", "-s", "TYPE", "-o", "value") or len(argv) != 7:
        return unsupported(argv, BLKID_USAGE)
    device = argv[6]
    res = drbd_device(node, device)
    if res is None:
        return failed(argv, BLKID_NOTHING, f"blkid: error: {device}: No such file or directory\n")
    problem = _read_problem(node, res)
    if problem is not None:
        return failed(argv, BLKID_NOTHING, f"blkid: error: {device}: {problem}\n")
    fstype = Side(node, res).md.fstype
    return ok(argv, f"{fstype}\n") if fstype else failed(argv, BLKID_NOTHING)


def mkdir(cluster: Cluster, node: SimNode, argv: tuple[str, ...], timeout: float) -> CommandResult:
    parents = "-p" in argv[1:]
    paths = [a for a in argv[1:] if a != "-p"]
    if len(paths) != 1 or not paths[0].startswith("/") or any(a.startswith("-") for a in paths):
        return unsupported(argv)
    path = posixpath.normpath(paths[0])
    chain = []
    current = path
    while current not in node.directories:
        if current in node.files:
            return failed(argv, 1, f"mkdir: cannot create directory '{path}': Not a directory\n")
        chain.append(current)
        current = posixpath.dirname(current)
    if not chain and not parents:
        return failed(argv, 1, f"mkdir: cannot create directory '{path}': File exists\n")
    if len(chain) > 1 and not parents:
        return failed(argv, 1, f"mkdir: cannot create directory '{path}': No such file or directory\n")
    node.directories.extend(reversed(chain))
    return ok(argv)


def test(cluster: Cluster, node: SimNode, argv: tuple[str, ...], timeout: float) -> CommandResult:
    if len(argv) != 3 or argv[1] not in ("-d", "-e", "-f"):
        return unsupported(argv, 2)
    path = posixpath.normpath(argv[2])
    present = {
        "-d": path in node.directories,
        "-f": path in node.files,
        "-e": path in node.directories or path in node.files,
    }[argv[1]]
    return ok(argv) if present else failed(argv, 1)
