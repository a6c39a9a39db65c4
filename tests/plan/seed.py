"""The seed's xapache on a simulated two-node cluster, and the rounds that reconcile it.

A round is the pass (`reconciler.core.reconcile`) once on a node: observe, diff, plan, execute.
Shared by the planning tests and the lab's end-to-end tests.
"""

import pytest

from reconciler.core.reconcile import PassResult
from reconciler.execute import ExecutionReport
from reconciler.lab.sim import Cluster, lab_cluster, rounds
from reconciler.lab.sim.model import GIB
from reconciler.manifest import ManifestSet, load_manifests
from tests.conftest import REPO

NODES = ("centos5s1", "centos5s2")
ON_S1 = {"xapache": "centos5s1"}
ON_S2 = {"xapache": "centos5s2"}
REVISION = rounds.REVISION


def seed_manifests() -> ManifestSet:
    return load_manifests([REPO / "manifests"])


def new_cluster(manifests: ManifestSet) -> Cluster:
    return lab_cluster(manifests.cluster.document, disks={"/dev/hda": 20 * GIB}, toolstack="xm")


def plan_on(
    cluster: Cluster, manifests: ManifestSet, node: str, active: dict[str, str], *, destructive: bool = True
) -> PassResult:
    return rounds.plan_on(cluster, manifests, node, active, destructive=destructive)


def apply_once(
    cluster: Cluster, manifests: ManifestSet, node: str, active: dict[str, str], *, destructive: bool = True
) -> tuple[PassResult, ExecutionReport | None]:
    step = rounds.apply_once(cluster, manifests, node, active, destructive=destructive)
    assert step.result is not None, f"{node} crashed during the pass"
    return step.result, step.result.report


def converge(cluster: Cluster, manifests: ManifestSet, active: dict[str, str], rounds_: int = 8) -> None:
    """Rounds on both nodes until neither plans anything (a crash ends a round, as a dead agent)."""
    if not rounds.converge(cluster, manifests, active, rounds=rounds_):
        pytest.fail(f"no convergence in {rounds_} rounds; actions: {cluster.actions}")
