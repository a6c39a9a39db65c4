"""Storage of an application: one volume group, its logical volumes, DRBD on each, filesystems."""

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictStr

from reconciler.manifest.codes import rule_error
from reconciler.manifest.common import Bool, Int, Model, Port
from reconciler.manifest.names import AbsolutePath, DevicePath, LvName, Name, NodeName
from reconciler.manifest.units import Rate, Size

DRBD_MAX_MINOR = 1048575  # 2**20 - 1, DRBD's own limit
DEFAULT_SYNC_RATE = 10 * 2**20


class FilesystemType(StrEnum):
    EXT2 = "ext2"
    EXT3 = "ext3"
    EXT4 = "ext4"
    XFS = "xfs"
    BTRFS = "btrfs"


def _check_mount_option(value: str) -> str:
    # Options are joined with ',' into one `mount -o` word; a comma or space inside one would
    # smuggle in another option.
    if not value or any(c in value for c in ", \t\n\0"):
        raise ValueError(f"{value!r} is not a single mount option (no commas or spaces)")
    if value.startswith("-"):
        raise ValueError(f"{value!r}: a mount option cannot start with '-'")
    return value


MountOption = Annotated[StrictStr, AfterValidator(_check_mount_option)]


_DRBD_DEVICE = re.compile(r"/dev/drbd([0-9]+|/.*)")


def _check_physical_volume(value: str) -> str:
    # The volume group lies below DRBD: a DRBD device as its physical volume would stack the group
    # on a device that only exists once the group's own volumes do.
    if _DRBD_DEVICE.fullmatch(value):
        raise rule_error(
            "pv-is-drbd", f"{value!r} is a DRBD device: physical volumes are the disks below DRBD"
        )
    return value


PhysicalVolume = Annotated[DevicePath, AfterValidator(_check_physical_volume)]


class VolumeGroup(Model):
    name: Name = Field(
        description="The LVM volume group, created on the physical volumes (unique in the cluster)."
    )
    physical_volumes: dict[NodeName, Annotated[tuple[PhysicalVolume, ...], Field(min_length=1)]] = Field(
        description="The physical volumes of the group on each node (they may differ between nodes)."
    )


def _check_sync_rate(value: int) -> int:
    # DRBD counts the resync rate in KiB/s, from 1K to 4G: anything else it would round or refuse.
    if value % 1024 or not 1024 <= value <= 4 * 2**30:
        raise ValueError("syncRate must be a whole number of KiB/s between 1K/s and 4G/s")
    return value


class Drbd(Model):
    resource: Name = Field(description="DRBD resource name: /etc/drbd.d/<resource>.res")
    minor: Annotated[Int, Field(ge=0, le=DRBD_MAX_MINOR)] = Field(description="Device /dev/drbd<minor>.")
    port: Port = Field(description="TCP port of the replication link (unique in the cluster).")
    protocol: Literal["A", "B", "C"] = Field(
        default="C", description="DRBD's replication protocol: C synchronous, A asynchronous, B memory."
    )
    sync_rate: Annotated[Rate, AfterValidator(_check_sync_rate)] = Field(
        default=DEFAULT_SYNC_RATE, description="Resync rate, e.g. 10M/s."
    )
    network: Name | None = Field(
        default=None,
        description="Cluster network carrying replication; the first heartbeat network if unset.",
    )


# Mounting over these would hide the running system's own files; /var is refused at its top
# level only (/var/lib/app is a usual mount point).
SYSTEM_MOUNT_POINTS = ("/", "/boot", "/dev", "/etc", "/proc", "/run", "/sys", "/usr", "/var")
# Kernel filesystems: nothing of an application is mounted anywhere inside them.
VIRTUAL_TREES = ("/dev", "/proc", "/sys")


def _check_mount_point(value: str) -> str:
    if value in SYSTEM_MOUNT_POINTS:
        raise rule_error(
            "system-mount-point",
            f"an application cannot be mounted on {value!r}: it would hide the system's files",
        )
    for tree in VIRTUAL_TREES:
        if value.startswith(tree + "/"):
            raise rule_error(
                "system-mount-point", f"{value!r} lies inside {tree}, a kernel filesystem: mount it elsewhere"
            )
    return value


class Filesystem(Model):
    type: FilesystemType = Field(description="Made with mkfs.<type> on first build.")
    mount_point: Annotated[AbsolutePath, AfterValidator(_check_mount_point)] = Field(
        description="Where it is mounted on the active node; not a system directory nor the state directory."
    )
    options: tuple[MountOption, ...] = Field(default=(), description="`mount -o` options, one per item.")
    fsck: Bool = Field(default=True, description="Check the filesystem before mounting it.")


class LogicalVolume(Model):
    name: LvName = Field(description="The LVM logical volume, /dev/<volumeGroup>/<name>.")
    size: Size = Field(description="Its size, e.g. 8G (GiB, as lvcreate -L reads it).")
    drbd: Drbd = Field(description="The DRBD resource that replicates it to the other node.")
    filesystem: Filesystem | None = Field(
        default=None, description="Absent for a volume handed raw to the domain (phy: disk)."
    )


class Storage(Model):
    volume_group: VolumeGroup = Field(description="The group holding the application's volumes.")
    logical_volumes: tuple[LogicalVolume, ...] = Field(
        min_length=1, description="Each volume, replicated by DRBD, with an optional filesystem."
    )
