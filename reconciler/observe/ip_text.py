"""Parser of the text output of `ip addr` / `ip addr show DEV` (iproute2, without -d, -s, -o).

The output is one block per interface: a header line at column 0, then indented lines:

    2: rcl0@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default
        link/ether 96:08:42:36:d0:47 brd ff:ff:ff:ff:ff:ff link-netns rcltest-b
        altname enp2s0
        inet 10.99.0.11/25 scope global secondary rcl0
           valid_lft forever preferred_lft forever

Whether an interface is up is read from the parsed flag list and `state` field, never by looking
for "UP" in the raw line. An indented line of a kind this parser does not know raises ParseError:
it is not plain `ip addr` output (`-d` or `-s` add such lines and are other formats).

The header's leading "N: " index is optional, deliberately: `ip` always prints it, but excerpts
pasted into bug reports (the shared fixture ip-addr-show-text-secondary-ip.txt) lose it. Without
it the block is still unambiguous (a header is the only line at column 0), so it is read with
`ifindex` None instead of being refused; nothing in the reconciler identifies links by index.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, ip_address, ip_interface

from reconciler.observe.errors import ParseError
from reconciler.observe.facts import Fact, Unrecognised
from reconciler.observe.ip import Address, AddrList, Family, Interface, OperState, operstate_of

KIND = "ip-addr"

# N: NAME[@LINK]: <FLAGS> rest. Interface names cannot hold ":", "/" or white space.
_HEADER = re.compile(
    r"(?:(?P<index>\d+): )?(?P<name>[^\s:/@]+)(?:@(?P<link>[^\s:/]+))?: <(?P<flags>[^>]*)>(?P<rest>.*)"
)
_LIFETIME = re.compile(r"(?:(?P<seconds>-?\d+)sec|forever)")
# Header and link-line words followed by a value; other words are ignored (unknown options).
_HEADER_KEYS = frozenset({"mtu", "qdisc", "master", "state", "mode", "group", "qlen", "event"})
_LINK_KEYS = frozenset({"brd", "peer", "link-netnsid", "link-netns", "permaddr"})
_ADDR_KEYS = frozenset({"brd", "any", "scope", "metric", "proto", "flags"})
# Address flag words `ip` prints (ifa_flag_names, with "dynamic" for a missing "permanent").
_ADDR_FLAGS = frozenset(
    {
        "secondary",
        "temporary",
        "nodad",
        "optimistic",
        "dadfailed",
        "home",
        "deprecated",
        "tentative",
        "mngtmpaddr",
        "noprefixroute",
        "autojoin",
        "stable-privacy",
        "dynamic",
    }
)


@dataclass
class _Block:
    """The interface being read, until the next header line or the end."""

    ifindex: int | None
    name: str
    flags: tuple[str, ...]
    operstate: OperState
    mtu: int
    master: str | None
    link: str | None
    link_type: str | None = None
    mac: str | None = None
    link_in_other_netns: bool = False
    altnames: list[str] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)

    def finish(self) -> Interface:
        link, link_index = self.link, None
        # `name@ifN` names the peer by index when it lives in another namespace.
        if link is not None and self.link_in_other_netns and (m := re.fullmatch(r"if(\d+)", link)):
            link, link_index = None, int(m.group(1))
        return Interface(
            ifindex=self.ifindex,
            name=self.name,
            flags=self.flags,
            admin_up="UP" in self.flags,
            lower_up="LOWER_UP" in self.flags,
            operstate=self.operstate,
            mtu=self.mtu,
            link_type=self.link_type,
            mac=self.mac,
            master=self.master,
            link=None if link == "NONE" else link,
            link_index=link_index,
            altnames=tuple(self.altnames),
            addresses=tuple(self.addresses),
        )


def _pairs(words: list[str], keys: frozenset[str]) -> tuple[dict[str, str], list[str]]:
    """Split words into `key value` pairs for the known keys, and the remaining bare words."""
    values: dict[str, str] = {}
    bare: list[str] = []
    i = 0
    while i < len(words):
        if words[i] in keys and i + 1 < len(words):
            values[words[i]] = words[i + 1]
            i += 2
        else:
            bare.append(words[i])
            i += 1
    return values, bare


def _header(lineno: int, line: str, found: list[Unrecognised]) -> _Block:
    m = _HEADER.fullmatch(line.rstrip())
    if m is None:
        raise ParseError(KIND, "not an interface header line", line=lineno, text=line)
    values, _ = _pairs(m["rest"].split(), _HEADER_KEYS)
    if "mtu" not in values or "state" not in values or not values["mtu"].isdigit():
        raise ParseError(KIND, "header without mtu or state", line=lineno, text=line)
    state = operstate_of(values["state"])
    if state is None:
        found.append(Unrecognised(line=lineno, field="operstate", value=values["state"]))
        state = OperState.UNRECOGNISED
    return _Block(
        ifindex=int(m["index"]) if m["index"] is not None else None,
        name=m["name"],
        flags=tuple(f for f in m["flags"].split(",") if f),
        operstate=state,
        mtu=int(values["mtu"]),
        master=values.get("master"),
        link=m["link"],
    )


def _link_line(block: _Block, words: list[str]) -> None:
    block.link_type = words[0].removeprefix("link/")
    values, bare = _pairs(words[1:], _LINK_KEYS)
    block.mac = bare[0] if bare else None
    block.link_in_other_netns = "link-netnsid" in values or "link-netns" in values


def _address(lineno: int, line: str, words: list[str]) -> Address:
    family = Family(words[0])
    if len(words) >= 4 and words[2] == "peer":
        local, peer_prefix, rest = words[1], words[3], words[4:]
        peer, _, prefixlen = peer_prefix.partition("/")
    else:
        local, _, prefixlen = words[1].partition("/")
        peer, rest = None, words[2:]
    values, bare = _pairs(rest, _ADDR_KEYS)
    label = None
    # Only IPv4 addresses carry a label, printed last, after the flag words.
    if family is Family.INET and bare and bare[-1] not in _ADDR_FLAGS:
        label = bare.pop()
    if "scope" not in values or not prefixlen.isdigit():
        raise ParseError(KIND, "address line without prefix length or scope", line=lineno, text=line)
    try:
        return Address(
            family=family,
            ip=ip_interface(f"{local}/{prefixlen}"),
            peer=ip_address(peer) if peer is not None else None,
            broadcast=IPv4Address(values["brd"]) if "brd" in values else None,
            scope=values["scope"],
            secondary="secondary" in bare or "temporary" in bare,
            dynamic="dynamic" in bare,
            flags=tuple(bare),
            label=label,
        )
    except ValueError as exc:
        raise ParseError(KIND, f"bad address: {exc}", line=lineno, text=line) from exc


def _lifetimes(lineno: int, line: str, words: list[str], block: _Block) -> None:
    if not block.addresses or len(words) != 4 or words[2] != "preferred_lft":
        raise ParseError(KIND, "lifetime line not after an address", line=lineno, text=line)
    seconds: list[int | None] = []
    for word in (words[1], words[3]):
        m = _LIFETIME.fullmatch(word)
        if m is None:
            raise ParseError(KIND, f"bad lifetime {word!r}", line=lineno, text=line)
        seconds.append(int(m["seconds"]) if m["seconds"] is not None else None)
    last = block.addresses[-1]
    block.addresses[-1] = last.model_copy(update={"valid_lft": seconds[0], "preferred_lft": seconds[1]})


def _detail(lineno: int, line: str, block: _Block) -> None:
    """One indented line of the current interface's block."""
    words = line.split()
    head = words[0]
    if head.startswith("link/"):
        _link_line(block, words)
    elif head == "altname" and len(words) == 2:
        block.altnames.append(words[1])
    elif head in {"inet", "inet6"} and len(words) >= 2:
        block.addresses.append(_address(lineno, line, words))
    elif head == "valid_lft":
        _lifetimes(lineno, line, words, block)
    else:
        raise ParseError(KIND, "unknown line in an `ip addr` block", line=lineno, text=line)


def parse_addr_text(text: str) -> AddrList:
    """`ip addr [show DEV]` text -> every interface with its addresses."""
    found: list[Unrecognised] = []
    blocks: list[_Block] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if not line[0].isspace():
            blocks.append(_header(lineno, line, found))
        elif not blocks:
            raise ParseError(KIND, "indented line before any interface header", line=lineno, text=line)
        else:
            _detail(lineno, line, blocks[-1])
    return AddrList(interfaces=tuple(b.finish() for b in blocks), unrecognised=tuple(found))


KINDS: dict[str, Callable[[str], Fact]] = {KIND: parse_addr_text}
