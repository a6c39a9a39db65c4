from collections.abc import Callable
from typing import Any

import pytest

from reconciler.observe import ip_json, ip_text
from reconciler.observe.errors import ParseError
from reconciler.observe.facts import Fact, Unrecognised
from reconciler.observe.ip import AddrList, BridgePortState, LinkList, OperState
from tests.conftest import FIXTURES
from tests.observe.cases import PROJECT_DATA, assert_subset, fixture_path, load_cases

KINDS: dict[str, Callable[[str], Fact]] = {**ip_json.KINDS, **ip_text.KINDS}
CASES = load_cases("iproute2")


@pytest.mark.parametrize(("name", "case"), CASES, ids=[name for name, _ in CASES])
def test_case(name: str, case: dict[str, Any]) -> None:
    model = KINDS[case["kind"]](fixture_path(case["fixture"]).read_text())
    assert_subset(case["expect"], model.model_dump(mode="json"))


def test_every_captured_fixture_has_a_case() -> None:
    covered = {case["fixture"] for _, case in CASES}
    files = {f"iproute2/{p.name}" for p in (FIXTURES / "iproute2").iterdir()}
    assert files, "no captured iproute2 fixtures found"
    assert files - covered == set()


def test_every_capture_has_a_case() -> None:
    covered = {case["fixture"] for _, case in CASES}
    files = {
        f"data:iproute2/{p.name}"
        for p in (PROJECT_DATA / "iproute2").iterdir()
        if p.suffix in {".json", ".txt"}
    }
    assert files - covered == set()


def _without_lifetimes(model: AddrList) -> dict[str, Any]:
    # Lifetimes count down between two commands of a capture run; everything else must agree.
    dump = model.model_dump(mode="json")
    for interface in dump["interfaces"]:
        for address in interface["addresses"]:
            address.pop("valid_lft")
            address.pop("preferred_lft")
    return dump


def test_text_compact_and_pretty_json_of_one_namespace_agree() -> None:
    data = PROJECT_DATA / "iproute2"
    text = ip_text.parse_addr_text((data / "ip-addr.txt").read_text())
    compact = ip_json.parse_addr_json((data / "ip-j-addr.json").read_text())
    pretty = ip_json.parse_addr_json((data / "ip-j-p-addr.json").read_text())
    assert _without_lifetimes(text) == _without_lifetimes(compact) == _without_lifetimes(pretty)


# --- ip -j addr / ip -j link -------------------------------------------------------------------

PRETTY_WEIRD_STATE = """[ {
        "ifindex": 4,
        "ifname": "rcl9",
        "flags": [ "BROADCAST","MULTICAST","UP" ],
        "mtu": 1500,
        "operstate": "SLEEPING",
        "addr_info": [ ]
    } ]
"""


def test_json_unknown_operstate_is_unrecognised_with_its_line() -> None:
    model = ip_json.parse_addr_json(PRETTY_WEIRD_STATE)
    assert model.interfaces[0].operstate is OperState.UNRECOGNISED
    assert model.unrecognised == (Unrecognised(line=6, field="operstate", value="SLEEPING"),)


def test_json_operstate_index_is_unrecognised() -> None:
    text = '[{"ifindex":4,"ifname":"x","flags":[],"mtu":1500,"operstate_index":9,"addr_info":[]}]'
    model = ip_json.parse_addr_json(text)
    assert model.interfaces[0].operstate is OperState.UNRECOGNISED
    assert model.unrecognised == (Unrecognised(line=1, field="operstate", value="9"),)


def test_json_unknown_bridge_port_state_is_unrecognised() -> None:
    text = (
        '[{"ifindex":5,"ifname":"p0","flags":["UP"],"mtu":1500,"operstate":"UP","master":"br0",\n'
        '"linkinfo":{"info_kind":"veth","info_slave_kind":"bridge",\n'
        '"info_slave_data":{"state":"napping","cost":2}}}]'
    )
    model = ip_json.parse_link_json(text)
    assert model.links[0].bridge_port is not None
    assert model.links[0].bridge_port.state is BridgePortState.UNRECOGNISED
    assert model.unrecognised == (Unrecognised(line=3, field="bridge_port.state", value="napping"),)


def test_json_vlan_details() -> None:
    text = (
        '[{"ifindex":8,"link":"rcl0","ifname":"rcl0.5","flags":["BROADCAST","MULTICAST","UP"],'
        '"mtu":1500,"operstate":"UP","linkinfo":{"info_kind":"vlan","info_data":'
        '{"protocol":"802.1Q","id":5,"flags":["REORDER_HDR"]}}}]'
    )
    link = ip_json.parse_link_json(text).links[0]
    assert (link.kind, link.link) == ("vlan", "rcl0")
    assert link.vlan is not None
    assert (link.vlan.protocol, link.vlan.vlan_id) == ("802.1Q", 5)


def test_json_empty_objects_left_by_filters_are_skipped() -> None:
    text = '[{},{"ifindex":3,"ifname":"wlan0","flags":[],"mtu":1500,"operstate":"DOWN","addr_info":[]},{}]'
    assert [i.name for i in ip_json.parse_addr_json(text).interfaces] == ["wlan0"]


@pytest.mark.parametrize("parse", [ip_json.parse_addr_json, ip_json.parse_link_json])
def test_json_empty_list_is_absent_not_an_error(parse: Callable[[str], Fact]) -> None:
    model = parse("[]\n")
    assert model.model_dump() in ({"interfaces": (), "unrecognised": ()}, {"links": (), "unrecognised": ()})
    assert parse("[ ]").model_dump() == model.model_dump()


@pytest.mark.parametrize("parse", [ip_json.parse_addr_json, ip_json.parse_link_json])
def test_json_no_output_at_all_is_an_error(parse: Callable[[str], Fact]) -> None:
    with pytest.raises(ParseError):
        parse("")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('[ {\n  "ifindex": 1,\n  "ifname": "lo",\n', 4),  # truncated: the array never closes
        ('[ {\n  "ifindex": 1,\n  "ifname": "lo"\n  "mtu": 1 } ]', 4),  # missing comma
        ("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN", 1),  # text, not JSON
        ('[{"ifindex":1,"ifname":"lo","flags":[],"mtu":1,"operstate":"UP","addr_info":[]}]\n[]', 2),
        ('[\n{"ifindex":1,"flags":[],"mtu":1,"operstate":"UP","addr_info":[]}]', 2),  # no ifname
        ('[\n{"ifindex":"1","ifname":"lo","flags":[],"mtu":1,"operstate":"UP","addr_info":[]}]', 2),
        (
            '[\n{"ifindex":1,"ifname":"lo","flags":[],"mtu":1,"operstate":"UP",\n"addr_info":[\n'
            '{"family":"inet","local":"300.1.1.1","prefixlen":8,"scope":"host"}]}]',
            3,
        ),
    ],
)
def test_json_garbage_raises_with_the_line(text: str, line: int) -> None:
    with pytest.raises(ParseError) as info:
        ip_json.parse_addr_json(text)
    assert info.value.line == line
    assert info.value.kind == "ip-addr-json"


def test_json_link_listing_is_not_taken_for_an_address_listing() -> None:
    link_output = (PROJECT_DATA / "iproute2" / "ip-j-link.json").read_text()
    with pytest.raises(ParseError, match="addr_info"):
        ip_json.parse_addr_json(link_output)


# --- ip addr (text) ----------------------------------------------------------------------------


def test_text_up_comes_from_flags_and_state_not_from_the_words_on_the_line() -> None:
    text = "3: UPLINK: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group UP qlen 1000\n"
    interface = ip_text.parse_addr_text(text).interfaces[0]
    assert interface.name == "UPLINK"
    assert (interface.admin_up, interface.lower_up, interface.operstate) == (False, False, OperState.DOWN)


def test_text_unknown_state_is_unrecognised_with_its_line() -> None:
    text = (
        "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default\n"
        "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
        "2: rcl0: <BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state 0x7 group default\n"
    )
    model = ip_text.parse_addr_text(text)
    assert [i.operstate for i in model.interfaces] == [OperState.UNKNOWN, OperState.UNRECOGNISED]
    assert model.unrecognised == (Unrecognised(line=3, field="operstate", value="0x7"),)


def test_text_peer_address_and_link_none() -> None:
    text = (
        "9: tun0@NONE: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1480 qdisc noqueue state UNKNOWN\n"
        "    link/ipip 10.99.0.1 peer 10.99.0.2\n"
        "    inet 10.99.0.1 peer 10.99.0.2/32 scope global tun0\n"
        "       valid_lft forever preferred_lft forever\n"
    )
    interface = ip_text.parse_addr_text(text).interfaces[0]
    assert (interface.name, interface.link, interface.link_type) == ("tun0", None, "ipip")
    address = interface.addresses[0]
    assert (str(address.ip), str(address.peer), address.label) == ("10.99.0.1/32", "10.99.0.2", "tun0")


def test_text_keyed_words_and_flags_around_the_label() -> None:
    text = (
        "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default\n"
        "    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff permaddr 52:54:00:12:34:57\n"
        "    inet 10.99.0.5/24 metric 100 brd 10.99.0.255 scope global dynamic noprefixroute eth0\n"
        "       valid_lft 86000sec preferred_lft 86000sec\n"
        "    inet6 fe80::1/64 scope link temporary deprecated dynamic\n"
        "       valid_lft 100sec preferred_lft -1sec\n"
    )
    interface = ip_text.parse_addr_text(text).interfaces[0]
    assert interface.mac == "52:54:00:12:34:56"
    v4, v6 = interface.addresses
    assert (str(v4.broadcast), v4.label, v4.flags) == ("10.99.0.255", "eth0", ("dynamic", "noprefixroute"))
    assert (v4.valid_lft, v4.preferred_lft) == (86000, 86000)
    assert (v6.label, v6.secondary, v6.dynamic) == (None, True, True)
    assert v6.flags == ("temporary", "deprecated", "dynamic")
    assert (v6.valid_lft, v6.preferred_lft) == (100, -1)


def test_text_index_is_optional_and_then_none() -> None:
    with_index = "5: eth0: <UP> mtu 1500 state UP\n"
    without = "eth0: <UP> mtu 1500 state UP\n"
    assert ip_text.parse_addr_text(with_index).interfaces[0].ifindex == 5
    assert ip_text.parse_addr_text(without).interfaces[0].ifindex is None


@pytest.mark.parametrize("text", ["", "\n"])
def test_text_no_interfaces_is_absent_not_an_error(text: str) -> None:
    assert ip_text.parse_addr_text(text) == AddrList(interfaces=())


HEADER = "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP\n"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("    inet 10.99.0.1/24 scope global eth0\n", 1),  # no header before it
        (HEADER + "    inet 10.99.0.1/24 scope global eth0\n    RX: bytes  packets\n", 3),  # `ip -s`
        (HEADER + "       valid_lft forever preferred_lft forever\n", 2),  # lifetime without address
        (HEADER + "    inet 10.99.0.1/24 scope global eth0\n       valid_lft soon preferred_lft 3sec\n", 3),
        (HEADER + "    inet 10.99.0.1 scope global eth0\n", 2),  # no prefix length
        (HEADER + "    inet 10.99.0.1/24 eth0\n", 2),  # no scope
        (HEADER + "    inet 10.99.0.999/24 scope global eth0\n", 2),
        (HEADER + "    dnet 1.2/16 scope global eth0\n", 2),
        ("2: eth0: <UP> qdisc noqueue state UP\n", 1),  # no mtu
        ("2: eth0 <UP> mtu 1500 state UP\n", 1),
        ('[{"ifindex": 1}]\n', 1),
    ],
)
def test_text_garbage_raises_with_the_line(text: str, line: int) -> None:
    with pytest.raises(ParseError) as info:
        ip_text.parse_addr_text(text)
    assert info.value.line == line
    assert info.value.kind == "ip-addr"
    assert info.value.text == text.splitlines()[line - 1]


def test_kinds() -> None:
    assert set(KINDS) == {"ip-addr-json", "ip-link-json", "ip-addr"}
    assert isinstance(KINDS["ip-link-json"]("[]"), LinkList)
