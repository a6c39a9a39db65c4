"""The simulated cluster's driver: the pass (`reconciler.core.reconcile`) on each node in turn.

Used by `reconciler lab simulate` to try manifests without any host, and by the tests. Each node
runs exactly the pass a real node runs, against `SimHost`; the driver only chooses whose turn it
is and stops when every powered node has converged (or is refused).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from reconciler.core.placement import StaticPlacement
from reconciler.core.plan.model import Revision
from reconciler.core.reconcile import PassContext, PassOptions, PassResult, PassStatus, reconcile
from reconciler.execute import ExecutionSettings, NullJournal
from reconciler.lab.sim.build import lab_cluster
from reconciler.lab.sim.commands import SimCrashed
from reconciler.lab.sim.host import SimHost
from reconciler.lab.sim.model import GIB
from reconciler.lab.sim.state import Cluster
from reconciler.manifest import ManifestSet

REVISION = Revision(content_hash="simulated")
# Virtual time: retries and polls cost nothing real, a resync still takes its simulated minutes.
FAST = ExecutionSettings(backoff_initial=0, backoff_max=0, poll_interval=5, verify_grace=5)
DISK_SIZE = 64 * GIB
OK = frozenset({PassStatus.CONVERGED, PassStatus.REQUEUE})


@dataclass(frozen=True)
class RoundStep:
    node: str
    result: PassResult | None  # None: the node crashed during the pass
    crashed: bool = False

    @property
    def planned(self) -> int:
        return 1 if self.result is None else len(self.result.plan.pending())


def simulated_cluster(
    manifests: ManifestSet, drbd_versions: Mapping[str, str] | None = None, toolstack: str | None = None
) -> Cluster:
    """Two nodes as the Cluster manifest declares them, each with every physical volume the
    applications name and the Xen toolstack they use (unless `toolstack` says which), so that the
    manifests can be tried as they are; each node's DRBD from `drbd_versions`, else 9."""
    stacks = [a.document.spec.domain.toolstack.value for a in manifests.applications]
    toolstack = toolstack or next((t for t in stacks if t in ("xm", "xl")), "xl")
    disks = {
        pv: DISK_SIZE
        for app in manifests.applications
        for pvs in app.document.spec.storage.volume_group.physical_volumes.values()
        for pv in pvs
    }
    return lab_cluster(
        manifests.cluster.document, disks=disks, toolstack=toolstack, drbd_versions=drbd_versions
    )


def sim_context(
    cluster: Cluster,
    manifests: ManifestSet,
    node: str,
    active: Mapping[str, str],
    *,
    act: bool,
    destructive: bool,
) -> PassContext:
    return PassContext(
        manifests=manifests,
        revision=REVISION,
        node=node,
        host=SimHost(cluster, node),
        placement=StaticPlacement(active, source="simulator"),
        journal=NullJournal(),
        options=PassOptions(allow_destructive=destructive, act=act, settings=FAST),
    )


def plan_on(
    cluster: Cluster, manifests: ManifestSet, node: str, active: Mapping[str, str], *, destructive: bool
) -> PassResult:
    return reconcile(sim_context(cluster, manifests, node, active, act=False, destructive=destructive))


def apply_once(
    cluster: Cluster, manifests: ManifestSet, node: str, active: Mapping[str, str], *, destructive: bool
) -> RoundStep:
    try:
        result = reconcile(sim_context(cluster, manifests, node, active, act=True, destructive=destructive))
    except SimCrashed:
        return RoundStep(node, None, crashed=True)  # the agent died mid-plan: the next round resumes
    return RoundStep(node, result)


def converge(
    cluster: Cluster,
    manifests: ManifestSet,
    active: Mapping[str, str],
    *,
    destructive: bool = True,
    rounds: int = 8,
    seen: Callable[[int, RoundStep], None] | None = None,
) -> bool:
    """Passes on every powered node until each has settled. True when all converged, False when
    a refusal, a failure or the round limit stops it first."""
    for number in range(1, rounds + 1):
        steps = [
            apply_once(cluster, manifests, node.name, active, destructive=destructive)
            for node in cluster.nodes
            if node.powered
        ]
        for step in steps:
            if seen is not None:
                seen(number, step)
        if all(s.result is not None and s.result.report is None for s in steps):
            # Drift left that no pass here can close (REQUEUE) waits on the other node: settled.
            return all(s.result is not None and s.result.status in OK for s in steps)
    return False
