"""The lab nodes' disks: a sparse file on a loop device for each physical volume, and real lvm2.

Each node gets the physical volumes the manifests declare for it (`/dev/hda` on both nodes of
the seed), each a sparse image in `<lab>/<node>/disks/` attached to a loop device, and its own
`<lab>/<node>/lvm/lvm.conf` (LVM_SYSTEM_DIR): activation off (this kernel has no device-mapper:
metadata is real, LV device nodes never appear), a filter that accepts only the node's own
disks, no udev, no hints or backups outside the lab. At boot, `nodedev.py` shows the loop device
in the node's own /dev under the manifest's name. `pvcreate`, `vgcreate`, `lvcreate`, `lvremove`
and the JSON reports are then lvm2's own, on each node's disks alone.

Every disk is recorded in the inventory before its image or loop device is made; `detach_all`
also finds loop devices by their backing file under the lab's directory, for what a crash left
unrecorded.
"""

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

from reconciler.lab.errors import CommandFailed, LabError
from reconciler.lab.inventory import DiskRecord, Lab
from reconciler.lab.sim.rounds import DISK_SIZE
from reconciler.manifest import ManifestSet
from reconciler.observe.runner import DEFAULT_TIMEOUT, Runner

LVM_DIR = "lvm"
DISKS_DIR = "disks"
DEV_STAGING = "dev"
LVM_SYSTEM_DIR_ENV = "LVM_SYSTEM_DIR"
# Characters a disk path may have here: it goes into lvm.conf's filter and into an image name.
_SAFE_PATH = re.compile(r"/dev/[A-Za-z0-9_/.-]+")
LVM_CONF = """# Written by `reconciler lab up` for node {node}: real lvm2 on this node's loop devices only.
devices {{
    filter = [ {accept}"r|.*|" ]
    global_filter = [ {accept}"r|.*|" ]
    scan = [ "/dev" ]
    obtain_device_list_from_udev = 0
    external_device_info_source = "none"
    use_devicesfile = 0
    hints = "none"
}}
global {{
    activation = 0
    locking_dir = "{lock}"
    use_lvmpolld = 0
    event_activation = 0
}}
activation {{
    udev_sync = 0
    udev_rules = 0
    monitoring = 0
}}
backup {{
    backup = 0
    archive = 0
}}
"""


def plan_disks(lab_dir: Path, manifests: ManifestSet) -> list[DiskRecord]:
    """One record per (node, physical volume) the applications declare."""
    wanted: dict[tuple[str, str], None] = {}
    for app in manifests.applications:
        for node, paths in app.document.spec.storage.volume_group.physical_volumes.items():
            for path in paths:
                wanted[(node, str(path))] = None
    records = []
    for node, path in wanted:
        if not _SAFE_PATH.fullmatch(path) or ".." in path:
            raise LabError(f"the lab cannot give node {node} the disk {path!r}: use letters, digits, _ . - /")
        image = lab_dir / node / DISKS_DIR / (path.removeprefix("/dev/").replace("/", "_") + ".img")
        records.append(DiskRecord(node=node, path=path, image=str(image), size=DISK_SIZE))
    return records


def lvm_dir(lab_dir: Path, node: str) -> Path:
    return lab_dir / node / LVM_DIR


def staging_dir(lab_dir: Path, node: str) -> Path:
    return lab_dir / node / DEV_STAGING


def lvm_conf(node: str, paths: Iterable[str], lock_dir: Path) -> str:
    # `[.]` rather than `\.`: lvm.conf strings would need the backslash escaped again.
    accept = "".join(f'"a|^{p.replace(".", "[.]")}$|", ' for p in sorted(paths))
    return LVM_CONF.format(node=node, accept=accept, lock=lock_dir)


def write_lvm_conf(lab: Lab, node: str) -> None:
    directory = lvm_dir(lab.dir, node)
    (directory / "lock").mkdir(parents=True, exist_ok=True)
    paths = [d.path for d in lab.inventory.disks if d.node == node]
    (directory / "lvm.conf").write_text(lvm_conf(node, paths, directory / "lock"))


def lvm_env(lab_dir: Path, node: str) -> dict[str, str]:
    """What points lvm2 at the node's configuration; nothing for a lab without one."""
    directory = lvm_dir(lab_dir, node)
    if not (directory / "lvm.conf").is_file():
        return {}
    # lvm2 warns of every inherited descriptor: noise in each report's stderr.
    return {LVM_SYSTEM_DIR_ENV: str(directory), "LVM_SUPPRESS_FD_WARNINGS": "1"}


def attach_all(lab: Lab) -> None:
    """Make each recorded disk's sparse image and loop device (those not attached yet)."""
    for record in lab.inventory.disks:
        if record.loop is not None:
            continue
        image = Path(record.image)
        image.parent.mkdir(parents=True, exist_ok=True)
        with image.open("ab") as handle:
            handle.truncate(record.size)  # sparse: blocks are taken only as LVM writes
        result = lab.runner.run(["losetup", "--find", "--show", str(image)], DEFAULT_TIMEOUT)
        if not result.ok:
            raise CommandFailed(result)
        record.loop = result.stdout.strip()
        lab.save()


def device_args(lab: Lab, node: str) -> list[str]:
    """`PATH=MAJOR:MINOR` of each of the node's attached disks, for nodedev.py."""
    args = []
    for record in lab.inventory.disks:
        if record.node == node and record.loop is not None:
            device = os.stat(record.loop).st_rdev
            args.append(f"{record.path}={os.major(device)}:{os.minor(device)}")
    return args


def lab_loops(runner: Runner, lab_dir: Path) -> list[str]:
    """The loop devices whose backing file is in the lab's directory (deleted or not)."""
    result = runner.run(["losetup", "--list", "--json", "--output", "NAME,BACK-FILE"], DEFAULT_TIMEOUT)
    if not result.ok:
        raise CommandFailed(result)
    if not result.stdout.strip():
        return []  # no loop device at all: older losetup prints nothing
    inside = f"{lab_dir.resolve()}/"
    return sorted(
        entry["name"]
        for entry in json.loads(result.stdout).get("loopdevices", [])
        if str(entry.get("back-file") or "").startswith(inside)
    )


def detach_all(runner: Runner, lab_dir: Path) -> list[str]:
    """Detach every loop device of the lab; the devices detached."""
    detached = []
    for loop in lab_loops(runner, lab_dir):
        result = runner.run(["losetup", "--detach", loop], DEFAULT_TIMEOUT)
        if not result.ok:
            raise CommandFailed(result)
        detached.append(loop)
    return detached
