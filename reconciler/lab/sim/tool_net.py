"""iproute2 and ping stand-ins, and who answers on an address (for ping and TCP readiness checks).

`ip addr add` and `ip addr del` say what the kernel says through RTNETLINK (exit 2); an
interface that does not exist is iproute2's own error (exit 1). An address is reachable from a
node when it is on one of its own interfaces that is up, or on the peer's (or on a domain
running there, from the `ip=` of its vif) and a link between the two works.
"""

import ipaddress
from ipaddress import IPv4Address, IPv6Address

from reconciler.lab.sim import drbd, reports
from reconciler.lab.sim.model import SimAddress, SimDomain, SimNode
from reconciler.lab.sim.result import RTNETLINK, failed, ok, unsupported
from reconciler.lab.sim.state import Cluster
from reconciler.observe.runner import CommandResult

IP_JSON = ("ip", "-j", "addr", "show")
IPAddress = IPv4Address | IPv6Address


def _no_device(argv: tuple[str, ...], name: str, show: bool = False) -> CommandResult:
    message = f'Device "{name}" does not exist.\n' if show else f'Cannot find device "{name}"\n'
    return failed(argv, 1, message)


def carriers(cluster: Cluster, node: SimNode) -> dict[str, bool]:
    return {i.name: cluster.carrier(node, i) for i in node.interfaces}


def _addr_change(cluster: Cluster, node: SimNode, argv: tuple[str, ...]) -> CommandResult:
    verb, cidr, dev = argv[2], argv[3], argv[5]
    iface = node.interface(dev)
    if iface is None:
        return _no_device(argv, dev)
    try:
        wanted = ipaddress.ip_interface(cidr)
    except ValueError:
        return failed(argv, 1, f'Error: any valid prefix is expected rather than "{cidr}".\n')
    explicit = "/" in cidr
    same = [
        a
        for a in iface.addresses
        if ipaddress.ip_interface(a.cidr) == wanted
        or (not explicit and verb == "del" and ipaddress.ip_interface(a.cidr).ip == wanted.ip)
    ]
    if verb == "add":
        if same:
            return failed(argv, RTNETLINK, "RTNETLINK answers: File exists\n")
        iface.addresses.append(SimAddress(cidr=str(wanted), permanent=False))
        return ok(argv)
    if not same:
        return failed(argv, RTNETLINK, "RTNETLINK answers: Cannot assign requested address\n")
    iface.addresses.remove(same[0])
    warning = (
        ""
        if explicit
        else (
            "Warning: Executing wildcard deletion to stay compatible with old scripts.\n"
            f"         Explicitly specify the prefix length ({wanted.ip}/{wanted.network.prefixlen})"
            " to avoid this warning.\n"
            "         This special behaviour is likely to disappear in further releases,\n"
            "         fix your scripts!\n"
        )
    )
    return ok(argv, stderr=warning)


def _show_to(cluster: Cluster, node: SimNode, argv: tuple[str, ...]) -> CommandResult:
    iface = node.interface(argv[5])
    if iface is None:
        return _no_device(argv, argv[5], show=True)
    return ok(argv, reports.ip_oneline(iface, argv[7]))


def _link_set(cluster: Cluster, node: SimNode, argv: tuple[str, ...]) -> CommandResult:
    iface = node.interface(argv[3])
    if iface is None:
        return _no_device(argv, argv[3])
    iface.up = argv[4] == "up"
    drbd.settle(cluster)  # an interface taken down can break DRBD's link
    return ok(argv)


def ip(cluster: Cluster, node: SimNode, argv: tuple[str, ...], timeout: float) -> CommandResult:
    if argv == IP_JSON:
        return ok(argv, reports.ip_addr_json(node, carriers(cluster, node)))
    if len(argv) == 8 and argv[1:5] == ("-o", "addr", "show", "dev") and argv[6] == "to":
        return _show_to(cluster, node, argv)
    if len(argv) == 6 and argv[1] == "addr" and argv[2] in ("add", "del") and argv[4] == "dev":
        return _addr_change(cluster, node, argv)
    if len(argv) == 5 and argv[1:3] == ("link", "set") and argv[4] in ("up", "down"):
        return _link_set(cluster, node, argv)
    return unsupported(argv, 255)


def _routed(cluster: Cluster, node: SimNode, wanted: IPAddress) -> bool:
    """A working link leads to `wanted`: it is on the peer's end of the link, or in the subnet of
    this node's end (a guest bridged there)."""
    peer = cluster.peer(node)
    for link in cluster.links_between(node):
        mine, theirs = node.interface(link.interfaces[node.name]), peer.interface(link.interfaces[peer.name])
        assert mine is not None and theirs is not None  # links_between checked them
        if any(ipaddress.ip_interface(a.cidr).ip == wanted for a in theirs.addresses):
            return True
        if any(wanted in ipaddress.ip_interface(a.cidr).network for a in mine.addresses):
            return True
    return False


def _answers(holder: SimNode, wanted: IPAddress) -> tuple[SimNode, SimDomain | None] | None:
    for iface in holder.interfaces:
        if iface.up and any(ipaddress.ip_interface(a.cidr).ip == wanted for a in iface.addresses):
            return holder, None
    for domain in holder.xen.domains:
        if any(ipaddress.ip_address(i) == wanted for i in domain.ips):
            return holder, domain
    return None


def locate(cluster: Cluster, node: SimNode, address: str) -> tuple[SimNode, SimDomain | None] | None:
    """Who answers on `address` as seen from `node`: the node that has it (and the domain, when
    it is a domain's own address), or None when nothing reachable has it."""
    wanted = ipaddress.ip_address(address)
    found = _answers(node, wanted) if node.powered else None
    if found is None and _routed(cluster, node, wanted):
        found = _answers(cluster.peer(node), wanted)
    return found


def ping(cluster: Cluster, node: SimNode, argv: tuple[str, ...], timeout: float) -> CommandResult:
    if len(argv) != 6 or argv[1:5] != ("-c", "1", "-W", "1"):
        return unsupported(argv, 2)
    address = argv[5]
    head = f"PING {address} ({address}) 56(84) bytes of data.\n"
    stats = f"\n--- {address} ping statistics ---\n"
    if locate(cluster, node, address) is not None:
        return ok(
            argv,
            f"{head}64 bytes from {address}: icmp_seq=1 ttl=64 time=0.045 ms\n{stats}"
            "1 packets transmitted, 1 received, 0% packet loss, time 0ms\n"
            "rtt min/avg/max/mdev = 0.045/0.045/0.045/0.000 ms\n",
        )
    cluster.tick(1.0)  # -W 1: it waited a second for the reply
    return failed(
        argv, 1, stdout=f"{head}{stats}1 packets transmitted, 0 received, 100% packet loss, time 0ms\n\n"
    )


def tcp_open(cluster: Cluster, node: SimNode, address: str, port: int) -> bool:
    """Something listens there: a domain that owns the address, or any domain on the node that has it."""
    found = locate(cluster, node, address)
    if found is None:
        return False
    holder, domain = found
    return domain is not None or bool(holder.xen.domains)
