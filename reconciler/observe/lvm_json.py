"""lvm2's JSON reports: `lvs|vgs|pvs --reportformat json` and `lvm fullreport --reportformat json`.

The layout is lvm2's own: {"report": [{"lv": [{field: "value", ...}, ...]}], "log": [...]}, every
value a string, sizes in whatever --units asked for ("<14.00g", "8589934592B", "8589934592").
`lvs|vgs|pvs` print one "report" entry; `lvm fullreport` prints one per VG (and one for orphan
PVs), each with "vg", "pv", "lv", "pvseg" and "seg" lists. The optional "log" array
(log/report_command_log=1) becomes the report's messages.
"""

import bisect
import json
import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from reconciler.observe.errors import ParseError
from reconciler.observe.facts import Unrecognised
from reconciler.observe.lvm_fields import (
    Row,
    logical_volume,
    lv_segment,
    physical_volume,
    pv_segment,
    volume_group,
)
from reconciler.observe.lvm_model import (
    LvmFullReport,
    LvmLogicalVolume,
    LvmMessage,
    LvmVolumeGroup,
    LvSegment,
    LvsReport,
    PhysicalVolume,
    PvSegment,
    PvsReport,
    VgsReport,
)

M = TypeVar("M")

# A JSON string (skipped whole, so that braces inside values are not counted) or an object start.
_STRING_OR_BRACE = re.compile(r'"(?:[^"\\]|\\.)*"|\{')


class _Document:
    """A parsed JSON report that still knows on which line each of its objects and keys is."""

    def __init__(self, kind: str, text: str) -> None:
        self.kind = kind
        self.text = text
        self.lines = text.splitlines()
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        try:
            self.data: Any = json.loads(text)
        except json.JSONDecodeError as err:
            line = err.lineno
            raise ParseError(kind, f"not JSON: {err.msg}", line=line, text=self.text_of(line)) from None
        braces = (m.start() for m in _STRING_OR_BRACE.finditer(text) if m.group() == "{")
        self.offsets: dict[int, int] = {}
        self._index(self.data, braces)

    def _index(self, value: Any, braces: Iterator[int]) -> None:
        # json.loads builds objects in document order, as the braces appear in the text.
        if isinstance(value, dict):
            self.offsets[id(value)] = next(braces, 0)
            for item in value.values():
                self._index(item, braces)
        elif isinstance(value, list):
            for item in value:
                self._index(item, braces)

    def line_at(self, offset: int) -> int:
        return bisect.bisect_left(self.newlines, offset) + 1

    def text_of(self, line: int) -> str:
        return self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""

    def error(self, message: str, obj: Any = None) -> ParseError:
        line = self.line_at(self.offsets.get(id(obj), 0))
        return ParseError(self.kind, message, line=line, text=self.text_of(line))

    def row(self, obj: Any) -> Row:
        if not isinstance(obj, dict) or not all(isinstance(v, str) for v in obj.values()):
            raise self.error("report row is not an object of strings", obj)
        start = self.offsets[id(obj)]

        def line_of(key: str) -> int:
            found = self.text.find(json.dumps(key), start)
            return self.line_at(found if found >= 0 else start)

        return Row(self.kind, obj, line_of, self.text_of)

    def entries(self) -> list[dict[str, Any]]:
        if not isinstance(self.data, dict) or not isinstance(self.data.get("report"), list):
            raise self.error('not an lvm2 JSON report: no "report" array', self.data)
        entries: list[dict[str, Any]] = self.data["report"]
        for entry in entries:
            if not isinstance(entry, dict):
                raise self.error("report entry is not an object", self.data)
        return entries

    def section(self, entry: dict[str, Any], name: str, *, required: bool = True) -> list[Any]:
        value = entry.get(name)
        if value is None and not required:
            return []
        if not isinstance(value, list):
            raise self.error(f'report entry has no "{name}" list', entry)
        return value

    def messages(self) -> tuple[LvmMessage, ...]:
        log = self.data.get("log", [])
        if not isinstance(log, list):
            raise self.error('"log" is not a list', self.data)
        messages = []
        for obj in log:
            row = self.row(obj)
            messages.append(
                LvmMessage(
                    line=row.line_of("log_message"),
                    text=row.get("log_message") or "",
                    level=row.get("log_type"),
                )
            )
        return tuple(messages)


def _rows(
    doc: _Document, section: str, build: Callable[[Row], M], issues: list[Unrecognised]
) -> tuple[M, ...]:
    built = []
    for entry in doc.entries():
        for obj in doc.section(entry, section):
            row = doc.row(obj)
            built.append(build(row))
            issues.extend(row.issues)
    return tuple(built)


def parse_lvs_json(text: str) -> LvsReport:
    doc = _Document("lvs-json", text)
    issues: list[Unrecognised] = []
    lvs = _rows(doc, "lv", logical_volume, issues)
    return LvsReport(lvs=lvs, messages=doc.messages(), unrecognised=tuple(issues))


def parse_vgs_json(text: str) -> VgsReport:
    doc = _Document("vgs-json", text)
    issues: list[Unrecognised] = []
    vgs = _rows(doc, "vg", volume_group, issues)
    return VgsReport(vgs=vgs, messages=doc.messages(), unrecognised=tuple(issues))


def parse_pvs_json(text: str) -> PvsReport:
    doc = _Document("pvs-json", text)
    issues: list[Unrecognised] = []
    pvs = _rows(doc, "pv", physical_volume, issues)
    return PvsReport(pvs=pvs, messages=doc.messages(), unrecognised=tuple(issues))


class _FullReport:
    """Accumulates the flattened lists of `lvm fullreport`, one VG entry at a time."""

    def __init__(self, doc: _Document) -> None:
        self.doc = doc
        self.vgs: list[LvmVolumeGroup] = []
        self.pvs: list[PhysicalVolume] = []
        self.lvs: list[LvmLogicalVolume] = []
        self.segments: list[LvSegment] = []
        self.pv_segments: list[PvSegment] = []
        self.issues: list[Unrecognised] = []

    def add(self, entry: dict[str, Any]) -> None:
        doc = self.doc
        # An entry for orphan PVs has no "vg" list at all (lvm2 2.03), or an empty one.
        vg_rows = doc.section(entry, "vg", required=False)
        if len(vg_rows) > 1:
            raise doc.error("fullreport entry with more than one VG", entry)
        vg = None
        for obj in vg_rows:
            group = volume_group(row := doc.row(obj))
            self.vgs.append(group)
            self.issues.extend(row.issues)
            vg = group.name
        lv_names: dict[str, str] = {}
        for obj in doc.section(entry, "lv", required=vg is not None):
            lv = logical_volume(row := doc.row(obj), vg)
            self.lvs.append(lv)
            self.issues.extend(row.issues)
            if lv.uuid is not None:
                lv_names[lv.uuid] = lv.name
        for obj in doc.section(entry, "pv"):
            self.pvs.append(physical_volume(row := doc.row(obj), vg))
            self.issues.extend(row.issues)
        for obj in doc.section(entry, "seg", required=vg is not None):
            row = doc.row(obj)
            self.segments.append(lv_segment(row, vg, lv_names.get(row.get("lv_uuid") or "")))
        for obj in doc.section(entry, "pvseg", required=False):
            self.pv_segments.append(pv_segment(doc.row(obj), vg))


def parse_fullreport_json(text: str) -> LvmFullReport:
    doc = _Document("lvm-fullreport-json", text)
    report = _FullReport(doc)
    for entry in doc.entries():
        report.add(entry)
    return LvmFullReport(
        vgs=tuple(report.vgs),
        pvs=tuple(report.pvs),
        lvs=tuple(report.lvs),
        segments=tuple(report.segments),
        pv_segments=tuple(report.pv_segments),
        messages=doc.messages(),
        unrecognised=tuple(report.issues),
    )
