"""Facts parsed from lvm2's reports (`lvs`, `vgs`, `pvs`, `lvm fullreport`), whatever the format.

Every field that a report may leave out (a column not asked for, an old lvm2 without it) is
`None` when it was not shown: "not shown" is never confused with a value. Sizes are bytes; when a
size came from a human unit ("<14.00g", "1.31t") it is rounded, and the object says so in
`sizes_rounded` so that no one compares it with a declared size to the byte.

The attribute strings are kept as printed (`raw`) and decoded one character per field, with the
enum values spelled exactly as lvm2 prints them (lvs(8), vgs(8), pvs(8): "The lv_attr bits are").
"""

import enum

from reconciler.observe.facts import Fact, Unrecognised


class LvVolumeType(enum.StrEnum):
    """lv_attr character 1."""

    SIMPLE = "-"  # linear or striped: the segment type says which
    CACHE = "C"
    MIRRORED = "m"
    MIRRORED_NOT_SYNCED = "M"
    ORIGIN = "o"
    ORIGIN_MERGING = "O"
    RAID = "r"
    RAID_NOT_SYNCED = "R"
    SNAPSHOT = "s"
    SNAPSHOT_MERGING = "S"
    PVMOVE = "p"
    VIRTUAL = "v"
    IMAGE = "i"
    IMAGE_OUT_OF_SYNC = "I"
    MIRROR_LOG = "l"
    CONVERTING = "c"
    THIN_VOLUME = "V"
    THIN_POOL = "t"
    THIN_POOL_DATA = "T"
    VDO_POOL = "d"
    VDO_POOL_DATA = "D"
    METADATA = "e"  # raid or pool metadata, or the pool metadata spare
    UNRECOGNISED = "?"


class LvPermissions(enum.StrEnum):
    """lv_attr character 2."""

    WRITEABLE = "w"
    READ_ONLY = "r"
    READ_ONLY_ACTIVATION = "R"  # active read-only although its metadata says writeable
    NONE = "-"  # pvmove LVs
    UNRECOGNISED = "?"


class Allocation(enum.StrEnum):
    """lv_attr character 3 (upper case there when locked) and vg_attr character 5."""

    ANYWHERE = "a"
    CONTIGUOUS = "c"
    INHERITED = "i"
    CLING = "l"
    NORMAL = "n"
    UNRECOGNISED = "?"


class LvState(enum.StrEnum):
    """lv_attr character 5."""

    NOT_ACTIVE = "-"
    ACTIVE = "a"
    HISTORICAL = "h"
    SUSPENDED = "s"
    INVALID_SNAPSHOT = "I"
    SUSPENDED_INVALID_SNAPSHOT = "S"
    SNAPSHOT_MERGE_FAILED = "m"
    SUSPENDED_SNAPSHOT_MERGE_FAILED = "M"
    DEVICE_WITHOUT_TABLES = "d"
    INACTIVE_TABLE = "i"
    CHECK_NEEDED = "c"
    SUSPENDED_CHECK_NEEDED = "C"
    UNKNOWN = "X"  # lvm2 could not ask device-mapper (activation disabled, no driver)
    UNRECOGNISED = "?"


# A live device-mapper table is loaded: the LV's device exists and carries I/O (or is suspended).
ACTIVE_STATES = frozenset(
    {
        LvState.ACTIVE,
        LvState.SUSPENDED,
        LvState.INVALID_SNAPSHOT,
        LvState.SUSPENDED_INVALID_SNAPSHOT,
        LvState.SNAPSHOT_MERGE_FAILED,
        LvState.SUSPENDED_SNAPSHOT_MERGE_FAILED,
        LvState.CHECK_NEEDED,
        LvState.SUSPENDED_CHECK_NEEDED,
    }
)
INACTIVE_STATES = frozenset(
    {LvState.NOT_ACTIVE, LvState.HISTORICAL, LvState.DEVICE_WITHOUT_TABLES, LvState.INACTIVE_TABLE}
)


class LvTargetType(enum.StrEnum):
    """lv_attr character 7."""

    NONE = "-"
    CACHE = "C"
    MIRROR = "m"
    RAID = "r"
    SNAPSHOT = "s"
    THIN = "t"
    UNKNOWN = "u"
    VIRTUAL = "v"
    UNRECOGNISED = "?"


class LvHealth(enum.StrEnum):
    """lv_attr character 9."""

    OK = "-"
    PARTIAL = "p"  # one of its PVs is missing
    UNKNOWN = "X"
    REFRESH_NEEDED = "r"
    MISMATCHES = "m"
    WRITEMOSTLY = "w"
    RESHAPING = "s"
    REMOVE_AFTER_RESHAPE = "R"
    FAILED = "F"
    OUT_OF_DATA_SPACE = "D"
    METADATA_READ_ONLY = "M"
    ERROR = "E"
    UNRECOGNISED = "?"


class VgPermissions(enum.StrEnum):
    """vg_attr character 1."""

    WRITEABLE = "w"
    READ_ONLY = "r"
    UNRECOGNISED = "?"


class VgSharing(enum.StrEnum):
    """vg_attr character 6."""

    LOCAL = "-"
    CLUSTERED = "c"
    SHARED = "s"
    UNRECOGNISED = "?"


class PvAllocation(enum.StrEnum):
    """pv_attr character 1."""

    NOT_ALLOCATABLE = "-"  # orphan PVs, and PVs set with `pvchange -x n`
    ALLOCATABLE = "a"
    USED = "u"
    DUPLICATE = "d"
    UNRECOGNISED = "?"


class LvAttr(Fact):
    """lv_attr decoded. lvm2 before 2.02.9x printed 6 characters, later 8, 9, then 10: the
    characters a version does not print are None."""

    raw: str
    volume_type: LvVolumeType
    permissions: LvPermissions | None
    allocation: Allocation | None
    allocation_locked: bool | None
    fixed_minor: bool | None
    state: LvState | None
    # True when device-mapper has a live table for it; None when lvm2 could not tell ("X").
    active: bool | None
    # None when lvm2 could not tell ("X").
    open: bool | None
    target_type: LvTargetType | None
    zero: bool | None
    health: LvHealth | None
    skip_activation: bool | None


class VgAttr(Fact):
    raw: str
    permissions: VgPermissions
    resizeable: bool | None
    exported: bool | None
    # One or more of its PVs is missing.
    partial: bool | None
    allocation: Allocation | None
    sharing: VgSharing | None


class PvAttr(Fact):
    raw: str
    allocation: PvAllocation
    exported: bool | None
    missing: bool | None


class LvmMessage(Fact):
    """A line lvm2 wrote to stderr that came interleaved with the report (`2>&1`), or an entry of
    a JSON report's "log" array. Kept so that a warning such as a missing PV is not lost."""

    line: int
    text: str
    # The JSON log's log_type ("error", "warn", "print", "status"); None for a stderr line.
    level: str | None = None


class PeRange(Fact):
    """One entry of seg_pe_ranges: `/dev/sda5:0-15`, or a sub-LV `mirr_rimage_0:0-7`."""

    device: str
    first_pe: int
    last_pe: int


class SegmentDevice(Fact):
    """One entry of `devices`: `/dev/sda5(16)` is extent 16 of /dev/sda5."""

    device: str
    start_pe: int


class LvSegment(Fact):
    """A segment of an LV (a row of `lvs --segments`-style output, or a fullreport "seg" entry)."""

    vg: str | None = None
    lv: str | None = None
    lv_uuid: str | None = None
    segtype: str | None = None
    start: int | None = None
    start_pe: int | None = None
    size: int | None = None
    size_pe: int | None = None
    tags: tuple[str, ...] | None = None
    pe_ranges: tuple[PeRange, ...] | None = None
    devices: tuple[SegmentDevice, ...] | None = None
    sizes_rounded: bool = False


class PvSegment(Fact):
    """A fullreport "pvseg" entry: a run of extents of a PV, used by an LV or free (lv_uuid None)."""

    vg: str | None = None
    pv_uuid: str | None = None
    lv_uuid: str | None = None
    start_pe: int | None = None
    size_pe: int | None = None


class LvmLogicalVolume(Fact):
    name: str
    # lvm2 prints internal LVs (`lvs -a`) in brackets: "[pool_tmeta]" is name "pool_tmeta", hidden.
    hidden: bool = False
    vg: str | None = None
    uuid: str | None = None
    size: int | None = None
    attr: LvAttr | None = None
    layout: str | None = None
    pool: str | None = None
    origin: str | None = None
    data_percent: float | None = None
    metadata_percent: float | None = None
    # Cpy%Sync: raid/mirror synchronisation, or pvmove progress.
    sync_percent: float | None = None
    move_pv: str | None = None
    mirror_log: str | None = None
    convert_lv: str | None = None
    tags: tuple[str, ...] | None = None
    kernel_major: int | None = None
    kernel_minor: int | None = None
    seg_count: int | None = None
    sizes_rounded: bool = False


class LvmVolumeGroup(Fact):
    name: str
    uuid: str | None = None
    size: int | None = None
    free: int | None = None
    extent_size: int | None = None
    extent_count: int | None = None
    free_count: int | None = None
    pv_count: int | None = None
    missing_pv_count: int | None = None
    lv_count: int | None = None
    snap_count: int | None = None
    seqno: int | None = None
    attr: VgAttr | None = None
    tags: tuple[str, ...] | None = None
    sizes_rounded: bool = False


class PhysicalVolume(Fact):
    # The device path; a missing PV is "[unknown]" (lvm2 2.02.x: "unknown device").
    name: str
    # None for an orphan PV (lvm2 prints an empty VG name).
    vg: str | None = None
    uuid: str | None = None
    fmt: str | None = None
    size: int | None = None
    free: int | None = None
    used: int | None = None
    dev_size: int | None = None
    attr: PvAttr | None = None
    tags: tuple[str, ...] | None = None
    sizes_rounded: bool = False


class LvsReport(Fact):
    lvs: tuple[LvmLogicalVolume, ...]
    # Only outputs that print segment fields fill this (one entry per output row).
    segments: tuple[LvSegment, ...] = ()
    messages: tuple[LvmMessage, ...] = ()
    unrecognised: tuple[Unrecognised, ...] = ()


class VgsReport(Fact):
    vgs: tuple[LvmVolumeGroup, ...]
    messages: tuple[LvmMessage, ...] = ()
    unrecognised: tuple[Unrecognised, ...] = ()


class PvsReport(Fact):
    pvs: tuple[PhysicalVolume, ...]
    messages: tuple[LvmMessage, ...] = ()
    unrecognised: tuple[Unrecognised, ...] = ()


class LvmFullReport(Fact):
    """`lvm fullreport`: every VG with its PVs, LVs and segments, flattened (each item names its VG).

    Orphan PVs (no VG) come with `vg` None."""

    vgs: tuple[LvmVolumeGroup, ...]
    pvs: tuple[PhysicalVolume, ...]
    lvs: tuple[LvmLogicalVolume, ...]
    segments: tuple[LvSegment, ...] = ()
    pv_segments: tuple[PvSegment, ...] = ()
    messages: tuple[LvmMessage, ...] = ()
    unrecognised: tuple[Unrecognised, ...] = ()
