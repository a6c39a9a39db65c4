"""lvm2 report fields -> facts, shared by the JSON and the text parsers.

Both parsers reduce a report row to a mapping from lvm2's field names (`lv_name`, `vg_attr`, ...,
as `-o help` lists them) to the printed strings, wrapped in a `Row` that knows the line each
value came from. The builders here turn such a row into a model; a field the row does not have
is "not shown" (None), an empty string is "no value" (None as well, for names and numbers).
"""

import enum
import re
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TypeVar

from reconciler.observe.errors import ParseError
from reconciler.observe.facts import Unrecognised
from reconciler.observe.lvm_model import (
    ACTIVE_STATES,
    INACTIVE_STATES,
    Allocation,
    LvAttr,
    LvHealth,
    LvmLogicalVolume,
    LvmVolumeGroup,
    LvPermissions,
    LvSegment,
    LvState,
    LvTargetType,
    LvVolumeType,
    PeRange,
    PhysicalVolume,
    PvAllocation,
    PvAttr,
    PvSegment,
    SegmentDevice,
    VgAttr,
    VgPermissions,
    VgSharing,
)

T = TypeVar("T")
E = TypeVar("E", bound=enum.StrEnum)

# Lower case: powers of 1024 (lvm2's default "h" units); upper case: powers of 1000 ("H", or
# --units K/M/...); b/B bytes, s/S 512-byte sectors. "<" marks a value lvm2 rounded up.
_SIZE = re.compile(r"(<)?(\d+(?:\.\d+)?)([bBsSkKmMgGtTpPeE]?)")
_UNITS = {"": 1, "b": 1, "B": 1, "s": 512, "S": 512}
for _i, _u in enumerate("kmgtpe", start=1):
    _UNITS[_u] = 1024**_i
    _UNITS[_u.upper()] = 1000**_i
_INT = re.compile(r"-?\d+")
_PERCENT = re.compile(r"\d+(?:\.\d+)?")
_PE_RANGE = re.compile(r"(.+):(\d+)-(\d+)")
_DEVICE = re.compile(r"(.+)\((\d+)\)")


class Row:
    """One report row: lvm2 field name -> printed value, with where each value came from."""

    def __init__(
        self,
        kind: str,
        fields: Mapping[str, str],
        line_of: Callable[[str], int],
        text_of: Callable[[int], str],
    ) -> None:
        self.kind = kind
        self.fields = fields
        self.line_of = line_of
        self.text_of = text_of
        self.issues: list[Unrecognised] = []
        self.rounded = False

    def fail(self, key: str, message: str) -> ParseError:
        line = self.line_of(key)
        return ParseError(self.kind, f"{key}: {message}", line=line, text=self.text_of(line))

    def get(self, key: str) -> str | None:
        value = self.fields.get(key)
        return value if value else None

    def name(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise self.fail(key, "missing or empty")
        return value

    def integer(self, key: str) -> int | None:
        value = self.get(key)
        if value is None or not value.strip():
            return None
        if not _INT.fullmatch(value.strip()):
            raise self.fail(key, f"not an integer: {value!r}")
        return int(value)

    def percent(self, key: str) -> float | None:
        value = self.get(key)
        if value is None or not value.strip():
            return None
        if not _PERCENT.fullmatch(value.strip()):
            raise self.fail(key, f"not a percentage: {value!r}")
        return float(value)

    def size(self, key: str) -> int | None:
        value = self.get(key)
        # lvm2 prints a zero size in human units as "0 ": strip before reading.
        if value is None or not value.strip():
            return None
        match = _SIZE.fullmatch(value.strip())
        if match is None:
            raise self.fail(key, f"not a size: {value!r}")
        less, number, unit = match.groups()
        if not unit and "." in number:
            # --nosuffix with a unit other than bytes: nothing says which unit it was.
            raise self.fail(key, f"fractional size without a unit (use --units b): {value!r}")
        if less or unit not in ("", "b", "B", "s", "S"):
            self.rounded = True
        exact = Decimal(number) * _UNITS[unit]
        return int(exact.to_integral_value(rounding=ROUND_HALF_EVEN))

    def tags(self, key: str) -> tuple[str, ...] | None:
        if key not in self.fields:
            return None
        value = self.fields[key]
        return tuple(value.split(",")) if value else ()

    def unrecognised(self, key: str, field: str, value: str) -> None:
        self.issues.append(Unrecognised(line=self.line_of(key), field=f"{key}.{field}", value=value))


class _Chars:
    """Decodes an attr string one character at a time; a position past its end is None."""

    def __init__(self, row: Row, key: str, raw: str) -> None:
        self.row, self.key, self.raw = row, key, raw

    def char(self, index: int) -> str | None:
        return self.raw[index] if index < len(self.raw) else None

    def enum(self, index: int, field: str, cls: type[E], *, fold: bool = False) -> E | None:
        """`fold`: the character is upper case to flag something else (lv_attr's locked allocation)."""
        char = self.char(index)
        if char is None:
            return None
        try:
            value = cls(char.lower() if fold else char)
        except ValueError:
            value = cls("?")
        if value == "?":
            self.row.unrecognised(self.key, field, char)
        return value

    def flag(self, index: int, field: str, on: str, unknown: str = "") -> bool | None:
        char = self.char(index)
        if char is None or char == unknown:
            return None
        if char in (on, "-"):
            return char == on
        self.row.unrecognised(self.key, field, char)
        return None


def _required(value: T | None) -> T:
    assert value is not None, "attr strings are checked to be non-empty first"
    return value


def lv_attr(row: Row, key: str = "lv_attr") -> LvAttr | None:
    raw = row.get(key)
    if raw is None:
        return None
    if len(raw) < 6 or " " in raw:
        raise row.fail(key, f"not an lv_attr string: {raw!r}")
    chars = _Chars(row, key, raw)
    # Decoded in character order, so that unrecognised characters are listed in that order too.
    volume_type = _required(chars.enum(0, "volume_type", LvVolumeType))
    permissions = chars.enum(1, "permissions", LvPermissions)
    allocation = chars.enum(2, "allocation", Allocation, fold=True)
    fixed_minor = chars.flag(3, "fixed_minor", "m")
    state = chars.enum(4, "state", LvState)
    return LvAttr(
        raw=raw,
        volume_type=volume_type,
        permissions=permissions,
        allocation=allocation,
        allocation_locked=raw[2].isupper(),
        fixed_minor=fixed_minor,
        state=state,
        active=True if state in ACTIVE_STATES else False if state in INACTIVE_STATES else None,
        open=chars.flag(5, "open", "o", unknown="X"),
        target_type=chars.enum(6, "target_type", LvTargetType),
        zero=chars.flag(7, "zero", "z"),
        health=chars.enum(8, "health", LvHealth),
        skip_activation=chars.flag(9, "skip_activation", "k"),
    )


def vg_attr(row: Row, key: str = "vg_attr") -> VgAttr | None:
    raw = row.get(key)
    if raw is None:
        return None
    if " " in raw:
        raise row.fail(key, f"not a vg_attr string: {raw!r}")
    chars = _Chars(row, key, raw)
    return VgAttr(
        raw=raw,
        permissions=_required(chars.enum(0, "permissions", VgPermissions)),
        resizeable=chars.flag(1, "resizeable", "z"),
        exported=chars.flag(2, "exported", "x"),
        partial=chars.flag(3, "partial", "p"),
        allocation=chars.enum(4, "allocation", Allocation),
        sharing=chars.enum(5, "sharing", VgSharing),
    )


def pv_attr(row: Row, key: str = "pv_attr") -> PvAttr | None:
    raw = row.get(key)
    if raw is None:
        return None
    if " " in raw:
        raise row.fail(key, f"not a pv_attr string: {raw!r}")
    chars = _Chars(row, key, raw)
    return PvAttr(
        raw=raw,
        allocation=_required(chars.enum(0, "allocation", PvAllocation)),
        exported=chars.flag(1, "exported", "x"),
        missing=chars.flag(2, "missing", "m"),
    )


def logical_volume(row: Row, vg: str | None = None) -> LvmLogicalVolume:
    """`vg` is the enclosing VG of a fullreport entry, whose LV rows do not repeat its name."""
    name = row.name("lv_name")
    hidden = name.startswith("[") and name.endswith("]")
    return LvmLogicalVolume(
        name=name[1:-1] if hidden else name,
        hidden=hidden,
        vg=row.get("vg_name") or vg,
        uuid=row.get("lv_uuid"),
        size=row.size("lv_size"),
        attr=lv_attr(row),
        layout=row.get("lv_layout"),
        pool=row.get("pool_lv"),
        origin=row.get("origin"),
        data_percent=row.percent("data_percent"),
        metadata_percent=row.percent("metadata_percent"),
        sync_percent=row.percent("copy_percent"),
        move_pv=row.get("move_pv"),
        mirror_log=row.get("mirror_log"),
        convert_lv=row.get("convert_lv"),
        tags=row.tags("lv_tags"),
        kernel_major=row.integer("lv_kernel_major"),
        kernel_minor=row.integer("lv_kernel_minor"),
        seg_count=row.integer("seg_count"),
        sizes_rounded=row.rounded,
    )


def volume_group(row: Row) -> LvmVolumeGroup:
    return LvmVolumeGroup(
        name=row.name("vg_name"),
        uuid=row.get("vg_uuid"),
        size=row.size("vg_size"),
        free=row.size("vg_free"),
        extent_size=row.size("vg_extent_size"),
        extent_count=row.integer("vg_extent_count"),
        free_count=row.integer("vg_free_count"),
        pv_count=row.integer("pv_count"),
        missing_pv_count=row.integer("vg_missing_pv_count"),
        lv_count=row.integer("lv_count"),
        snap_count=row.integer("snap_count"),
        seqno=row.integer("vg_seqno"),
        attr=vg_attr(row),
        tags=row.tags("vg_tags"),
        sizes_rounded=row.rounded,
    )


def physical_volume(row: Row, vg: str | None = None) -> PhysicalVolume:
    return PhysicalVolume(
        name=row.name("pv_name"),
        vg=row.get("vg_name") or vg,
        uuid=row.get("pv_uuid"),
        fmt=row.get("pv_fmt"),
        size=row.size("pv_size"),
        free=row.size("pv_free"),
        used=row.size("pv_used"),
        dev_size=row.size("dev_size"),
        attr=pv_attr(row),
        tags=row.tags("pv_tags"),
        sizes_rounded=row.rounded,
    )


def _pe_ranges(row: Row, key: str) -> tuple[PeRange, ...] | None:
    if key not in row.fields:
        return None
    ranges = []
    # Older lvm2 separates the ranges with spaces, newer ones with commas.
    for item in row.fields[key].replace(",", " ").split():
        match = _PE_RANGE.fullmatch(item)
        if match is None:
            raise row.fail(key, f"not a PE range: {item!r}")
        device, first, last = match.groups()
        ranges.append(PeRange(device=device, first_pe=int(first), last_pe=int(last)))
    return tuple(ranges)


def _devices(row: Row, key: str) -> tuple[SegmentDevice, ...] | None:
    if key not in row.fields:
        return None
    devices = []
    for item in filter(None, row.fields[key].split(",")):
        match = _DEVICE.fullmatch(item.strip())
        if match is None:
            raise row.fail(key, f"not a device with start extent: {item!r}")
        devices.append(SegmentDevice(device=match.group(1), start_pe=int(match.group(2))))
    return tuple(devices)


def lv_segment(row: Row, vg: str | None = None, lv: str | None = None) -> LvSegment:
    name = row.get("lv_name") or lv
    if name is not None and name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    return LvSegment(
        vg=row.get("vg_name") or vg,
        lv=name,
        lv_uuid=row.get("lv_uuid"),
        segtype=row.get("segtype"),
        start=row.size("seg_start"),
        start_pe=row.integer("seg_start_pe"),
        size=row.size("seg_size"),
        size_pe=row.integer("seg_size_pe"),
        tags=row.tags("seg_tags"),
        pe_ranges=_pe_ranges(row, "seg_pe_ranges"),
        devices=_devices(row, "devices"),
        sizes_rounded=row.rounded,
    )


def pv_segment(row: Row, vg: str | None = None) -> PvSegment:
    return PvSegment(
        vg=vg,
        pv_uuid=row.get("pv_uuid"),
        lv_uuid=row.get("lv_uuid"),
        start_pe=row.integer("pvseg_start"),
        size_pe=row.integer("pvseg_size"),
    )
