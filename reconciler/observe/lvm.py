"""LVM observation: the parse kinds for lvm2's reports (models in lvm_model, parsers in lvm_json
and lvm_text)."""

from collections.abc import Callable

from reconciler.observe.facts import Fact
from reconciler.observe.lvm_json import parse_fullreport_json, parse_lvs_json, parse_pvs_json, parse_vgs_json
from reconciler.observe.lvm_model import (
    LvAttr,
    LvmFullReport,
    LvmLogicalVolume,
    LvmMessage,
    LvmVolumeGroup,
    LvSegment,
    LvsReport,
    PhysicalVolume,
    PvAttr,
    PvSegment,
    PvsReport,
    VgAttr,
    VgsReport,
)
from reconciler.observe.lvm_text import (
    LVS_GANETI_FIELDS,
    parse_lvs_noheadings_ganeti,
    parse_lvs_text,
    parse_pvs_text,
    parse_vgs_noheadings,
    parse_vgs_text,
)

KINDS: dict[str, Callable[[str], Fact]] = {
    "lvs-json": parse_lvs_json,
    "vgs-json": parse_vgs_json,
    "pvs-json": parse_pvs_json,
    "lvm-fullreport-json": parse_fullreport_json,
    "lvs": parse_lvs_text,
    "vgs": parse_vgs_text,
    "pvs": parse_pvs_text,
    "vgs-noheadings": parse_vgs_noheadings,
    "lvs-noheadings-ganeti": parse_lvs_noheadings_ganeti,
}

__all__ = [
    "KINDS",
    "LVS_GANETI_FIELDS",
    "LvAttr",
    "LvSegment",
    "LvmFullReport",
    "LvmLogicalVolume",
    "LvmMessage",
    "LvmVolumeGroup",
    "LvsReport",
    "PhysicalVolume",
    "PvAttr",
    "PvSegment",
    "PvsReport",
    "VgAttr",
    "VgsReport",
    "parse_fullreport_json",
    "parse_lvs_json",
    "parse_lvs_noheadings_ganeti",
    "parse_lvs_text",
    "parse_pvs_json",
    "parse_pvs_text",
    "parse_vgs_json",
    "parse_vgs_noheadings",
    "parse_vgs_text",
]
