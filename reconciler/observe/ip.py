"""Links and addresses as iproute2 shows them: the models shared by its JSON and text parsers.

The parsers live beside this module, one per format: `ip_json` (`ip -j addr`, `ip -j link`, with
or without `-p` and `-d`) and `ip_text` (`ip addr`). Both build these models, so that the rest of
the reconciler never knows which format a node's `ip` produced.
"""

import enum
from ipaddress import IPv4Address, IPv4Interface, IPv6Address, IPv6Interface

from reconciler.observe.facts import Fact, Unrecognised

# What `ip` prints for a lifetime of "forever" in JSON (INFINITY_LIFE_TIME, 0xFFFFFFFF).
INFINITE_LIFETIME = 0xFFFFFFFF


class OperState(enum.StrEnum):
    """RFC 2863 operational state, spelled as `ip` prints it (`state X` / `"operstate"`)."""

    UP = "UP"
    DOWN = "DOWN"
    UNKNOWN = "UNKNOWN"
    LOWERLAYERDOWN = "LOWERLAYERDOWN"
    DORMANT = "DORMANT"
    NOTPRESENT = "NOTPRESENT"
    TESTING = "TESTING"
    UNRECOGNISED = "?"


class Family(enum.StrEnum):
    INET = "inet"
    INET6 = "inet6"


class BridgePortState(enum.StrEnum):
    """STP state of a bridge port (`info_slave_data.state` of `ip -j -d link`)."""

    DISABLED = "disabled"
    LISTENING = "listening"
    LEARNING = "learning"
    FORWARDING = "forwarding"
    BLOCKING = "blocking"
    UNRECOGNISED = "?"


class Address(Fact):
    """One address of an interface (`addr_info` item / `inet`, `inet6` line).

    `ip` is the local address with the prefix length. `peer` is set for point-to-point addresses
    (`inet A peer B/P`). `secondary` is the kernel's IFA_F_SECONDARY bit, which `ip` spells
    "secondary" for IPv4 and "temporary" for IPv6. `flags` keeps every address flag word as `ip`
    spells it (secondary, dynamic, noprefixroute, tentative, ...). A lifetime of None means
    "forever", or not shown at all (old kernels gave no lifetimes for permanent IPv4 addresses).
    """

    family: Family
    ip: IPv4Interface | IPv6Interface
    peer: IPv4Address | IPv6Address | None = None
    broadcast: IPv4Address | None = None
    scope: str
    secondary: bool = False
    dynamic: bool = False
    flags: tuple[str, ...] = ()
    label: str | None = None
    valid_lft: int | None = None
    preferred_lft: int | None = None


class LinkState(Fact):
    """What both `ip addr` and `ip link` show of a network interface.

    `admin_up` is the UP flag (set by `ip link set X up`); `lower_up` is LOWER_UP (carrier).
    `link` names the interface this one is stacked on or paired with (a veth's peer, a VLAN's
    parent) when it is in the same namespace; `link_index` is its ifindex when it is in another
    namespace (`name@ifN`). `ifindex` is None only for a pasted text excerpt that lost its
    leading "N: " (see `ip_text`).
    """

    ifindex: int | None
    name: str
    flags: tuple[str, ...]
    admin_up: bool
    lower_up: bool
    operstate: OperState
    mtu: int
    link_type: str | None = None
    mac: str | None = None
    master: str | None = None
    link: str | None = None
    link_index: int | None = None
    altnames: tuple[str, ...] = ()


class Interface(LinkState):
    """An interface with its addresses (`ip addr`)."""

    addresses: tuple[Address, ...] = ()


class AddrList(Fact):
    """The whole of an `ip addr` listing, in the order `ip` printed it."""

    interfaces: tuple[Interface, ...]
    unrecognised: tuple[Unrecognised, ...] = ()


class BridgeInfo(Fact):
    """A few settings of a Linux bridge (`linkinfo.info_data` of kind "bridge").

    Times are in hundredths of a second, as the kernel reports them (1500 = 15 s).
    """

    stp_enabled: bool
    vlan_filtering: bool
    forward_delay_cs: int | None = None
    bridge_id: str | None = None


class BridgePortInfo(Fact):
    """A bridge port's own state (`linkinfo.info_slave_data` of slave kind "bridge")."""

    state: BridgePortState
    cost: int | None = None
    priority: int | None = None


class VlanInfo(Fact):
    """An 802.1Q/802.1ad VLAN interface (`linkinfo.info_data` of kind "vlan")."""

    protocol: str
    vlan_id: int


class Link(LinkState):
    """An interface as `ip link` shows it; with `-d`, also what kind of device it is."""

    kind: str | None = None
    slave_kind: str | None = None
    bridge: BridgeInfo | None = None
    bridge_port: BridgePortInfo | None = None
    vlan: VlanInfo | None = None


class LinkList(Fact):
    """The whole of an `ip link` listing, in the order `ip` printed it."""

    links: tuple[Link, ...]
    unrecognised: tuple[Unrecognised, ...] = ()


def operstate_of(raw: str) -> OperState | None:
    """The state for `raw`, or None when `ip` printed one this code does not know."""
    try:
        return OperState(raw)
    except ValueError:
        return None


def lifetime_of(seconds: int) -> int | None:
    return None if seconds == INFINITE_LIFETIME else seconds
