"""Checks across documents: references resolve, and nothing is claimed twice.

Each document is valid on its own by now; these rules need the whole set (a DRBD minor is only a
duplicate next to another application's). A duplicate is reported at its second declaration,
with the first one named in the hint, so the operator sees both places.
"""

from collections.abc import Iterator, Sequence
from pathlib import PurePosixPath
from typing import Any

from reconciler.manifest.application import LEAST_CPU_LOAD, ApplicationDocument
from reconciler.manifest.claims import Claim, check_known, check_unique
from reconciler.manifest.cluster import ClusterDocument, Network
from reconciler.manifest.diagnostics import Diagnostic
from reconciler.manifest.hostcheck import (
    check_mounts_against_state_dir,
    check_physical_volumes,
    check_physical_volumes_across,
    check_reserved,
)
from reconciler.manifest.yamlsource import PathElement, SourceDocument


def check_cluster(source: SourceDocument, doc: ClusterDocument) -> Iterator[Diagnostic]:
    spec = doc.spec
    networks = [n.name for n in spec.networks]
    base: tuple[PathElement, ...] = ("spec",)
    yield from check_unique(
        (Claim(n.name, source, (*base, "nodes", i, "name")) for i, n in enumerate(spec.nodes)),
        "duplicate-name",
        "node",
    )
    yield from check_unique(
        (Claim(n.name, source, (*base, "networks", i, "name")) for i, n in enumerate(spec.networks)),
        "duplicate-name",
        "network",
    )
    for i, node in enumerate(spec.nodes):
        path = (*base, "nodes", i, "addresses")
        yield from check_known(
            (Claim(net, source, (*path, net)) for net in node.addresses),
            networks,
            "unknown-network",
            "network",
        )
        for net in networks:
            if net not in node.addresses:
                yield _missing(
                    source, path, f"node {node.name!r} has no address on network {net!r}", "missing-address"
                )
    yield from _check_networks(source, doc)
    if not any(n.heartbeat for n in spec.networks):
        yield _missing(source, (*base, "networks"), "no network carries heartbeats", "no-heartbeat-network")


def _check_networks(source: SourceDocument, doc: ClusterDocument) -> Iterator[Diagnostic]:
    """Each network has an interface on every node, and the nodes' addresses lie in its subnet."""
    spec = doc.spec
    nodes = [n.name for n in spec.nodes]
    base: tuple[PathElement, ...] = ("spec",)
    for i, network in enumerate(spec.networks):
        path = (*base, "networks", i, "interfaces")
        yield from check_known(
            (Claim(name, source, (*path, name)) for name in network.interfaces), nodes, "unknown-node", "node"
        )
        for name in nodes:
            if name not in network.interfaces:
                yield _missing(
                    source,
                    path,
                    f"network {network.name!r} has no interface on node {name!r}",
                    "missing-interface",
                )
        for j, node_spec in enumerate(spec.nodes):
            address = node_spec.addresses.get(network.name)
            where = (*base, "nodes", j, "addresses", network.name)
            if address is not None and address not in network.subnet:
                yield Diagnostic(
                    position=source.locate(where),
                    code="address-outside-network",
                    message=f"{address} is not in network {network.name!r} ({network.subnet})",
                )
            elif address is not None:
                yield from check_reserved(source, where, address, network.subnet)


def _missing(source: SourceDocument, path: tuple[PathElement, ...], message: str, code: str) -> Diagnostic:
    return Diagnostic(position=source.locate(path, key=True), code=code, message=message)


def check_application(
    source: SourceDocument, doc: ApplicationDocument, cluster: ClusterDocument | None
) -> Iterator[Diagnostic]:
    spec = doc.spec
    base: tuple[PathElement, ...] = ("spec",)
    yield from check_unique(_lv_claims(source, doc, "name"), "duplicate-lv", "logical volume")
    yield from check_unique(
        (Claim(n.name, source, (*base, "networks", i, "name")) for i, n in enumerate(spec.networks)),
        "duplicate-name",
        "network",
    )
    yield from check_unique(
        (Claim(m.name, source, (*base, "monitors", i, "name")) for i, m in enumerate(spec.monitors)),
        "duplicate-name",
        "monitor",
    )
    yield from check_physical_volumes(source, doc)
    if cluster is not None:
        yield from _application_references(source, doc, cluster)


def _application_references(
    source: SourceDocument, doc: ApplicationDocument, cluster: ClusterDocument
) -> Iterator[Diagnostic]:
    spec = doc.spec
    nodes = [n.name for n in cluster.spec.nodes]
    networks = {n.name: n for n in cluster.spec.networks}
    base: tuple[PathElement, ...] = ("spec",)
    if spec.placement.preferred_node != LEAST_CPU_LOAD:
        claim = Claim(spec.placement.preferred_node, source, (*base, "placement", "preferredNode"))
        yield from check_known([claim], nodes, "unknown-node", "node")
    pv_path = (*base, "storage", "volumeGroup", "physicalVolumes")
    pvs = spec.storage.volume_group.physical_volumes
    yield from check_known((Claim(n, source, (*pv_path, n)) for n in pvs), nodes, "unknown-node", "node")
    for node in nodes:
        if node not in pvs:
            yield _missing(source, pv_path, f"no physical volumes given for node {node!r}", "missing-node")
    overrides = (*base, "domain", "nodes")
    yield from check_known(
        (Claim(n, source, (*overrides, n)) for n in spec.domain.nodes), nodes, "unknown-node", "node"
    )
    yield from check_known(
        (Claim(n.name, source, (*base, "networks", i, "name")) for i, n in enumerate(spec.networks)),
        list(networks),
        "unknown-network",
        "network",
    )
    drbd_nets = [c for c in _lv_claims(source, doc, "drbd", "network") if c.value is not None]
    yield from check_known(drbd_nets, list(networks), "unknown-network", "network")
    yield from _application_addresses(source, doc, networks)


def _application_addresses(
    source: SourceDocument, doc: ApplicationDocument, networks: dict[str, Network]
) -> Iterator[Diagnostic]:
    """Each address lies in its network's subnet, and is a host's address there."""
    for i, net in enumerate(doc.spec.networks):
        cluster_net = networks.get(net.name)
        if cluster_net is None:
            continue
        for j, address in enumerate(net.addresses):
            where: tuple[PathElement, ...] = ("spec", "networks", i, "addresses", j)
            if address not in cluster_net.subnet:
                yield Diagnostic(
                    position=source.locate(where),
                    code="address-outside-network",
                    message=f"{address} is not in network {net.name!r} ({cluster_net.subnet})",
                )
            yield from check_reserved(source, where, address, cluster_net.subnet)


def _lv_claims(source: SourceDocument, doc: ApplicationDocument, *attrs: str) -> Iterator[Claim]:
    """A field of every logical volume (`name`, or `drbd`, `minor`...), with its YAML path."""
    for i, lv in enumerate(doc.spec.storage.logical_volumes):
        value: Any = lv
        path: tuple[PathElement, ...] = ("spec", "storage", "logicalVolumes", i)
        for attr in attrs:
            value = getattr(value, attr) if value is not None else None
            path = (*path, _camel(attr))
        yield Claim(value, source, path)


def _camel(attr: str) -> str:
    head, *rest = attr.split("_")
    return head + "".join(w.title() for w in rest)


def check_across(
    apps: Sequence[tuple[SourceDocument, ApplicationDocument]],
    cluster: tuple[SourceDocument, ClusterDocument] | None,
) -> Iterator[Diagnostic]:
    yield from check_unique(
        (Claim(doc.metadata.name, src, ("metadata", "name")) for src, doc in apps),
        "duplicate-name",
        "application",
    )
    yield from check_unique(
        (
            Claim(d.spec.storage.volume_group.name, s, ("spec", "storage", "volumeGroup", "name"))
            for s, d in apps
        ),
        "duplicate-vg",
        "volume group",
        "; applications cannot share a volume group (yet): give each its own, on its own disks",
    )
    yield from check_unique(
        (Claim(d.spec.domain.name, s, ("spec", "domain", "name")) for s, d in apps),
        "duplicate-domain",
        "domain",
    )
    for field, code, what in (
        (("drbd", "minor"), "duplicate-minor", "DRBD minor"),
        (("drbd", "resource"), "duplicate-resource", "DRBD resource"),
    ):
        yield from check_unique((c for s, d in apps for c in _lv_claims(s, d, *field)), code, what)
    yield from check_unique(_port_claims(apps, cluster), "duplicate-port", "TCP port")
    yield from check_unique(_ip_claims(apps, cluster), "duplicate-ip", "IP address")
    yield from _check_mounts(apps)
    yield from check_mounts_against_state_dir(apps, cluster)
    yield from check_physical_volumes_across(apps)


def _port_claims(
    apps: Sequence[tuple[SourceDocument, ApplicationDocument]],
    cluster: tuple[SourceDocument, ClusterDocument] | None,
) -> Iterator[Claim]:
    if cluster is not None:
        src, doc = cluster
        yield Claim(doc.spec.arbitration.port, src, ("spec", "arbitration", "port"))
    for s, d in apps:
        yield from _lv_claims(s, d, "drbd", "port")


def _ip_claims(
    apps: Sequence[tuple[SourceDocument, ApplicationDocument]],
    cluster: tuple[SourceDocument, ClusterDocument] | None,
) -> Iterator[Claim]:
    if cluster is not None:
        src, doc = cluster
        for i, node in enumerate(doc.spec.nodes):
            for net, address in node.addresses.items():
                yield Claim(address, src, ("spec", "nodes", i, "addresses", net))
    for s, d in apps:
        for i, app_net in enumerate(d.spec.networks):
            for j, address in enumerate(app_net.addresses):
                yield Claim(address, s, ("spec", "networks", i, "addresses", j))


def _check_mounts(apps: Sequence[tuple[SourceDocument, ApplicationDocument]]) -> Iterator[Diagnostic]:
    mounts = [
        Claim(
            lv.filesystem.mount_point, s, ("spec", "storage", "logicalVolumes", i, "filesystem", "mountPoint")
        )
        for s, d in apps
        for i, lv in enumerate(d.spec.storage.logical_volumes)
        if lv.filesystem is not None
    ]
    yield from check_unique(mounts, "duplicate-mount", "mount point")
    by_point: dict[str, list[Claim]] = {}
    for claim in mounts:
        by_point.setdefault(claim.value, []).append(claim)
    for inner in mounts:
        for parent in PurePosixPath(inner.value).parents:
            for outer in by_point.get(str(parent), ()):
                # A mount inside another application's mount would be hidden, or block its unmount.
                if inner.source is not outer.source:
                    yield Diagnostic(
                        position=inner.position,
                        code="nested-mount",
                        message=f"mount point {inner.value!r} lies inside {outer.value!r} of another app",
                        hint=f"{outer.value!r} is declared at {outer.position}",
                    )
