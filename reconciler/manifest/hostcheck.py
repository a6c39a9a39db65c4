"""Rules about what the manifests would do to a node's disks, directories and subnets.

Each would be planned without complaint and fail, or do harm, on the node: two `vgcreate` on one
disk, a filesystem mounted over the agent's own state, an address that is a subnet's broadcast.
"""

from collections.abc import Iterator, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from pathlib import PurePosixPath

from reconciler.manifest.application import ApplicationDocument
from reconciler.manifest.claims import Claim, check_unique
from reconciler.manifest.cluster import ClusterDocument
from reconciler.manifest.diagnostics import Diagnostic
from reconciler.manifest.yamlsource import PathElement, SourceDocument

PV_PATH: tuple[PathElement, ...] = ("spec", "storage", "volumeGroup", "physicalVolumes")


def _pv_claims(source: SourceDocument, doc: ApplicationDocument, node: str) -> Iterator[Claim]:
    for j, pv in enumerate(doc.spec.storage.volume_group.physical_volumes[node]):
        yield Claim(pv, source, (*PV_PATH, node, j))


def check_physical_volumes(source: SourceDocument, doc: ApplicationDocument) -> Iterator[Diagnostic]:
    """A physical volume is listed once per node."""
    for node in doc.spec.storage.volume_group.physical_volumes:
        yield from check_unique(_pv_claims(source, doc, node), "duplicate-pv", f"physical volume of {node}")


def check_physical_volumes_across(
    apps: Sequence[tuple[SourceDocument, ApplicationDocument]],
) -> Iterator[Diagnostic]:
    """A disk of a node belongs to one volume group: two would each `vgcreate` it.

    Two applications naming the same group are reported as `duplicate-vg` (sharing a group is not
    supported yet), so only a disk claimed by two *different* groups is reported here.
    """
    first: dict[tuple[str, str], tuple[str, Claim]] = {}
    for source, doc in apps:
        group = doc.spec.storage.volume_group
        for node in group.physical_volumes:
            for claim in _pv_claims(source, doc, node):
                earlier = first.setdefault((node, claim.value), (group.name, claim))
                if earlier[0] != group.name:
                    yield Diagnostic(
                        position=claim.position,
                        code="pv-in-two-vgs",
                        message=f"{claim.value} of node {node!r} is already a physical volume of "
                        f"volume group {earlier[0]!r}; a disk belongs to one volume group",
                        hint=f"first claimed at {earlier[1].position}",
                    )


def reserved_address(address: IPv4Address | IPv6Address, subnet: IPv4Network | IPv6Network) -> str | None:
    """Why `address` cannot be a host's address in `subnet`: its network or broadcast address."""
    if address not in subnet:
        return None
    if isinstance(subnet, IPv4Network) and subnet.prefixlen < 31:
        if address == subnet.network_address:
            return f"{address} is the network address of {subnet}, not a host's"
        if address == subnet.broadcast_address:
            return f"{address} is the broadcast address of {subnet}, not a host's"
    if isinstance(subnet, IPv6Network) and subnet.prefixlen < 127 and address == subnet.network_address:
        return f"{address} is the subnet-router anycast address of {subnet}, not a host's"
    return None


def check_reserved(
    source: SourceDocument,
    path: tuple[PathElement, ...],
    address: IPv4Address | IPv6Address,
    subnet: IPv4Network | IPv6Network,
) -> Iterator[Diagnostic]:
    why = reserved_address(address, subnet)
    if why is not None:
        yield Diagnostic(position=source.locate(path), code="reserved-address", message=why)


def check_mounts_against_state_dir(
    apps: Sequence[tuple[SourceDocument, ApplicationDocument]],
    cluster: tuple[SourceDocument, ClusterDocument] | None,
) -> Iterator[Diagnostic]:
    """No filesystem on, inside or above the state directory: the agent's leases and journal live
    there, on the node's own disk, and must stay visible whichever node runs what."""
    if cluster is None:
        return
    state_source, state_doc = cluster
    state = PurePosixPath(state_doc.spec.state_dir)
    where = state_source.locate(("spec", "stateDir"))
    for source, doc in apps:
        for i, lv in enumerate(doc.spec.storage.logical_volumes):
            if lv.filesystem is None:
                continue
            point = PurePosixPath(lv.filesystem.mount_point)
            if point == state or state in point.parents or point in state.parents:
                path = ("spec", "storage", "logicalVolumes", i, "filesystem", "mountPoint")
                yield Diagnostic(
                    position=source.locate(path),
                    code="mount-on-state-dir",
                    message=f"mount point {str(point)!r} would hide or hold the cluster's state directory "
                    f"{str(state)!r}",
                    hint=f"stateDir of the cluster, see {where}; mount it elsewhere",
                )
