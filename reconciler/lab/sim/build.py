"""Ready-made lab clusters: two booted nodes with loopback, one interface per network, a root
filesystem, spare disks, DRBD installed (9: not loaded; 8.x: loaded at boot) and a Xen toolstack.

`lab_cluster` takes its networks from a `Cluster` manifest (node addresses, subnets, interface
names), so the resource files the reconciler renders find their addresses on the lab's nodes;
`simple_cluster` makes one up for tests that have no manifest.
"""

import ipaddress
from collections.abc import Mapping

from reconciler.lab.sim.model import GIB, Disk, SimAddress, SimDrbd, SimInterface, SimMount, SimNode, Xen
from reconciler.lab.sim.state import Cluster, SimLink
from reconciler.manifest.cluster import ClusterDocument

DEFAULT_DISKS: Mapping[str, int] = {"/dev/sdb": 8 * GIB, "/dev/sdc": 4 * GIB}


def base_mounts() -> list[SimMount]:
    return [
        SimMount(
            mount_id=21,
            parent_id=1,
            mount_point="/",
            source="/dev/vda1",
            fstype="ext4",
            major=254,
            minor=1,
            super_options=["rw", "errors=remount-ro"],
            base=True,
        ),
        SimMount(
            mount_id=22,
            parent_id=21,
            mount_point="/proc",
            source="proc",
            fstype="proc",
            options=["rw", "nosuid", "nodev", "noexec", "relatime"],
            base=True,
        ),
        SimMount(
            mount_id=23,
            parent_id=21,
            mount_point="/sys",
            source="sysfs",
            fstype="sysfs",
            options=["rw", "nosuid", "nodev", "noexec", "relatime"],
            base=True,
        ),
    ]


def _mac(node_index: int, if_index: int) -> str:
    return f"52:54:00:{node_index:02x}:{if_index:02x}:01"


def lab_node(
    name: str,
    index: int,
    addresses: Mapping[str, str],
    disks: Mapping[str, int] = DEFAULT_DISKS,
    drbd_version: str = "9.2.8",
    toolstack: str | None = "xl",
) -> SimNode:
    """A node; `addresses` maps each interface name to its address with prefix ("eth0": "10.0.0.1/24")."""
    nine = int(drbd_version.split(".", 1)[0]) >= 9
    interfaces = [
        SimInterface(
            name="lo",
            index=1,
            loopback=True,
            mtu=65536,
            addresses=[SimAddress(cidr="127.0.0.1/8"), SimAddress(cidr="::1/128")],
        )
    ]
    for i, (ifname, cidr) in enumerate(addresses.items(), start=2):
        broadcast = str(ipaddress.ip_interface(cidr).network.broadcast_address) if ":" not in cidr else None
        interfaces.append(
            SimInterface(
                name=ifname,
                index=i,
                mac=_mac(index, i),
                addresses=[SimAddress(cidr=cidr, broadcast=broadcast)],
            )
        )
    return SimNode(
        name=name,
        disks=[Disk(path=p, size=s, minor=16 * (i + 1)) for i, (p, s) in enumerate(disks.items())],
        # DRBD 8's init scripts load the module at boot; DRBD 9's drbdsetup loads it on first use.
        drbd=SimDrbd(version=drbd_version, load_at_boot=not nine, loaded=not nine),
        interfaces=interfaces,
        mounts=base_mounts(),
        xen=Xen(toolstack=toolstack),
    )


def lab_cluster(
    document: ClusterDocument,
    disks: Mapping[str, int] = DEFAULT_DISKS,
    drbd_version: str = "9.2.8",
    toolstack: str | None = "xl",
    drbd_versions: Mapping[str, str] | None = None,
) -> Cluster:
    """The two nodes and networks a Cluster manifest declares; `drbd_versions` gives a node
    another DRBD than `drbd_version` (a pair in the middle of a rolling upgrade)."""
    spec = document.spec
    nodes = []
    for index, node in enumerate(spec.nodes, start=1):
        addresses = {
            net.interfaces[node.name]: f"{node.addresses[net.name]}/{net.subnet.prefixlen}"
            for net in spec.networks
            if net.name in node.addresses and node.name in net.interfaces
        }
        version = (drbd_versions or {}).get(node.name, drbd_version)
        nodes.append(lab_node(node.name, index, addresses, disks, version, toolstack))
    links = [SimLink(name=net.name, interfaces=dict(net.interfaces)) for net in spec.networks]
    return Cluster(nodes=nodes, links=links)


def simple_cluster(
    names: tuple[str, str] = ("alpha", "beta"),
    disks: Mapping[str, int] = DEFAULT_DISKS,
    drbd_version: str = "9.2.8",
    toolstack: str | None = "xl",
) -> Cluster:
    """Two nodes on a public (eth0, 192.168.1.0/24) and a private (eth1, 192.168.100.0/24) network."""
    nodes = [
        lab_node(
            name,
            i,
            {"eth0": f"192.168.1.{10 + i}/24", "eth1": f"192.168.100.{10 + i}/24"},
            disks,
            drbd_version,
            toolstack,
        )
        for i, name in enumerate(names, start=1)
    ]
    links = [
        SimLink(name="public", interfaces=dict.fromkeys(names, "eth0")),
        SimLink(name="private", interfaces=dict.fromkeys(names, "eth1")),
    ]
    return Cluster(nodes=nodes, links=links)
