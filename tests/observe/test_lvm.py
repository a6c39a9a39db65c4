"""LVM parsers: every captured output has a case of facts; then the edges (unknown states,
broken input, empty output, sizes, diagnostics interleaved with rows)."""

from pathlib import Path
from typing import Any

import pytest

from reconciler.observe.errors import ParseError
from reconciler.observe.lvm import (
    KINDS,
    PvsReport,
    parse_fullreport_json,
    parse_lvs_json,
    parse_lvs_noheadings_ganeti,
    parse_lvs_text,
    parse_pvs_json,
    parse_pvs_text,
    parse_vgs_json,
    parse_vgs_noheadings,
    parse_vgs_text,
)
from tests.observe.cases import PROJECT_DATA, assert_subset, fixture_path, load_cases

CASES = load_cases("lvm")


@pytest.mark.parametrize(("name", "case"), CASES, ids=[name for name, _ in CASES])
def test_case(name: str, case: dict[str, Any]) -> None:
    text = fixture_path(case["fixture"]).read_text()
    model = KINDS[case["kind"]](text)
    assert_subset(case["expect"], model.model_dump(mode="json"))


def _covered() -> set[str]:
    return {case["fixture"] for _, case in CASES}


def test_every_captured_fixture_has_a_case(fixtures: Path) -> None:
    files = sorted(p.name for p in (fixtures / "lvm").iterdir())
    assert files
    assert sorted(f"lvm/{name}" for name in files if f"lvm/{name}" not in _covered()) == []


def test_every_capture_has_a_case() -> None:
    data = PROJECT_DATA / "lvm"
    captures = [p.name for p in data.iterdir() if p.suffix in (".json", ".txt") and p.stem != "lvm-version"]
    assert captures
    assert sorted(f"data:lvm/{name}" for name in captures if f"data:lvm/{name}" not in _covered()) == []


# --- unknown states -------------------------------------------------------------------------

LVS_HEADER = "  LV   VG      Attr       LSize   Pool Origin Data%  Meta%  Move Log Cpy%Sync Convert\n"


def test_unknown_lv_attr_characters_are_unrecognised_and_surfaced() -> None:
    # 'Q' is no volume type and '?' no state: the rest of the string still decodes.
    report = parse_lvs_text(LVS_HEADER + "  lv0  vg0     Qwi-?o---- 1.00g\n")
    attr = report.lvs[0].attr
    assert attr is not None
    assert attr.volume_type == "?"
    assert attr.state == "?"
    assert attr.active is None
    assert attr.open is True
    assert [(u.line, u.field, u.value) for u in report.unrecognised] == [
        (2, "lv_attr.volume_type", "Q"),
        (2, "lv_attr.state", "?"),
    ]


def test_unknown_vg_and_pv_attr_characters_in_json_point_at_their_line() -> None:
    vgs = parse_vgs_json('{"report": [{"vg": [\n{"vg_name": "vg0",\n "vg_attr": "wzQpn-"}\n]}]}')
    assert vgs.vgs[0].attr is not None
    assert vgs.vgs[0].attr.exported is None
    assert vgs.vgs[0].attr.partial is True
    assert [(u.line, u.field, u.value) for u in vgs.unrecognised] == [(3, "vg_attr.exported", "Q")]
    pvs = parse_pvs_json('{"report": [{"pv": [{"pv_name": "/dev/sda", "pv_attr": "Z--"}]}]}')
    assert pvs.pvs[0].attr is not None
    assert pvs.pvs[0].attr.allocation == "?"
    assert [(u.line, u.field, u.value) for u in pvs.unrecognised] == [(1, "pv_attr.allocation", "Z")]


def test_locked_allocation_is_upper_case() -> None:
    report = parse_lvs_text(LVS_HEADER + "  lv0  vg0     -wI-a----- 1.00g\n")
    attr = report.lvs[0].attr
    assert attr is not None
    assert (attr.allocation, attr.allocation_locked) == ("i", True)
    assert report.unrecognised == ()


# --- broken input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parse", "text", "line"),
    [
        (parse_lvs_json, '{"report": [{"lv": [\n{"lv_name": "a",\n', 3),
        (parse_lvs_json, "  LV VG\n", 1),
        (parse_lvs_json, '{"report": [{"vg": []}]}', 1),
        (parse_vgs_json, '{"report": [{"vg": [\n{"vg_name": "vg0", "vg_size": "lots"}]}]}', 2),
        (parse_pvs_json, '{"report": [{"pv": [{"pv_name": "/dev/sda", "pv_size": 12}]}]}', 1),
        (parse_fullreport_json, '{"report": [{"vg": [{"vg_name": "a"}, {"vg_name": "b"}], "pv": []}]}', 1),
        (parse_fullreport_json, '{"report": [{"vg": [{"vg_name": "a"}], "pv": []}]}', 1),
        (parse_lvs_text, '{"report": []}\n', 1),
        (parse_lvs_text, LVS_HEADER + "  lv0  vg0     -wi-a----- 1.00g\n  lv1  vg0     -wi-a-----1.00g\n", 3),
        (parse_lvs_text, LVS_HEADER + "  lv0  vg0     -wi-a----- huge\n", 2),
        (parse_lvs_text, LVS_HEADER + "  lv0  vg0     -wi\n", 2),
        (parse_vgs_text, "  VG #PV #LV Attr   VSize   VFree\n  vg   2   x wz--n- 200.00m 180.00m\n", 2),
        (parse_pvs_text, "  PV         VG Fmt  Attr PSize PFree\n  /dev/sdb   vg lvm2 a-- 8.00g 8.00\n", 2),
        (parse_vgs_noheadings, "  xenvg   2  52   0 wz-pn- 1.31t\n", 1),
        (parse_vgs_noheadings, "  xenvg   2  52   0 wz-pn- 1.31t 1.07t\n  some other text\n", 2),
        (parse_lvs_noheadings_ganeti, "  uuid;name;-wi-ao\n", 1),
    ],
)
def test_broken_input_raises_with_the_line(parse: Any, text: str, line: int) -> None:
    with pytest.raises(ParseError) as err:
        parse(text)
    assert err.value.line == line


def test_parse_error_quotes_the_text_row() -> None:
    text = "  VG #PV #LV #SN Attr   VSize   VFree\n  vg   2   x   0 wz--n- 200.00m 180.00m\n"
    with pytest.raises(ParseError) as err:
        parse_vgs_text(text)
    assert err.value.kind == "vgs"
    assert err.value.text == "  vg   2   x   0 wz--n- 200.00m 180.00m"


def test_fractional_size_without_unit_is_refused() -> None:
    # `--units m --nosuffix` prints "1024.00": nothing in the output says which unit it is.
    with pytest.raises(ParseError, match="without a unit"):
        parse_vgs_json('{"report": [{"vg": [{"vg_name": "vg0", "vg_size": "1024.00"}]}]}')


def test_ganeti_rows_of_one_lv_must_agree() -> None:
    row = "  u1;lv;-wi-ao;-1;-1;253;0;{size};2;;;v1;vg;linear;0B;0;4B;;/dev/sda:0-0;/dev/sda(0)\n"
    with pytest.raises(ParseError, match="disagree") as err:
        parse_lvs_noheadings_ganeti(row.format(size="8B") + row.format(size="16B"))
    assert err.value.line == 2


# --- empty and absent -----------------------------------------------------------------------


TEXT_PARSERS = [
    parse_lvs_text,
    parse_vgs_text,
    parse_pvs_text,
    parse_vgs_noheadings,
    parse_lvs_noheadings_ganeti,
]


@pytest.mark.parametrize("parse", TEXT_PARSERS)
def test_empty_text_output_is_an_empty_report(parse: Any) -> None:
    dump = parse("").model_dump()
    assert all(dump[key] == () for key in ("lvs", "vgs", "pvs", "messages", "unrecognised") if key in dump)


def test_header_without_rows_is_empty() -> None:
    assert parse_lvs_text(LVS_HEADER).lvs == ()


def test_only_diagnostics_is_empty_with_messages() -> None:
    report = parse_vgs_text("  No volume groups found\n")
    assert report.vgs == ()
    assert [m.text for m in report.messages] == ["No volume groups found"]


@pytest.mark.parametrize("parse", [parse_lvs_json, parse_vgs_json, parse_pvs_json, parse_fullreport_json])
def test_empty_json_report_is_empty(parse: Any) -> None:
    report = parse('{"report": [{"lv": [], "vg": [], "pv": []}]}')
    dump = report.model_dump()
    assert all(dump[key] == () for key in ("lvs", "vgs", "pvs") if key in dump)


def test_json_kind_refuses_empty_text() -> None:
    # lvm2 always prints the {"report": ...} envelope, even with nothing to report.
    with pytest.raises(ParseError):
        parse_lvs_json("")


# --- details --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("printed", "size", "rounded"),
    [
        ("8589934592B", 8589934592, False),
        ("8589934592", 8589934592, False),
        ("8.00g", 8589934592, True),
        ("<14.00g", 15032385536, True),
        ("1.00t", 1099511627776, True),
        ("512.00k", 524288, True),
        ("1.50G", 1500000000, True),
        ("0 ", 0, False),
        ("16S", 8192, False),
    ],
)
def test_sizes(printed: str, size: int, rounded: bool) -> None:
    text = f'{{"report": [{{"pv": [{{"pv_name": "/dev/sda", "pv_size": "{printed}"}}]}}]}}'
    pv = parse_pvs_json(text).pvs[0]
    assert (pv.size, pv.sizes_rounded) == (size, rounded)


def test_hidden_lv_names_lose_their_brackets() -> None:
    text = "  LV           VG  Attr       LSize\n  [pool_tmeta] vg0 ewi-ao---- 4.00m\n"
    lv = parse_lvs_text(text).lvs[0]
    assert (lv.name, lv.hidden, lv.vg) == ("pool_tmeta", True, "vg0")


def test_two_word_headings_are_one_column() -> None:
    text = (
        "  LV   VG    Attr       LSize LV UUID                                LV Tags\n"
        "  data vgcap -wi-a----- 4.00m ZAtBte-vRcT-vdWt-nJw0-iSTu-0e3t-VyNSJ9 drbd,app=web\n"
    )
    lv = parse_lvs_text(text).lvs[0]
    assert lv.uuid == "ZAtBte-vRcT-vdWt-nJw0-iSTu-0e3t-VyNSJ9"
    assert lv.tags == ("drbd", "app=web")


def test_unknown_columns_are_ignored() -> None:
    text = "  VG    Whatever #PV Attr\n  vgcap        x   2 wz--n-\n"
    vg = parse_vgs_text(text).vgs[0]
    assert (vg.name, vg.pv_count, vg.size) == ("vgcap", 2, None)


def test_diagnostic_between_rows_is_kept_in_order() -> None:
    text = (
        "  PV         VG    Fmt  Attr PSize    PFree\n"
        "  /dev/loop0 vgcap lvm2 a--  1020.00m 772.00m\n"
        "File descriptor 9 (/dev/null) leaked on pvs invocation. Parent PID 4659: bash\n"
        "  [unknown]  vgcap lvm2 a-m   508.00m 440.00m\n"
    )
    report = parse_pvs_text(text)
    assert [pv.name for pv in report.pvs] == ["/dev/loop0", "[unknown]"]
    assert report.pvs[1].attr is not None
    assert report.pvs[1].attr.missing is True
    assert [(m.line, m.text[:16]) for m in report.messages] == [(3, "File descriptor ")]


def test_libdevmapper_errors_before_the_table_are_messages() -> None:
    # What lvm2 2.03.16 prints on stderr on a host without device-mapper (seen while capturing).
    errors = [
        "/dev/mapper/control: open failed: No such device",
        "Failure to communicate with kernel device-mapper driver.",
        "Check that device-mapper is available in the kernel.",
        "Incompatible libdevmapper 1.02.185 (2022-05-18) and kernel driver (unknown version).",
    ]
    text = "".join(f"  {e}\n" for e in errors) + "  VG    #PV #LV #SN Attr   VSize VFree\n"
    report = parse_vgs_text(text + "  vgcap   2   7   1 wz--n- 1.49g 1.18g\n")
    assert [m.text for m in report.messages] == errors
    assert [vg.name for vg in report.vgs] == ["vgcap"]


def test_report_models_round_trip_through_json() -> None:
    text = fixture_path("data:lvm/lvm-fullreport-json.json").read_text()
    report = parse_fullreport_json(text)
    assert type(report).model_validate_json(report.model_dump_json()) == report


def test_kinds() -> None:
    assert set(KINDS) == {
        "lvs-json", "vgs-json", "pvs-json", "lvm-fullreport-json", "lvs", "vgs", "pvs",
        "vgs-noheadings", "lvs-noheadings-ganeti",
    }  # fmt: skip
    assert isinstance(KINDS["pvs"]("  PV VG Fmt Attr PSize PFree\n"), PvsReport)
