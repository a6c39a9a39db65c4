"""The other observations: `xl list`/`xm list`, `ip -j addr show`, `ip -o addr show`, mountinfo,
and the host probe, each in its tool's own layout (see tests/data and tests/fixtures)."""

import ipaddress
import json
from typing import Any

from reconciler.lab.sim.model import SimAddress, SimInterface, SimMount, SimNode
from reconciler.observe.host import HostLoad

FOREVER = 4294967295
# The kernel's escapes in mountinfo paths (fs/proc_namespace.c: mangle(), " \t\n\\").
_MANGLE = str.maketrans({" ": "\\040", "\t": "\\011", "\n": "\\012", "\\": "\\134"})
# Options that are per mount (the 6th field); the others belong to the superblock (the last field).
_PER_MOUNT = {"nosuid", "nodev", "noexec", "noatime", "nodiratime", "relatime", "strictatime"}


def xen_list(node: SimNode) -> str:
    """`xl list` (and the later `xm list`, which prints the same columns)."""
    rows = [f"{'Name':<40} {'ID':>5} {'Mem':>5} {'VCPUs':>5} {'State':>10} {'Time(s)':>9}"]
    rows.append(
        f"{'Domain-0':<40} {0:>5} {node.xen.dom0_memory:>5} {node.xen.dom0_vcpus:>5} {'r-----':>10} "
        f"{1234.5:>8.1f}"
    )
    for d in sorted(node.xen.domains, key=lambda d: d.id):
        rows.append(
            f"{d.name:<40} {d.id:>5} {d.memory:>5} {d.vcpus:>5} {d.state.value:>10} {d.cpu_time:>8.1f}"
        )
    return "\n".join(rows) + "\n"


def _flags(iface: SimInterface, carrier: bool) -> tuple[list[str], str]:
    if iface.loopback:
        return ["LOOPBACK", "UP", "LOWER_UP"], "UNKNOWN"
    if not iface.up:
        return ["BROADCAST", "MULTICAST"], "DOWN"
    if not carrier:
        return ["NO-CARRIER", "BROADCAST", "MULTICAST", "UP"], "DOWN"
    return ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"], "UP"


def _secondary(iface: SimInterface, index: int) -> bool:
    """IPv4 only: an address in the subnet of an earlier address of the interface."""
    me = ipaddress.ip_interface(iface.addresses[index].cidr)
    return me.version == 4 and any(
        ipaddress.ip_interface(a.cidr).network == me.network for a in iface.addresses[:index]
    )


def _scope(address: SimAddress) -> str:
    ip = ipaddress.ip_interface(address.cidr).ip
    return "host" if ip.is_loopback else "link" if ip.is_link_local else "global"


def link_local(mac: str) -> str:
    """The EUI-64 fe80:: address the kernel gives an Ethernet interface."""
    octets = [int(x, 16) for x in mac.split(":")]
    octets[0] ^= 0x02
    eui = [*octets[:3], 0xFF, 0xFE, *octets[3:]]
    return str(ipaddress.IPv6Address(bytes([0xFE, 0x80, *([0] * 6), *eui])))


def _addr_info(iface: SimInterface, index: int) -> dict[str, Any]:
    address = iface.addresses[index]
    ip = ipaddress.ip_interface(address.cidr)
    info: dict[str, Any] = {
        "family": "inet" if ip.version == 4 else "inet6",
        "local": str(ip.ip),
        "prefixlen": ip.network.prefixlen,
    }
    if address.broadcast:
        info["broadcast"] = address.broadcast
    info["scope"] = _scope(address)
    if _secondary(iface, index):
        info["secondary"] = True
    if ip.version == 4:
        info["label"] = address.label or iface.name
    info["valid_life_time"] = info["preferred_life_time"] = FOREVER
    return info


def _v6_link_local(iface: SimInterface) -> dict[str, Any]:
    return {
        "family": "inet6",
        "local": link_local(iface.mac),
        "prefixlen": 64,
        "scope": "link",
        "valid_life_time": FOREVER,
        "preferred_life_time": FOREVER,
    }


def _interface_json(iface: SimInterface, carrier: bool) -> dict[str, Any]:
    flags, operstate = _flags(iface, carrier)
    infos = [_addr_info(iface, i) for i in range(len(iface.addresses))]
    v4 = [i for i in infos if i["family"] == "inet"]
    v6 = [i for i in infos if i["family"] == "inet6"]
    if iface.up and not iface.loopback:
        v6.append(_v6_link_local(iface))
    return {
        "ifindex": iface.index,
        "ifname": iface.name,
        "flags": flags,
        "mtu": 65536 if iface.loopback else iface.mtu,
        "qdisc": "noqueue" if iface.up else "noop",
        "operstate": operstate,
        "group": "default",
        "txqlen": 1000,
        "link_type": "loopback" if iface.loopback else "ether",
        "address": "00:00:00:00:00:00" if iface.loopback else iface.mac,
        "broadcast": "00:00:00:00:00:00" if iface.loopback else "ff:ff:ff:ff:ff:ff",
        "addr_info": v4 + v6,
    }


def ip_addr_json(node: SimNode, carrier: dict[str, bool]) -> str:
    """`ip -j addr show`: one line of compact JSON, as iproute2 prints it."""
    items = [
        _interface_json(i, carrier.get(i.name, True)) for i in sorted(node.interfaces, key=lambda i: i.index)
    ]
    return json.dumps(items, separators=(",", ":")) + "\n"


def ip_oneline(iface: SimInterface, network: str) -> str:
    """`ip -o addr show dev IF to PREFIX`: iproute2 lists every address of the family *inside*
    PREFIX (the prefix of the argument, not the address's own), one line each."""
    wanted = ipaddress.ip_network(network, strict=False)
    lines = []
    for index, address in enumerate(iface.addresses):
        ip = ipaddress.ip_interface(address.cidr)
        if ip.version != wanted.version or ip.ip not in wanted:
            continue
        family = "inet" if ip.version == 4 else "inet6"
        brd = f" brd {address.broadcast}" if address.broadcast else ""
        secondary = " secondary" if _secondary(iface, index) else ""
        label = f" {address.label or iface.name}" if ip.version == 4 else ""
        lines.append(
            f"{iface.index}: {iface.name}    {family} {address.cidr}{brd} scope {_scope(address)}"
            f"{secondary}{label}\\       valid_lft forever preferred_lft forever\n"
        )
    return "".join(lines)


def mangle(path: str) -> str:
    return path.translate(_MANGLE)


def _mount_line(m: SimMount) -> str:
    per_mount = [o for o in m.options if o in _PER_MOUNT]
    mode = "ro" if "ro" in m.options else "rw"
    if not any(o.endswith("atime") for o in per_mount):
        per_mount.append("relatime")
    superblock = [o for o in m.super_options if o not in ("rw", "ro")]
    superblock += [o for o in m.options if o not in _PER_MOUNT and o not in ("rw", "ro", "defaults")]
    head = f"{m.mount_id} {m.parent_id} {m.major}:{m.minor} / {mangle(m.mount_point)}"
    tail = f"{m.fstype} {mangle(m.source)} {','.join([mode, *superblock])}"
    return f"{head} {','.join([mode, *per_mount])} - {tail}\n"


def mountinfo(node: SimNode) -> str:
    return "".join(_mount_line(m) for m in node.mounts)


def host_load(node: SimNode) -> str:
    return HostLoad(node=node.name, **node.load.model_dump()).model_dump_json()
