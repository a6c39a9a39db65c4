"""The lab's network: two node namespaces joined through a switch, as in a rack.

The switch is a third namespace, `rcl-<id>-sw`, with one Linux bridge per declared network
(`br<k>` for the k-th); each node's interface on a network is a veth whose peer, the switch
port `br<k>p<n>` (n: the node's number), is enslaved to that network's bridge. A partition is
cut at the switch (`switch.py`), never on a node: inside a node the interface keeps its
carrier, as a server's NIC does when the switch stops forwarding.

`plan_network` is pure: from the Cluster manifest it names every namespace, port and interface
and gives each end its address. The functions below it are the edge that runs `ip` (argv lists,
through a Runner), one small step each, so that `lab.up` can record each thing before it exists.

Every name the lab gives on the host starts with `rcl-<lab id>-`: namespaces `rcl-<id>-1`,
`rcl-<id>-2` and the switch's `rcl-<id>-sw`. A veth pair is made directly between the switch
and a node (`ip link add ... peer ... netns`), so no end ever passes through the host's
namespace; `down` still removes a host link with the prefix, left by a lab of an older version.
Lab ids have no '-', so one lab's prefix is never the beginning of another's.
"""

import json
import shutil
import time
from collections.abc import Sequence
from ipaddress import IPv4Interface, IPv6Interface, ip_interface

from pydantic import BaseModel, ConfigDict

from reconciler.lab.errors import CommandFailed, LabError
from reconciler.manifest.cluster import ClusterDocument
from reconciler.observe.ip import AddrList, OperState
from reconciler.observe.ip_json import parse_addr_json, parse_link_json
from reconciler.observe.runner import CommandResult, Runner

NAME_PREFIX = "rcl"
SWITCH_SUFFIX = "sw"
# One character per network in the switch's bridge and port names.
_NETWORK_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
IP_TIMEOUT = 10.0
PING_TIMEOUT = 5.0
CARRIER_WAIT = 5.0  # seconds for a link brought up to carry traffic


class _NetworkModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EndPlan(_NetworkModel):
    """A node's interface on a network: where it lives, its name and address, and the name of
    its peer, the switch port it is plugged into."""

    node: str
    namespace: str
    interface: str
    address: IPv4Interface | IPv6Interface
    port: str


class LinkPlan(_NetworkModel):
    """One network: its bridge in the switch, and the two nodes' ends plugged into it."""

    network: str
    bridge: str
    ends: tuple[EndPlan, EndPlan]

    def end(self, node: str) -> EndPlan:
        return next(e for e in self.ends if e.node == node)

    def peer(self, node: str) -> EndPlan:
        return next(e for e in self.ends if e.node != node)


class NodePlan(_NetworkModel):
    name: str
    namespace: str


class NetworkPlan(_NetworkModel):
    lab_id: str
    switch: str  # the switch's namespace
    nodes: tuple[NodePlan, NodePlan]
    links: tuple[LinkPlan, ...]

    def node(self, name: str) -> NodePlan:
        for node in self.nodes:
            if node.name == name:
                return node
        raise LabError(f"no node {name!r} in this lab; its nodes are {', '.join(n.name for n in self.nodes)}")

    def selected_links(self, network: str | None) -> tuple[LinkPlan, ...]:
        """The link of `network`, or every link for None."""
        if network is None:
            return self.links
        for link in self.links:
            if link.network == network:
                return (link,)
        known = ", ".join(link.network for link in self.links)
        raise LabError(f"no network {network!r} in this lab; its networks are {known}")


def name_prefix(lab_id: str) -> str:
    """What every name of lab `lab_id` starts with, in `ip netns list` and `ip link`."""
    return f"{NAME_PREFIX}-{lab_id}-"


def namespace_name(lab_id: str, index: int) -> str:
    return f"{name_prefix(lab_id)}{index + 1}"


def switch_name(lab_id: str) -> str:
    return f"{name_prefix(lab_id)}{SWITCH_SUFFIX}"


def bridge_name(index: int) -> str:
    return f"br{_NETWORK_DIGITS[index]}"


def port_name(index: int, node_index: int) -> str:
    return f"{bridge_name(index)}p{node_index + 1}"


def plan_network(lab_id: str, cluster: ClusterDocument) -> NetworkPlan:
    """Namespaces, bridges, veth ends and addresses for the lab `lab_id` of `cluster`."""
    spec = cluster.spec
    if len(spec.networks) > len(_NETWORK_DIGITS):
        raise LabError(f"the lab supports at most {len(_NETWORK_DIGITS)} networks")
    nodes = tuple(
        NodePlan(name=n.name, namespace=namespace_name(lab_id, i)) for i, n in enumerate(spec.nodes)
    )
    links = []
    for index, network in enumerate(spec.networks):
        ends = []
        for node_index, node in enumerate(nodes):
            declared = next(n for n in spec.nodes if n.name == node.name)
            address = declared.addresses.get(network.name)
            interface = network.interfaces.get(node.name)
            if address is None or interface is None:
                # The loader's cross-checks should have refused such a manifest already.
                raise LabError(f"network {network.name}: node {node.name} has no address or interface")
            ends.append(
                EndPlan(
                    node=node.name,
                    namespace=node.namespace,
                    interface=interface,
                    address=ip_interface(f"{address}/{network.subnet.prefixlen}"),
                    port=port_name(index, node_index),
                )
            )
        links.append(LinkPlan(network=network.name, bridge=bridge_name(index), ends=(ends[0], ends[1])))
    return NetworkPlan(
        lab_id=lab_id, switch=switch_name(lab_id), nodes=(nodes[0], nodes[1]), links=tuple(links)
    )


# --- the edge: each function runs `ip` and raises CommandFailed when it fails -----------------


def ip(runner: Runner, *args: str) -> CommandResult:
    result = runner.run(["ip", *args], IP_TIMEOUT)
    if not result.ok:
        raise CommandFailed(result)
    return result


def create_namespace(runner: Runner, node: NodePlan) -> None:
    ip(runner, "netns", "add", node.namespace)
    # Without lo up, a node cannot reach its own addresses (agents bind to them and talk to peers).
    ip(runner, "-n", node.namespace, "link", "set", "lo", "up")


def create_bridge(runner: Runner, switch: str, link: LinkPlan) -> None:
    """The network's bridge in the switch; no STP (two ports, no loop), so a port forwards at once."""
    ip(runner, "-n", switch, "link", "add", link.bridge, "type", "bridge", "stp_state", "0")
    ip(runner, "-n", switch, "link", "set", link.bridge, "up")


def create_end(runner: Runner, switch: str, link: LinkPlan, end: EndPlan) -> None:
    """Plug `end` into the switch: a veth pair from the switch port to the node's interface, made
    in place (neither end passes through the host's namespace), addressed and up."""
    add = ["-n", switch, "link", "add", end.port, "type", "veth", "peer", "name", end.interface]
    ip(runner, *add, "netns", end.namespace)
    ip(runner, "-n", switch, "link", "set", end.port, "master", link.bridge)
    ip(runner, "-n", switch, "link", "set", end.port, "up")
    address = ["-n", end.namespace, "addr", "add", str(end.address), "dev", end.interface]
    # Duplicate address detection would keep an IPv6 address unusable for a while on a link
    # where no duplicate can exist.
    if end.address.version == 6:
        address.append("nodad")
    ip(runner, *address)
    set_link(runner, end, up=True)


def set_link(runner: Runner, end: EndPlan, up: bool) -> None:
    ip(runner, "-n", end.namespace, "link", "set", end.interface, "up" if up else "down")


def _carries(runner: Runner, end: EndPlan) -> bool:
    links = parse_link_json(
        ip(runner, "-n", end.namespace, "-j", "link", "show", "dev", end.interface).stdout
    )
    return all(link.operstate is OperState.UP for link in links.links)


def settle_links(runner: Runner, ends: Sequence[EndPlan]) -> None:
    """Wait until every end in `ends` is operationally UP, then forget its neighbours.

    The kernel applies a link's carrier change (and attaches its queue) in its link-watch work,
    up to a second after `ip link set up`; until then packets are dropped, and a first ping after
    `heal` or `start` would read as a partition that is not there.
    """
    deadline = time.monotonic() + CARRIER_WAIT
    pending = list(ends)
    while pending := [end for end in pending if not _carries(runner, end)]:
        if time.monotonic() > deadline:
            names = ", ".join(f"{e.interface} of {e.node}" for e in pending)
            raise LabError(f"no carrier on {names} after {CARRIER_WAIT:.0f}s")
        time.sleep(0.02)
    for end in ends:
        # A packet sent during the outage left an incomplete ARP entry, retried only every second:
        # the first ping after `heal` would wait out that retry and, with `-W 1`, fail or not by
        # chance. Starting resolution afresh makes the first packet as fast as the next.
        ip(runner, "-n", end.namespace, "neigh", "flush", "dev", end.interface)


def list_namespaces(runner: Runner, prefix: str) -> list[str]:
    """The named namespaces whose names start with `prefix`."""
    text = ip(runner, "-j", "netns", "list").stdout.strip()
    # `ip -j netns list` prints nothing at all (not "[]") on some versions when there is none.
    entries = json.loads(text) if text else []
    return sorted(str(e["name"]) for e in entries if str(e.get("name", "")).startswith(prefix))


def delete_namespace(runner: Runner, namespace: str) -> None:
    """Delete a named namespace; the veth ends inside it go with it (and so their peers)."""
    ip(runner, "netns", "del", namespace)


def has_namespace(runner: Runner, namespace: str) -> bool:
    return namespace in list_namespaces(runner, namespace)


def host_links(runner: Runner, prefix: str) -> list[str]:
    """Links of the host's namespace whose names start with `prefix` (only read, never changed
    unless they are ours: a veth end a lab of an older version left there in a crash)."""
    links = parse_link_json(ip(runner, "-j", "link", "show").stdout)
    return sorted(link.name for link in links.links if link.name.startswith(prefix))


def delete_host_link(runner: Runner, name: str) -> None:
    ip(runner, "link", "del", name)


def observe_addresses(runner: Runner, namespace: str) -> AddrList:
    return parse_addr_json(ip(runner, "-n", namespace, "-j", "addr", "show").stdout)


def ping(runner: Runner, namespace: str, address: str) -> bool:
    """One echo request from inside `namespace` (the lab's addresses exist only there)."""
    program = shutil.which("ping")
    # `ip netns exec` exits 1 when it cannot run the program, as ping does for "no reply": a
    # missing ping must not read as a partition.
    if program is None:
        raise LabError("ping not found: install iputils-ping")
    argv = ["ip", "netns", "exec", namespace, program, "-n", "-q", "-c", "1", "-W", "1", address]
    result = runner.run(argv, PING_TIMEOUT)
    if result.ok:
        return True
    # Exit 1 is "no reply" and 2 "cannot send" (network unreachable); anything else is a fault of
    # the check itself, which must not read as a partition.
    if result.returncode in (1, 2):
        return False
    raise CommandFailed(result)
