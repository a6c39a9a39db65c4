"""Parsers of iproute2's JSON output: `ip -j addr` and `ip -j link` (also with `-p` and `-d`).

Pretty-printing (`-p`) changes only whitespace, and `-d` only adds keys, so each command has one
parser. Line numbers in errors and in `unrecognised` entries are found from where each interface's
object starts in the text, so that they point at the real line of a pretty-printed listing too.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, ip_address, ip_interface
from typing import Any

from reconciler.observe.errors import ParseError
from reconciler.observe.facts import Fact, Unrecognised
from reconciler.observe.ip import (
    Address,
    AddrList,
    BridgeInfo,
    BridgePortInfo,
    BridgePortState,
    Family,
    Interface,
    Link,
    LinkList,
    OperState,
    VlanInfo,
    lifetime_of,
    operstate_of,
)

ADDR_KIND = "ip-addr-json"
LINK_KIND = "ip-link-json"

# Keys of an `addr_info` item that are not flags although their value may be a boolean.
_ADDR_NON_FLAG_KEYS = frozenset({"deleted"})


@dataclass(frozen=True)
class _Element:
    """One interface object of the top-level array, with where it sits in the text."""

    obj: dict[str, Any]
    text: str
    start: int
    end: int

    def offset_of(self, key: str | None = None) -> int:
        """Where the first `key` inside this object is, or where the object starts."""
        if key is not None:
            found = re.compile(rf'"{re.escape(key)}"\s*:').search(self.text, self.start, self.end)
            if found is not None:
                return found.start()
        return self.start

    def line_of(self, key: str | None = None) -> int:
        return _line_at(self.text, self.offset_of(key))

    def error(self, kind: str, message: str, key: str | None = None) -> ParseError:
        """A ParseError quoting the line of `key` (or of the object's start)."""
        return _error_at(kind, self.text, self.offset_of(key), message)


def _line_at(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _error_at(kind: str, text: str, offset: int, message: str) -> ParseError:
    line = _line_at(text, offset)
    lines = text.splitlines()
    return ParseError(kind, message, line=line, text=lines[line - 1] if line <= len(lines) else None)


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _elements(kind: str, text: str) -> list[_Element]:
    """Decode the top-level array one element at a time, keeping each element's offsets.

    Empty objects are left out: some iproute2 versions print `{}` for every interface that a
    filter (`show dev X`, `show type X`, `-4`) excluded, and such an item holds nothing.
    """
    decoder = json.JSONDecoder()
    pos = _skip_space(text, 0)
    if pos == len(text):
        # `ip -j` prints at least "[]"; nothing at all means it did not list anything.
        raise ParseError(kind, "empty output where a JSON array was expected")
    if text[pos] != "[":
        raise _error_at(kind, text, pos, "not a JSON array")
    pos = _skip_space(text, pos + 1)
    result: list[_Element] = []
    while pos >= len(text) or text[pos] != "]":
        try:
            obj, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise _error_at(kind, text, exc.pos, f"invalid JSON: {exc.msg}") from exc
        if not isinstance(obj, dict):
            raise _error_at(kind, text, pos, "array item is not an object")
        if obj:
            result.append(_Element(obj, text, pos, end))
        pos = _skip_space(text, end)
        if pos < len(text) and text[pos] == ",":
            pos = _skip_space(text, pos + 1)
        elif pos >= len(text) or text[pos] != "]":
            raise _error_at(kind, text, pos, "truncated JSON: the array is not closed")
    if text[pos + 1 :].strip():
        raise _error_at(kind, text, _skip_space(text, pos + 1), "text after the JSON array")
    return result


def _get(kind: str, el: _Element, obj: dict[str, Any], key: str, typ: type, *, required: bool) -> Any:
    value = obj.get(key)
    if value is None:
        if required:
            raise el.error(kind, f"missing {key!r}")
        return None
    # bool is an int in Python; a JSON true where a number belongs is still the wrong shape.
    if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
        raise el.error(kind, f"{key!r} is not {typ.__name__}: {value!r}", key)
    return value


def _strings(kind: str, el: _Element, obj: dict[str, Any], key: str) -> tuple[str, ...]:
    value = obj.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise el.error(kind, f"{key!r} is not a list of strings", key)
    return tuple(value)


def _link_fields(kind: str, el: _Element, found: list[Unrecognised]) -> dict[str, Any]:
    """The fields common to `ip -j addr` and `ip -j link` items (see `LinkState`)."""
    obj = el.obj
    flags = _strings(kind, el, obj, "flags")
    return {
        "ifindex": _get(kind, el, obj, "ifindex", int, required=True),
        "name": _get(kind, el, obj, "ifname", str, required=True),
        "flags": flags,
        "admin_up": "UP" in flags,
        "lower_up": "LOWER_UP" in flags,
        "operstate": _operstate(kind, el, found),
        "mtu": _get(kind, el, obj, "mtu", int, required=True),
        # `ip -4 -j addr` leaves out the link layer: type and address are then absent.
        "link_type": _get(kind, el, obj, "link_type", str, required=False),
        "mac": _get(kind, el, obj, "address", str, required=False),
        "master": _get(kind, el, obj, "master", str, required=False),
        "link": _get(kind, el, obj, "link", str, required=False),
        "link_index": _get(kind, el, obj, "link_index", int, required=False),
        "altnames": _strings(kind, el, obj, "altnames"),
    }


def _operstate(kind: str, el: _Element, found: list[Unrecognised]) -> OperState:
    raw = el.obj.get("operstate")
    if raw is None and "operstate_index" in el.obj:
        # `ip` prints the number when the kernel's state is beyond its table.
        found.append(
            Unrecognised(
                line=el.line_of("operstate_index"), field="operstate", value=str(el.obj["operstate_index"])
            )
        )
        return OperState.UNRECOGNISED
    if not isinstance(raw, str):
        raise el.error(kind, "missing or non-string 'operstate'")
    state = operstate_of(raw)
    if state is None:
        found.append(Unrecognised(line=el.line_of("operstate"), field="operstate", value=raw))
        return OperState.UNRECOGNISED
    return state


def _address(kind: str, el: _Element, item: Any) -> Address:
    if not isinstance(item, dict):
        raise el.error(kind, "addr_info item is not an object", "addr_info")
    family_raw = _get(kind, el, item, "family", str, required=True)
    if family_raw not in {f.value for f in Family}:
        raise el.error(kind, f"address family {family_raw!r} is not inet/inet6", "addr_info")
    local = _get(kind, el, item, "local", str, required=True)
    prefixlen = _get(kind, el, item, "prefixlen", int, required=True)
    peer = _get(kind, el, item, "address", str, required=False)
    brd = _get(kind, el, item, "broadcast", str, required=False)
    valid = _get(kind, el, item, "valid_life_time", int, required=False)
    preferred = _get(kind, el, item, "preferred_life_time", int, required=False)
    flags = tuple(k for k, v in item.items() if v is True and k not in _ADDR_NON_FLAG_KEYS)
    try:
        return Address(
            family=Family(family_raw),
            ip=ip_interface(f"{local}/{prefixlen}"),
            peer=ip_address(peer) if peer is not None and peer != local else None,
            broadcast=IPv4Address(brd) if brd is not None else None,
            scope=_get(kind, el, item, "scope", str, required=True),
            secondary="secondary" in flags or "temporary" in flags,
            dynamic="dynamic" in flags,
            flags=flags,
            label=_get(kind, el, item, "label", str, required=False),
            valid_lft=lifetime_of(valid) if valid is not None else None,
            preferred_lft=lifetime_of(preferred) if preferred is not None else None,
        )
    except ValueError as exc:
        raise el.error(kind, f"bad address {local}/{prefixlen}: {exc}", "addr_info") from exc


def parse_addr_json(text: str) -> AddrList:
    """`ip -j addr [show ...]` (also `-p`, `-4`, `-6`) -> every interface with its addresses."""
    found: list[Unrecognised] = []
    interfaces: list[Interface] = []
    for el in _elements(ADDR_KIND, text):
        # `ip -j addr` prints "addr_info": [] for an interface without addresses; an item
        # without the key is `ip -j link` output, which must not read as "no addresses".
        items = el.obj.get("addr_info")
        if not isinstance(items, list):
            raise el.error(ADDR_KIND, "missing 'addr_info' list (is this `ip -j link`?)", "addr_info")
        interfaces.append(
            Interface(
                **_link_fields(ADDR_KIND, el, found),
                addresses=tuple(_address(ADDR_KIND, el, a) for a in items),
            )
        )
    return AddrList(interfaces=tuple(interfaces), unrecognised=tuple(found))


def _linkinfo(el: _Element, found: list[Unrecognised]) -> dict[str, Any]:
    """Kind, slave kind and the few `-d` details the reconciler uses; the rest is ignored."""
    info = el.obj.get("linkinfo")
    if not isinstance(info, dict):
        return {}
    kind = _get(LINK_KIND, el, info, "info_kind", str, required=False)
    slave_kind = _get(LINK_KIND, el, info, "info_slave_kind", str, required=False)
    data = info.get("info_data") if isinstance(info.get("info_data"), dict) else {}
    slave_data = info.get("info_slave_data") if isinstance(info.get("info_slave_data"), dict) else {}
    fields: dict[str, Any] = {"kind": kind, "slave_kind": slave_kind}
    if kind == "bridge" and data:
        fields["bridge"] = BridgeInfo(
            stp_enabled=_get(LINK_KIND, el, data, "stp_state", int, required=True) != 0,
            vlan_filtering=bool(_get(LINK_KIND, el, data, "vlan_filtering", int, required=False)),
            forward_delay_cs=_get(LINK_KIND, el, data, "forward_delay", int, required=False),
            bridge_id=_get(LINK_KIND, el, data, "bridge_id", str, required=False),
        )
    if kind == "vlan" and data:
        fields["vlan"] = VlanInfo(
            protocol=_get(LINK_KIND, el, data, "protocol", str, required=True),
            vlan_id=_get(LINK_KIND, el, data, "id", int, required=True),
        )
    if slave_kind == "bridge" and slave_data:
        fields["bridge_port"] = _bridge_port(el, slave_data, found)
    return fields


def _bridge_port(el: _Element, data: dict[str, Any], found: list[Unrecognised]) -> BridgePortInfo:
    raw = _get(LINK_KIND, el, data, "state", str, required=True)
    try:
        state = BridgePortState(raw)
    except ValueError:
        state = BridgePortState.UNRECOGNISED
        found.append(Unrecognised(line=el.line_of("info_slave_data"), field="bridge_port.state", value=raw))
    return BridgePortInfo(
        state=state,
        cost=_get(LINK_KIND, el, data, "cost", int, required=False),
        priority=_get(LINK_KIND, el, data, "priority", int, required=False),
    )


def parse_link_json(text: str) -> LinkList:
    """`ip -j link [show ...]`, and `ip -j -d link` whose `linkinfo` adds the device kind."""
    found: list[Unrecognised] = []
    links = [
        Link(**_link_fields(LINK_KIND, el, found), **_linkinfo(el, found))
        for el in _elements(LINK_KIND, text)
    ]
    return LinkList(links=tuple(links), unrecognised=tuple(found))


KINDS: dict[str, Callable[[str], Fact]] = {
    ADDR_KIND: parse_addr_json,
    LINK_KIND: parse_link_json,
}
