"""Storage of an application: one volume group, its logical volumes, DRBD on each, filesystems."""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictStr

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


class VolumeGroup(Model):
    name: Name
    physical_volumes: dict[NodeName, Annotated[tuple[DevicePath, ...], Field(min_length=1)]] = Field(
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
    protocol: Literal["A", "B", "C"] = "C"
    sync_rate: Annotated[Rate, AfterValidator(_check_sync_rate)] = Field(
        default=DEFAULT_SYNC_RATE, description="Resync rate, e.g. 10M/s."
    )
    network: Name | None = Field(
        default=None,
        description="Cluster network carrying replication; the first heartbeat network if unset.",
    )


def _check_mount_point(value: str) -> str:
    if value == "/":
        raise ValueError("an application cannot be mounted on '/'")
    return value


class Filesystem(Model):
    type: FilesystemType
    mount_point: Annotated[AbsolutePath, AfterValidator(_check_mount_point)]
    options: tuple[MountOption, ...] = ()
    fsck: Bool = Field(default=True, description="Check the filesystem before mounting it.")


class LogicalVolume(Model):
    name: LvName
    size: Size
    drbd: Drbd
    filesystem: Filesystem | None = Field(
        default=None, description="Absent for a volume handed raw to the domain (phy: disk)."
    )


class Storage(Model):
    volume_group: VolumeGroup
    logical_volumes: tuple[LogicalVolume, ...] = Field(min_length=1)
