from collections.abc import Callable
from typing import Any

import pytest

from reconciler.observe import virsh, xen, xen_config
from reconciler.observe.errors import ParseError
from reconciler.observe.facts import Fact, Unrecognised
from reconciler.observe.sxp import Atom, SList, read_sxp
from reconciler.observe.virsh import VirshState, parse_virsh_domstate, parse_virsh_list
from reconciler.observe.xen import (
    DomainStateFlag,
    parse_xen_sxp,
    parse_xl_list,
    parse_xl_list_json,
    parse_xm_list,
)
from reconciler.observe.xen_config import (
    ConfigEntry,
    ShutdownAction,
    XenConfig,
    parse_xen_config,
    render_xen_config,
)
from reconciler.observe.xen_devices import parse_disk_spec
from tests.conftest import FIXTURES
from tests.observe.cases import PROJECT_DATA, assert_subset, fixture_path, load_cases

KINDS: dict[str, Callable[[str], Fact]] = {**xen.KINDS, **xen_config.KINDS, **virsh.KINDS}
CASES = load_cases("xen") + load_cases("libvirt")
CONFIG_CASES = [(name, case) for name, case in CASES if case["kind"] == "xen-config"]
XL_HEADER = "Name                                        ID   Mem VCPUs      State   Time(s)\n"


@pytest.mark.parametrize(("name", "case"), CASES, ids=[name for name, _ in CASES])
def test_case(name: str, case: dict[str, Any]) -> None:
    model = KINDS[case["kind"]](fixture_path(case["fixture"]).read_text())
    assert_subset(case["expect"], model.model_dump(mode="json"))


def test_every_fixture_has_a_case() -> None:
    covered = {case["fixture"] for _, case in CASES}
    captured = {f"{tool}/{p.name}" for tool in ("xen", "libvirt") for p in (FIXTURES / tool).iterdir()}
    linuxha = {f"linuxha/{p.name}" for p in (FIXTURES / "linuxha").glob("xen-*.cfg")}
    ours = {f"data:xen/{p.name}" for p in (PROJECT_DATA / "xen").iterdir() if p.name != "NOTES.md"}
    assert len(captured) == 15 and len(linuxha) == 2
    assert (captured | linuxha | ours) - covered == set()


# --- xen-config: render, then parse again -----------------------------------------------------


def _without_lines(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_lines(v) for k, v in value.items() if k != "line"}
    if isinstance(value, list):
        return [_without_lines(v) for v in value]
    return value


@pytest.mark.parametrize(("name", "case"), CONFIG_CASES, ids=[name for name, _ in CONFIG_CASES])
def test_render_then_parse_gives_the_same_config(name: str, case: dict[str, Any]) -> None:
    original = parse_xen_config(fixture_path(case["fixture"]).read_text())
    again = parse_xen_config(render_xen_config(original.entries))
    # Comments are not rendered, so entries move to other lines; everything else is equal.
    assert _without_lines(again.model_dump(mode="json")) == _without_lines(original.model_dump(mode="json"))
    assert parse_xen_config(render_xen_config(again.entries)) == again


def test_render_writes_the_canonical_form() -> None:
    text = render_xen_config(
        [
            ("name", "web"),
            ("memory", 512),
            ("vif", ("bridge=xenbr0", "")),
            ("disk", ()),
            ConfigEntry(key="extra", value=" x", op="+="),
        ]
    )
    assert text == 'name = "web"\nmemory = 512\nvif = [ "bridge=xenbr0", "" ]\ndisk = []\nextra += " x"\n'


def test_render_quotes_what_needs_quoting() -> None:
    awkward = "a \"quoted\" \\ back\tslash\nnew line \x01 café 'single'"
    config = parse_xen_config(render_xen_config([("extra", awkward), ("cpu_weight", -1.5), ("pae", True)]))
    assert [entry.value for entry in config.entries] == [awkward, -1.5, True]


@pytest.mark.parametrize("key", ["import", "not-a-key", "", "9lives"])
def test_render_refuses_a_key_that_cannot_be_read_back(key: str) -> None:
    with pytest.raises(ValueError, match="not a configuration key"):
        render_xen_config([(key, 1)])


# --- xen-config: what is not a literal assignment ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('name = "a"\nmemory = 64 * 2\n', 2),
        ('name = "a"\n\nimport os\n', 3),
        ('name = "a"\nkernel = os.path.join("/boot", "vmlinuz")\n', 2),
        ('hostname = "vm%d" % vmid\n', 1),
        ('name = "a"\nprint(name)\n', 2),
        ("memory = 64\nif memory:\n    vcpus = 2\n", 2),
        ("a = b = 1\n", 1),
        ('vif = [ "bridge=xenbr0", bridge ]\n', 1),
        ('name = f"vm{1}"\n', 1),
        ("name = None\n", 1),
        ('memory = 64\nname = "unterminated\n', 2),
        ('vif = [ "a",\n  "b"\n', 1),
    ],
)
def test_config_refuses_what_is_not_a_literal_assignment(text: str, line: int) -> None:
    with pytest.raises(ParseError) as raised:
        parse_xen_config(text)
    assert raised.value.kind == "xen-config"
    assert raised.value.line == line


def test_config_lists_may_span_lines_and_keep_the_first_line() -> None:
    config = parse_xen_config(
        '# guest\ndisk = [ "phy:/dev/drbd0,xvda,w",\n         "phy:/dev/drbd1,xvdb,w" ]\n'
    )
    assert config.entries == (
        ConfigEntry(key="disk", value=("phy:/dev/drbd0,xvda,w", "phy:/dev/drbd1,xvdb,w"), line=2),
    )
    assert [d.target for d in config.disks] == ["/dev/drbd0", "/dev/drbd1"]


def test_xl_syntax_octal_numbers_semicolons_and_append() -> None:
    config = parse_xen_config(
        'name="h0"; type="hvm"\nmemory = 01000\nvcpus = 0x2\n'
        'vif = [ "bridge=xenbr0" ]\nvif += [ "bridge=xenbr1" ]\nextra = "a"\nextra += " b"\n'
    )
    assert (config.name, config.memory, config.vcpus) == ("h0", 512 * 1024 * 1024, 2)
    assert [v.bridge for v in config.vifs] == ["xenbr0", "xenbr1"]
    assert [(e.key, e.op) for e in config.entries][-2:] == [("extra", "="), ("extra", "+=")]
    assert config.entries[2].value == 512


def test_xl_octal_with_a_digit_above_seven_is_refused() -> None:
    with pytest.raises(ParseError) as raised:
        parse_xen_config("name = 'a'\nmemory = 0900\n")
    assert raised.value.line == 2


def test_append_of_a_number_or_of_mixed_types_is_refused() -> None:
    for text in ("memory = 64\nmemory += 64\n", 'vif = [ "" ]\nvif += "bridge=x"\n'):
        with pytest.raises(ParseError) as raised:
            parse_xen_config(text)
        assert raised.value.line == 2


def test_quoted_numbers_are_read_as_xl_reads_them() -> None:
    config = parse_xen_config('memory = "256"\nvcpus = "0x4"\nmaxmem = "01000"\n')
    assert (config.memory, config.vcpus, config.maxmem) == (256 << 20, 4, 512 << 20)
    with pytest.raises(ParseError) as raised:
        parse_xen_config('name = "a"\nmemory = "lots"\n')
    assert raised.value.line == 2


def test_the_last_assignment_wins() -> None:
    config = parse_xen_config('name = "first"\nname = "second"\n')
    assert config.name == "second" and len(config.entries) == 2


def test_unknown_shutdown_action_is_surfaced() -> None:
    config = parse_xen_config('name = "a"\non_crash = "explode"\non_reboot = "rename-restart"\n')
    assert config.on_crash is ShutdownAction.UNRECOGNISED
    assert config.on_reboot is ShutdownAction.RENAME_RESTART
    assert config.unrecognised == (Unrecognised(line=2, field="on_crash", value="explode"),)


def test_wrong_types_name_their_line() -> None:
    wrong = ('name = "a"\nvif = "bridge=xenbr0"\n', 'name = "a"\nname = 3\n', 'name = "a"\ndisk = [ 1 ]\n')
    for text in wrong:
        with pytest.raises(ParseError) as raised:
            parse_xen_config(text)
        assert raised.value.line == 2


def test_empty_config_is_an_empty_model() -> None:
    config = parse_xen_config("# nothing yet\n\n")
    assert config == XenConfig(
        entries=(),
        name=None,
        uuid=None,
        memory=None,
        maxmem=None,
        vcpus=None,
        bootloader=None,
        kernel=None,
        on_poweroff=None,
        on_reboot=None,
        on_crash=None,
        disks=(),
        vifs=(),
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            "format=raw, vdev=hda, access=rw, target=/dev/vg/guest-volume",
            {"target": "/dev/vg/guest-volume", "format": "raw", "vdev": "hda", "writable": True},
        ),
        ("/dev/vg/guest-volume,,hda", {"target": "/dev/vg/guest-volume", "format": None, "vdev": "hda"}),
        ("/root/image.iso,,hdc,cdrom", {"vdev": "hdc", "devtype": "cdrom", "writable": False}),
        (
            "raw:/root/image.iso,hdc:cdrom,ro",
            {"prefixes": ("raw",), "format": "raw", "vdev": "hdc", "devtype": "cdrom", "access": "ro"},
        ),
        (",hdc:cdrom,r", {"target": "", "vdev": "hdc", "devtype": "cdrom", "writable": False}),
        ("vdev=xvda, target=/srv/a,b:c.img", {"target": "/srv/a,b:c.img", "vdev": "xvda"}),
        ("drbd:r0,xvda,w", {"target": "r0", "script": "block-drbd", "prefixes": ("drbd",)}),
        (
            "/dev/x,raw,xvda,rw,direct-io-safe,backend=dd0",
            {"flags": ("direct-io-safe",), "options": {"backend": "dd0"}},
        ),
    ],
)
def test_disk_specs_are_read_as_xl_documents_them(spec: str, expected: dict[str, Any]) -> None:
    disk = parse_disk_spec(spec)
    assert {key: getattr(disk, key) for key in expected} == expected


def test_too_many_disk_parameters_is_an_error() -> None:
    with pytest.raises(ParseError) as raised:
        parse_xen_config('name = "a"\ndisk = [ "/dev/x,raw,xvda,rw,extra" ]\n')
    assert raised.value.line == 2


def test_vif_items_must_be_key_value() -> None:
    config = parse_xen_config("vif = [ 'mac=00:16:3e:00:00:11, bridge=xenbr0', '', 'bridge=xenbr1' ]\n")
    assert [(v.mac, v.bridge) for v in config.vifs] == [
        ("00:16:3e:00:00:11", "xenbr0"),
        (None, None),
        (None, "xenbr1"),
    ]
    with pytest.raises(ParseError) as raised:
        parse_xen_config("name = 'a'\nvif = [ 'xenbr0' ]\n")
    assert raised.value.line == 2


# --- the domain tables -------------------------------------------------------------------------


def test_unknown_state_letter_is_surfaced() -> None:
    text = XL_HEADER + "Domain-0    0  1023     1     r----- 1.0\nguest   4  512   1     -b--x- 2.0\n"
    model = parse_xl_list(text)
    assert model.domains[1].state == (DomainStateFlag.BLOCKED, DomainStateFlag.UNRECOGNISED)
    assert model.domains[1].raw_state == "-b--x-"
    assert model.unrecognised == (Unrecognised(line=3, field="state", value="-b--x-"),)


def test_state_column_of_another_width_is_unrecognised() -> None:
    model = parse_xm_list("Name ID Mem VCPUs State Time(s)\nodd 3 128 1 ?? 0.0\n")
    assert model.domains[0].state == (DomainStateFlag.UNRECOGNISED,)
    assert model.unrecognised == (Unrecognised(line=2, field="state", value="??"),)


@pytest.mark.parametrize(
    ("parse", "text", "line"),
    [
        (parse_xl_list, XL_HEADER + "Domain-0 0 1023 1 r----- 1.0\ntruncated 3 1024\n", 3),
        (parse_xl_list, XL_HEADER + "guest 3 lots 1 r----- 1.0\n", 2),
        (parse_xl_list, XL_HEADER + "guest-without-id 1024 1 r----- 1.0\n", 2),
        (parse_xl_list, "\nName ID Mem VCPUs State Time(s) UUID\n", 2),
        (parse_xl_list, "Domain-0 0 1023 1 r----- 1.0\n", 1),
        (parse_xm_list, "Name  Id  Mem(MB)  CPU VCPU(s)  State  Time(s)\n", 1),
    ],
)
def test_table_garbage_names_its_line(parse: Callable[[str], Fact], text: str, line: int) -> None:
    with pytest.raises(ParseError) as raised:
        parse(text)
    assert raised.value.line == line


def test_empty_tables_are_empty() -> None:
    assert parse_xl_list("").domains == ()
    assert parse_xm_list("\n").domains == ()
    assert parse_xl_list(XL_HEADER).domains == ()


def test_names_with_spaces_and_xm_inactive_domains() -> None:
    xl = parse_xl_list(XL_HEADER + "my test domain                     7   512   1   -b----   3.5\n")
    assert (xl.domains[0].name, xl.domains[0].id) == ("my test domain", 7)
    xm = parse_xm_list(
        "Name                                        ID   Mem VCPUs      State   Time(s)\n"
        "Domain-0                                     0  1023     2     r-----   9.0\n"
        "stopped guest                                    512     1     ------   0.0\n"
        "web2                                             256     1     ------   0.0\n"
    )
    assert [(d.name, d.id, d.is_dom0) for d in xm.domains] == [
        ("Domain-0", 0, True),
        ("stopped guest", None, False),
        ("web2", None, False),
    ]


def test_xm_30_security_reference_suffix_is_ignored() -> None:
    text = (
        "Name                              ID Mem(MiB) VCPUs State  Time(s)\n"
        "Domain-0                           0      502     1 r-----   123.4 s:0000/p:0000\n"
    )
    domain = parse_xm_list(text).domains[0]
    assert (domain.name, domain.memory, domain.cpu_time) == ("Domain-0", 502 << 20, 123.4)


# --- S-expressions and JSON ----------------------------------------------------------------------


def test_sxp_reader_handles_quotes_escapes_and_comments() -> None:
    nodes = read_sxp("# xend\n(a 'x \\'y\\' \\n\\x41\\101' \"two words\" (b) ())  # end\n(c)")
    assert nodes == (
        SList(
            (
                Atom("a", 2),
                Atom("x 'y' \nAA", 2, quoted=True),
                Atom("two words", 2, quoted=True),
                SList((Atom("b", 2),), 2),
                SList((), 2),
            ),
            2,
        ),
        SList((Atom("c", 3),), 3),
    )


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("(domain (name a)\n)\n)\n", 3),
        ("(domain\n  (name a)\n  (memory 'x\n", 3),
        ("(domain\n  (name a)\n", 1),
        ("(domain (name a))\nstray\n", 2),
        ("(domain (domid 0))\n", 1),
        ("(domain (name a)\n (memory lots))\n", 2),
        ("(vcpu_info (x 1))\n", 1),
    ],
)
def test_sxp_garbage_names_its_line(text: str, line: int) -> None:
    with pytest.raises(ParseError) as raised:
        parse_xen_sxp(text)
    assert raised.value.kind == "xen-sxp"
    assert raised.value.line == line


def test_sxp_unknown_state_is_surfaced() -> None:
    model = parse_xen_sxp("(domain\n (domid 3)\n (name a)\n (state --x---)\n)\n")
    assert model.domains[0].state == (DomainStateFlag.UNRECOGNISED,)
    assert model.unrecognised == (Unrecognised(line=4, field="state", value="--x---"),)


def test_sxp_and_json_absent_is_empty() -> None:
    assert parse_xen_sxp("").domains == ()
    assert parse_xl_list_json("").domains == ()
    assert parse_xl_list_json("[]\n").domains == ()


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('[\n    {\n        "domid": 0,\n', 4),
        ('{"domid": 0}', None),
        ('[{"domid": 0}]', None),
        ('[{"domid": 1, "config": {"c_info": {}}}]', None),
        ('[{"domid": "one", "config": {"c_info": {"name": "a"}}}]', None),
        ('[{"domid": 1, "config": {"c_info": {"name": "a"}, "nics": [{"mac": 5}]}}]', None),
    ],
)
def test_json_garbage_is_a_parse_error(text: str, line: int | None) -> None:
    with pytest.raises(ParseError) as raised:
        parse_xl_list_json(text)
    assert raised.value.line == line


def test_json_extra_keys_are_ignored_and_null_domid_kept() -> None:
    text = '[{"domid": null, "new": 1, "config": {"c_info": {"name": "a", "new": 2}, "b_info": {}}}]'
    domain = parse_xl_list_json(text).domains[0]
    assert (domain.name, domain.id, domain.memory, domain.vifs) == ("a", None, None, ())


# --- virsh -----------------------------------------------------------------------------------


def test_virsh_unknown_state_is_surfaced() -> None:
    text = (
        " Id   Name      State\n--------------------------\n"
        " 1    web one   running\n 2    db        weird now\n"
    )
    model = parse_virsh_list(text)
    assert [(d.name, d.state) for d in model.domains] == [
        ("web one", VirshState.RUNNING),
        ("db", VirshState.UNRECOGNISED),
    ]
    assert model.unrecognised == (Unrecognised(line=4, field="state", value="weird now"),)


def test_virsh_states_of_two_words() -> None:
    text = (
        " Id    Name                           State\n" + "-" * 52 + "\n"
        " 3     a b                            in shutdown\n"
        " -     c                              no state\n\n"
    )
    model = parse_virsh_list(text)
    assert [(d.id, d.name, d.state) for d in model.domains] == [
        (3, "a b", VirshState.IN_SHUTDOWN),
        (None, "c", VirshState.NO_STATE),
    ]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (" Id Name State\n 1 a running\n", 2),
        ("Name State\n", 1),
        (" Id   Name   State\n----------------\n x    a      running\n", 3),
        (" Id   Name   State\n----------------\n 1    running\n", 3),
    ],
)
def test_virsh_list_garbage_names_its_line(text: str, line: int) -> None:
    with pytest.raises(ParseError) as raised:
        parse_virsh_list(text)
    assert raised.value.line == line


def test_virsh_list_absent_is_empty() -> None:
    assert parse_virsh_list("").domains == ()
    assert parse_virsh_list(" Id   Name   State\n--------------------\n\n").domains == ()


def test_virsh_domstate_reason_unknown_and_garbage() -> None:
    state = parse_virsh_domstate("shut off (destroyed)\n\n")
    assert (state.state, state.reason) == (VirshState.SHUT_OFF, "destroyed")
    odd = parse_virsh_domstate("hibernating\n")
    assert odd.state is VirshState.UNRECOGNISED
    assert odd.unrecognised == (Unrecognised(line=1, field="state", value="hibernating"),)
    with pytest.raises(ParseError):
        parse_virsh_domstate("")
    with pytest.raises(ParseError) as raised:
        parse_virsh_domstate("running\nerror: failed to get domain 'x'\n")
    assert raised.value.line == 2
