"""The seed's xapache on a simulated two-node cluster, and the rounds that reconcile it.

A round is what `reconciler apply` does once on a node: observe, gather the per-application
facts, compute drift and plan, execute. Shared by the planning tests and the lab's end-to-end tests.
"""

from datetime import UTC, datetime

import pytest

from reconciler.execute import ExecutionReport, NullJournal, Settings, execute
from reconciler.lab.sim import Cluster, Crashed, SimHost, lab_cluster
from reconciler.lab.sim.model import GIB
from reconciler.manifest import ManifestSet, load_manifests
from reconciler.observe.node import observe_node
from reconciler.plan.model import Revision
from reconciler.plan.planner import Options
from reconciler.reconcile import Round, compute_round, probe_apps
from tests.conftest import REPO

NODES = ("centos5s1", "centos5s2")
ON_S1 = {"xapache": "centos5s1"}
ON_S2 = {"xapache": "centos5s2"}
REVISION = Revision(content_hash="seed")
FAST = Settings(backoff_initial=0, backoff_max=0, poll_interval=5, verify_grace=5)


def seed_manifests() -> ManifestSet:
    return load_manifests([REPO / "manifests"])


def new_cluster(manifests: ManifestSet) -> Cluster:
    return lab_cluster(manifests.cluster.document, disks={"/dev/hda": 20 * GIB}, toolstack="xm")


def plan_on(
    cluster: Cluster, manifests: ManifestSet, node: str, active: dict[str, str], *, destructive: bool = True
) -> Round:
    host = SimHost(cluster, node)
    observed = observe_node(host)
    probed = probe_apps(host, manifests, node, active)
    return compute_round(
        manifests,
        revision=REVISION,
        observed=observed,
        probed=probed,
        node=node,
        active=active,
        options=Options(allow_destructive=destructive),
        now=datetime.now(UTC),
    )


def apply_once(
    cluster: Cluster, manifests: ManifestSet, node: str, active: dict[str, str], *, destructive: bool = True
) -> tuple[Round, ExecutionReport | None]:
    planned = plan_on(cluster, manifests, node, active, destructive=destructive)
    if not planned.plan.pending():
        return planned, None
    return planned, execute(planned.plan, SimHost(cluster, node), NullJournal(), settings=FAST)


def converge(cluster: Cluster, manifests: ManifestSet, active: dict[str, str], rounds: int = 8) -> None:
    """Rounds on both nodes until neither plans anything (a crash ends a round, as a dead agent)."""
    for _ in range(rounds):
        planned = 0
        for node in NODES:
            if not cluster.node(node).powered:
                continue
            try:
                result, _ = apply_once(cluster, manifests, node, active)
                planned += len(result.plan.pending())
            except Crashed:
                planned += 1
        if planned == 0:
            return
    pytest.fail(f"no convergence in {rounds} rounds; actions: {cluster.actions}")
