"""The diff of the node itself: its own address on every cluster network, on the declared
interface, up. Without them no heartbeat and no replication runs, whatever the applications show."""

from collections.abc import Iterator

from reconciler.core import refs
from reconciler.core.desired import DesiredNode
from reconciler.core.drift import Drift, DriftCode, Severity
from reconciler.observe.state import Observed

NODE = "-"  # drift of the node, not of an application


def node_drift(desired: DesiredNode, observed: Observed) -> Iterator[Drift]:
    if observed.interfaces is None:
        return  # not observed: the applications' records already say so
    for link in desired.links:
        iface = observed.interface(link.interface)
        if iface is None or not iface.admin_up:
            yield Drift(
                code=DriftCode.NETWORK_DOWN,
                severity=Severity.ERROR,
                app=NODE,
                resource=refs.link(link.interface),
                field="state",
                desired="UP",
                observed="absent" if iface is None else "DOWN",
                declared_at=link.declared_at,
                detail=f"network {link.network!r} of node {desired.node}",
            )
        elif not any(a.ip.ip == link.address for a in iface.addresses):
            yield Drift(
                code=DriftCode.IP_MISSING,
                severity=Severity.ERROR,
                app=NODE,
                resource=refs.ip(link.cidr),
                field=link.interface,
                desired="present",
                observed="absent",
                declared_at=link.declared_at,
                detail=f"node {desired.node}'s own address on network {link.network!r}",
            )
