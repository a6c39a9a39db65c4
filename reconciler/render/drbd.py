"""DRBD resource files (/etc/drbd.d/<resource>.res), one per logical volume, in 8.3, 8.4 or 9 syntax.

Why the output cannot break out of DRBD's syntax: every word written comes from a validated
manifest type. Names (`Name`, `LvName`) are `[A-Za-z0-9][A-Za-z0-9_.+-]*`, node names are host
name labels, addresses are `ipaddress` objects and numbers are ints with checked ranges. None of
them can hold a quote, a backslash, `;`, `{`, `}`, `#`, white space or a newline. Still, names and
paths are written as double-quoted strings, because drbdadm's scanner (drbdadm_scanner.fl) reads
an unquoted word only as `[a-zA-Z0-9/._-]{1,128}` (no `+`), and reads `net`, `disk`, `on`, `10M`
or `1.2.3.4` as keywords, numbers and addresses rather than as names. `_quoted` and `_address`
re-check each value at run time, so a future loosening of a manifest type raises `RenderError`
here instead of producing a file that says something else than the manifest.
"""

import re
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address
from pathlib import PurePosixPath

from reconciler.manifest.application import ApplicationDocument
from reconciler.manifest.cluster import ClusterDocument, Network, Node
from reconciler.manifest.storage import DRBD_MAX_MINOR, LogicalVolume
from reconciler.render.errors import RenderError

DRBD_CONFIG_DIR = PurePosixPath("/etc/drbd.d")
KIB = 1024
# drbd_limits.h, the same in 8.4 and 9: resync-rate is in KiB/s, from 1 to 4 GiB/s.
RESYNC_RATE_MIN_KIB = 1
RESYNC_RATE_MAX_KIB = 4 << 20
_DQSTRING_MAX = 255  # drbdadm_scanner.fl: DQSTRING holds at most 255 characters
_SAFE_WORD = re.compile(r"[A-Za-z0-9_.+/-]+")
_IP_TEXT = re.compile(r"[0-9A-Fa-f:.]+")
_INDENT = "    "


class DrbdFlavour(StrEnum):
    """The configuration syntax: what the nodes' drbdadm (chosen by the kernel module) reads."""

    V83 = "8.3"  # also what DRBD 8.0 to 8.3 read: `syncer { rate }`, protocol at resource level
    V84 = "8.4"
    V9 = "9"


def resource_file(lv: LogicalVolume) -> PurePosixPath:
    return DRBD_CONFIG_DIR / f"{lv.drbd.resource}.res"


def replication_network(cluster: ClusterDocument, lv: LogicalVolume) -> Network:
    """The network that carries the volume's replication: its own, or the first heartbeat one."""
    networks = cluster.spec.networks
    if lv.drbd.network is not None:
        for network in networks:
            if network.name == lv.drbd.network:
                return network
        raise RenderError(f"DRBD network {lv.drbd.network!r} of {lv.name!r} is not a cluster network")
    for network in networks:
        if network.heartbeat:
            return network
    raise RenderError("the cluster has no heartbeat network to carry DRBD replication")


def render_drbd_resource(
    cluster: ClusterDocument, app: ApplicationDocument, lv: LogicalVolume, flavour: DrbdFlavour
) -> str:
    """The whole file for `lv`'s resource; the same input always gives the same bytes."""
    network = replication_network(cluster, lv)
    nodes = cluster.spec.nodes
    lines = [*_header(cluster, app, lv, flavour), f"resource {_quoted(lv.drbd.resource)} {{"]
    if flavour is DrbdFlavour.V9:
        # DRBD 9 promotes a Secondary by itself when its device is opened (auto-promote yes):
        # a stray mount or `xl create` on the standby would then make it Primary. Only the agent
        # decides where an application is Primary.
        lines += _section("options", ["auto-promote no;"])
    lines += _replication(lv, flavour)
    for node_id, node in enumerate(nodes):
        lines += _host(app, lv, node, network, node_id if flavour is DrbdFlavour.V9 else None)
    if flavour is DrbdFlavour.V9:
        lines += _section("connection-mesh", [f"hosts {' '.join(_quoted(n.name) for n in nodes)};"])
    lines.append("}")
    return "\n".join(lines) + "\n"


def _replication(lv: LogicalVolume, flavour: DrbdFlavour) -> list[str]:
    """Protocol and resync rate, where each version takes them."""
    rate = _drbd_rate(lv.drbd.sync_rate)
    if flavour is DrbdFlavour.V83:
        # 8.3: protocol is a resource option and the rate a `syncer` one. Its dynamic resync
        # controller (8.3.9 on) is off unless c-plan-ahead is set, and 8.3.1 knows no such
        # option: the fixed rate needs nothing more.
        return [f"{_INDENT}protocol {lv.drbd.protocol};", *_section("syncer", [f"rate {rate};"])]
    # resync-rate is only the starting point of the dynamic resync controller, which is on by
    # default (c-plan-ahead 20) and may run up to c-max-rate; c-plan-ahead 0 makes it the fixed
    # rate the manifest declares, as linuxha.net's syncrate was.
    return [
        *_section("net", [f"protocol {lv.drbd.protocol};"]),
        *_section("disk", ["c-plan-ahead 0;", f"resync-rate {rate};"]),
    ]


def _header(
    cluster: ClusterDocument, app: ApplicationDocument, lv: LogicalVolume, flavour: DrbdFlavour
) -> list[str]:
    vg = app.spec.storage.volume_group.name
    return [
        f"# {resource_file(lv)}: DRBD {flavour.value} resource of logical volume {vg}/{lv.name},",
        f'# generated by the reconciler from Application "{app.metadata.name}" '
        f'and Cluster "{cluster.metadata.name}".',
        "# Do not edit by hand: the reconciler rewrites this file from the manifests.",
    ]


def _section(keyword: str, body: list[str], indent: str = _INDENT) -> list[str]:
    return [f"{indent}{keyword} {{", *(f"{indent}{_INDENT}{line}" for line in body), f"{indent}}}"]


def _host(
    app: ApplicationDocument, lv: LogicalVolume, node: Node, network: Network, node_id: int | None
) -> list[str]:
    """One `on` section. node-id (DRBD 9 only) is the node's position in the Cluster document:
    DRBD 9 records it in the metadata, so the order of `nodes` must not change once created."""
    address = node.addresses.get(network.name)
    if address is None:
        raise RenderError(f"node {node.name!r} has no address on network {network.name!r}")
    disk = f"/dev/{app.spec.storage.volume_group.name}/{lv.name}"
    body = [] if node_id is None else [f"node-id   {_number(node_id, 0, 31)};"]
    body += [
        f"device    /dev/drbd{_number(lv.drbd.minor, 0, DRBD_MAX_MINOR)};",
        f"disk      {_quoted(disk)};",
        f"address   {_address(address, lv.drbd.port)};",
        "meta-disk internal;",
    ]
    return _section(f"on {_quoted(node.name)}", body)


def _quoted(value: str) -> str:
    """A name or path as a DRBD double-quoted string; only characters that need no escape."""
    if not (_SAFE_WORD.fullmatch(value) and len(value) <= _DQSTRING_MAX):
        raise RenderError(f"{value!r} cannot be written into a DRBD configuration file")
    return f'"{value}"'


def _number(value: int, low: int, high: int) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RenderError(f"{value!r} is not a number from {low} to {high}")
    return str(value)


def _address(address: IPv4Address | IPv6Address, port: int) -> str:
    """`a.b.c.d:port`, or DRBD's `ipv6 [addr]:port`."""
    if isinstance(address, IPv6Address) and address.scope_id is not None:
        # A zone (fe80::1%eth0) would bring free text into the file, and a replication link
        # needs a routable address anyway.
        raise RenderError(f"{address}: a DRBD address cannot carry an IPv6 zone")
    text = str(address)
    if not _IP_TEXT.fullmatch(text):
        raise RenderError(f"{text!r} is not an IP address DRBD can read")
    port_text = _number(port, 1, 65535)
    return f"ipv6 [{text}]:{port_text}" if address.version == 6 else f"{text}:{port_text}"


def _drbd_rate(rate: int) -> str:
    """Bytes per second as DRBD writes it (`10M`, `1536K`: KiB, MiB, GiB per second)."""
    kib, remainder = divmod(rate, KIB)
    if remainder or not RESYNC_RATE_MIN_KIB <= kib <= RESYNC_RATE_MAX_KIB:
        raise RenderError(
            f"resync rate {rate} B/s: DRBD takes a whole number of KiB/s from "
            f"{RESYNC_RATE_MIN_KIB}K/s to {RESYNC_RATE_MAX_KIB // 2**20}G/s"
        )
    for suffix, factor in (("G", 2**20), ("M", 2**10)):
        if kib % factor == 0:
            return f"{kib // factor}{suffix}"
    return f"{kib}K"
