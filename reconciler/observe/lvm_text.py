"""lvm2's plain-text reports: the aligned tables of `lvs`, `vgs`, `pvs`, and two --noheadings forms.

Aligned tables: lvm2 pads every column to its widest cell plus one space, headings left-aligned,
numbers and sizes right-aligned, so a cell is the slice of its line from its heading's first
column up to the next heading; a blank slice is an empty cell (an LV without pool, an orphan PV's
VG). Splitting on whitespace would shift every cell after an empty one.

--noheadings output has no heading to tell the columns, so each such kind is bound to one column
list: `vgs --noheadings` with the default columns (none of them can be empty, so whitespace
splits them), and Ganeti's `lvs --noheadings --separator ";" -o <LVS_GANETI_FIELDS>`.

Callers often merge stderr into the report (`2>&1`). lvm2's diagnostics ("WARNING: ...",
"Couldn't find device with uuid ...", "File descriptor 9 (...) leaked ...") then come between
the lines; a line that is not a valid row but reads as such a diagnostic becomes a message of the
report, never silently dropped; any other line is a ParseError.
"""

import re
from collections.abc import Callable, Iterator
from typing import TypeVar

from reconciler.observe.errors import ParseError
from reconciler.observe.facts import Unrecognised
from reconciler.observe.lvm_fields import Row, logical_volume, lv_segment, physical_volume, volume_group
from reconciler.observe.lvm_model import (
    LvmLogicalVolume,
    LvmMessage,
    LvSegment,
    LvsReport,
    PvsReport,
    VgsReport,
)

M = TypeVar("M")

# The message shapes lvm2 and libdevmapper write to stderr: a severity tag, a device path followed
# by a colon ("/dev/sdc: read failed ..."), or one of the untagged sentences of older versions.
_DIAGNOSTIC = re.compile(
    r"\s*(?:"
    r"(?:WARNING|Warning|ERROR|Error|Internal error|FATAL)\b"
    r"|/\S*: "
    r"|File descriptor \d+ .* leaked on "
    r"|(?:Couldn't|Could not|Cannot|Can't|Failed|Failure|Unable) "
    r"|Check that device-mapper"
    r"|Incompatible libdevmapper"
    r"|No volume groups found"
    r"|Volume group \".*\" not found"
    r"|Found duplicate PV"
    r"|Skipping "
    r"|Reading (?:all physical volumes|volume groups)"
    r"|Incorrect metadata"
    r")"
)
# lvm2's rule for VG and LV names; internal LVs are printed in brackets.
_LVM_NAME = re.compile(r"\[?[A-Za-z0-9+_.-]+\]?")

LVS_HEADINGS = {
    "LV": "lv_name",
    "VG": "vg_name",
    "Attr": "lv_attr",
    "LSize": "lv_size",
    "Pool": "pool_lv",
    "Origin": "origin",
    "Data%": "data_percent",
    "Snap%": "data_percent",  # lvm2 2.02 before Data% existed
    "Meta%": "metadata_percent",
    "Move": "move_pv",
    "Log": "mirror_log",
    "Cpy%Sync": "copy_percent",
    "Copy%": "copy_percent",  # lvm2 2.02
    "Convert": "convert_lv",
    "LV UUID": "lv_uuid",
    "LV Tags": "lv_tags",
    "Layout": "lv_layout",
    "KMaj": "lv_kernel_major",
    "KMin": "lv_kernel_minor",
    "#Seg": "seg_count",
}
VGS_HEADINGS = {
    "VG": "vg_name",
    "#PV": "pv_count",
    "#LV": "lv_count",
    "#SN": "snap_count",
    "Attr": "vg_attr",
    "VSize": "vg_size",
    "VFree": "vg_free",
    "VG UUID": "vg_uuid",
    "VG Tags": "vg_tags",
    "Ext": "vg_extent_size",
    "#Ext": "vg_extent_count",
    "Free": "vg_free_count",
    "Seq": "vg_seqno",
}
PVS_HEADINGS = {
    "PV": "pv_name",
    "VG": "vg_name",
    "Fmt": "pv_fmt",
    "Attr": "pv_attr",
    "PSize": "pv_size",
    "PFree": "pv_free",
    "Used": "pv_used",
    "DevSize": "dev_size",
    "PV UUID": "pv_uuid",
    "PV Tags": "pv_tags",
}
# Headings that contain a space (from lvm2 2.03's field table); any other heading is one word.
_TWO_WORD_HEADINGS = frozenset(
    {
        "LV UUID",
        "LV Tags",
        "VG UUID",
        "VG Tags",
        "PV UUID",
        "PV Tags",
        "1st PE",
        "Seg Tags",
        "PE Ranges",
        "SYS ID",
        "System ID",
        "Data UUID",
        "Meta UUID",
        "Metadata Devs",
    }
)

VGS_DEFAULT_FIELDS = ("vg_name", "pv_count", "lv_count", "snap_count", "vg_attr", "vg_size", "vg_free")
# ganeti's lvParams (src/Ganeti/Storage/Lvm/LVParser.hs): one row per LV segment.
LVS_GANETI_FIELDS = (
    "lv_uuid", "lv_name", "lv_attr", "lv_major", "lv_minor", "lv_kernel_major", "lv_kernel_minor",
    "lv_size", "seg_count", "lv_tags", "modules", "vg_uuid", "vg_name", "segtype", "seg_start",
    "seg_start_pe", "seg_size", "seg_tags", "seg_pe_ranges", "devices",
)  # fmt: skip


def _lines(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield number, line


def _checked_names(row: Row) -> Row:
    for key in ("lv_name", "vg_name"):
        value = row.get(key)
        if value is not None and not _LVM_NAME.fullmatch(value):
            raise row.fail(key, f"not an lvm2 name: {value!r}")
    return row


class _LvmTextReader:
    """Walks the lines of a text report: rows become models, diagnostics become messages."""

    def __init__(self, kind: str, text: str) -> None:
        self.kind = kind
        self.lines = text.splitlines()
        self.messages: list[LvmMessage] = []
        self.issues: list[Unrecognised] = []

    def text_of(self, number: int) -> str:
        return self.lines[number - 1]

    def message(self, number: int, line: str) -> None:
        self.messages.append(LvmMessage(line=number, text=line.strip()))

    def take(
        self,
        number: int,
        line: str,
        cells: Callable[[int, str], dict[str, str]],
        build: Callable[[Row], M],
    ) -> M | None:
        """The model of a row line; None when the line is a diagnostic (kept as a message)."""
        try:
            row = Row(self.kind, cells(number, line), lambda _key: number, self.text_of)
            model = build(_checked_names(row))
        except ParseError:
            if _DIAGNOSTIC.match(line):
                self.message(number, line)
                return None
            raise
        self.issues.extend(row.issues)
        return model


def _headings(line: str) -> list[tuple[int, str]]:
    words = [(m.start(), m.group()) for m in re.finditer(r"\S+", line)]
    merged: list[tuple[int, str]] = []
    index = 0
    while index < len(words):
        start, word = words[index]
        if index + 1 < len(words):
            next_start, next_word = words[index + 1]
            if f"{word} {next_word}" in _TWO_WORD_HEADINGS and next_start == start + len(word) + 1:
                word = f"{word} {next_word}"
                index += 1
        merged.append((start, word))
        index += 1
    return merged


class _Table:
    """The columns of an aligned table, as its heading line places them."""

    def __init__(self, kind: str, headings: dict[str, str], number: int, line: str) -> None:
        self.kind = kind
        self.columns: list[tuple[int, str | None]] = []
        seen: set[str] = set()
        for start, heading in _headings(line):
            field = headings.get(heading)
            # A second heading for a field already shown (Snap% beside Data%) is not read.
            self.columns.append((start, None if field in seen else field))
            seen.update([field] if field else [])

    def cells(self, number: int, line: str) -> dict[str, str]:
        if line[: self.columns[0][0]].strip():
            raise ParseError(self.kind, "text left of the first column", line=number, text=line)
        fields: dict[str, str] = {}
        for index, (start, field) in enumerate(self.columns):
            end = self.columns[index + 1][0] - 1 if index + 1 < len(self.columns) else len(line)
            if end < len(line) and line[end] != " ":
                raise ParseError(self.kind, "a cell runs into the next column", line=number, text=line)
            if field is not None:
                fields[field] = line[start:end].strip()
        return fields


def _parse_table(
    kind: str, text: str, headings: dict[str, str], build: Callable[[Row], M]
) -> tuple[list[M], _LvmTextReader]:
    """The first heading of `headings` is the one a heading line must have (the name column)."""
    reader = _LvmTextReader(kind, text)
    required = next(iter(headings))
    table: _Table | None = None
    items: list[M] = []
    for number, line in _lines(text):
        if table is None:
            if _DIAGNOSTIC.match(line):
                reader.message(number, line)
            elif required in (heading for _, heading in _headings(line)):
                table = _Table(kind, headings, number, line)
            else:
                message = f"expected the heading line (with {required!r})"
                raise ParseError(kind, message, line=number, text=line)
            continue
        item = reader.take(number, line, table.cells, build)
        if item is not None:
            items.append(item)
    return items, reader


def parse_lvs_text(text: str) -> LvsReport:
    lvs, reader = _parse_table("lvs", text, LVS_HEADINGS, logical_volume)
    return LvsReport(lvs=tuple(lvs), messages=tuple(reader.messages), unrecognised=tuple(reader.issues))


def parse_vgs_text(text: str) -> VgsReport:
    vgs, reader = _parse_table("vgs", text, VGS_HEADINGS, volume_group)
    return VgsReport(vgs=tuple(vgs), messages=tuple(reader.messages), unrecognised=tuple(reader.issues))


def parse_pvs_text(text: str) -> PvsReport:
    pvs, reader = _parse_table("pvs", text, PVS_HEADINGS, physical_volume)
    return PvsReport(pvs=tuple(pvs), messages=tuple(reader.messages), unrecognised=tuple(reader.issues))


def _split(kind: str, fields: tuple[str, ...], separator: str | None) -> Callable[[int, str], dict[str, str]]:
    def cells(number: int, line: str) -> dict[str, str]:
        parts = line.split() if separator is None else line.strip().split(separator)
        if len(parts) != len(fields):
            message = f"expected {len(fields)} fields, found {len(parts)}"
            raise ParseError(kind, message, line=number, text=line)
        return dict(zip(fields, parts, strict=True))

    return cells


def parse_vgs_noheadings(text: str) -> VgsReport:
    """`vgs --noheadings [--nosuffix] [--units U]` with the default columns."""
    reader = _LvmTextReader("vgs-noheadings", text)
    cells = _split(reader.kind, VGS_DEFAULT_FIELDS, None)
    vgs = [
        vg
        for number, line in _lines(text)
        if (vg := reader.take(number, line, cells, volume_group)) is not None
    ]
    return VgsReport(vgs=tuple(vgs), messages=tuple(reader.messages), unrecognised=tuple(reader.issues))


def _lv_and_segment(row: Row) -> tuple[LvmLogicalVolume, LvSegment]:
    return logical_volume(row), lv_segment(row)


def parse_lvs_noheadings_ganeti(text: str) -> LvsReport:
    """`lvs --noheadings --units B --separator ";" -o <LVS_GANETI_FIELDS>`: a row per segment,
    the LV's own fields repeated on each of its rows."""
    reader = _LvmTextReader("lvs-noheadings-ganeti", text)
    cells = _split(reader.kind, LVS_GANETI_FIELDS, ";")
    lvs: dict[tuple[str | None, str], LvmLogicalVolume] = {}
    segments: list[LvSegment] = []
    for number, line in _lines(text):
        taken = reader.take(number, line, cells, _lv_and_segment)
        if taken is None:
            continue
        lv, segment = taken
        key = (lv.vg, lv.uuid or lv.name)
        if lvs.setdefault(key, lv) != lv:
            raise ParseError(reader.kind, "rows of one LV disagree on its fields", line=number, text=line)
        segments.append(segment)
    return LvsReport(
        lvs=tuple(lvs.values()),
        segments=tuple(segments),
        messages=tuple(reader.messages),
        unrecognised=tuple(reader.issues),
    )
