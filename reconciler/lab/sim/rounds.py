"""Reconcile rounds on the simulated cluster: what `reconciler apply` does on each node, in turn.

The same observe -> diff -> plan -> execute code as on a real node, against `SimHost`: used by
`reconciler lab simulate` to try manifests without any host, and by the tests.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from reconciler.execute import ExecutionReport, NullJournal, Settings, execute
from reconciler.lab.sim.build import lab_cluster
from reconciler.lab.sim.commands import Crashed
from reconciler.lab.sim.host import SimHost
from reconciler.lab.sim.model import GIB
from reconciler.lab.sim.state import Cluster
from reconciler.manifest import ManifestSet
from reconciler.observe.node import observe_node
from reconciler.plan.model import Revision
from reconciler.plan.planner import Options
from reconciler.reconcile import Round, compute_round, probe_apps

REVISION = Revision(content_hash="simulated")
# Virtual time: retries and polls cost nothing real, a resync still takes its simulated minutes.
FAST = Settings(backoff_initial=0, backoff_max=0, poll_interval=5, verify_grace=5)
DISK_SIZE = 64 * GIB


@dataclass(frozen=True)
class Step:
    node: str
    round: Round
    report: ExecutionReport | None
    crashed: bool = False


def simulated_cluster(manifests: ManifestSet) -> Cluster:
    """Two nodes as the Cluster manifest declares them, each with every physical volume the
    applications name and the Xen toolstack they use, so that the manifests can be tried as they are."""
    stacks = [a.document.spec.domain.toolstack.value for a in manifests.applications]
    toolstack = next((t for t in stacks if t in ("xm", "xl")), "xl")
    disks = {
        pv: DISK_SIZE
        for app in manifests.applications
        for pvs in app.document.spec.storage.volume_group.physical_volumes.values()
        for pv in pvs
    }
    return lab_cluster(manifests.cluster.document, disks=disks, toolstack=toolstack)


def plan_on(
    cluster: Cluster, manifests: ManifestSet, node: str, active: dict[str, str], *, destructive: bool
) -> Round:
    host = SimHost(cluster, node)
    return compute_round(
        manifests,
        revision=REVISION,
        observed=observe_node(host),
        probed=probe_apps(host, manifests, node, active),
        node=node,
        active=active,
        options=Options(allow_destructive=destructive),
        now=datetime.now(UTC),
    )


def apply_once(
    cluster: Cluster, manifests: ManifestSet, node: str, active: dict[str, str], *, destructive: bool
) -> Step:
    planned = plan_on(cluster, manifests, node, active, destructive=destructive)
    if not planned.plan.pending():
        return Step(node, planned, None)
    try:
        report = execute(planned.plan, SimHost(cluster, node), NullJournal(), settings=FAST)
    except Crashed:
        return Step(node, planned, None, crashed=True)  # the agent died mid-plan: the next round resumes
    return Step(node, planned, report)


def converge(
    cluster: Cluster,
    manifests: ManifestSet,
    active: dict[str, str],
    *,
    destructive: bool = True,
    rounds: int = 8,
    seen: Callable[[int, Step], None] | None = None,
) -> bool:
    """Rounds on every powered node until none plans anything. True when that state is reached
    with nothing refused; False when a refusal or the round limit stops it first."""
    for number in range(1, rounds + 1):
        planned, refused = 0, 0
        for node in cluster.nodes:
            if not node.powered:
                continue
            step = apply_once(cluster, manifests, node.name, active, destructive=destructive)
            planned += len(step.round.plan.pending()) + int(step.crashed)
            refused += len(step.round.plan.errors)
            if seen is not None:
                seen(number, step)
        if planned == 0:
            return refused == 0
    return False
