"""The real observe -> diff -> plan -> execute code against the simulated cluster of the example
manifests: first deployment, a crash after any single action, and a failover."""

from datetime import UTC, datetime

import pytest

from reconciler.execute import NullJournal, Settings, execute
from reconciler.lab.sim import Cluster, Crash, Crashed, CrashPoint, SimHost, handle, lab_cluster
from reconciler.lab.sim.drbd import Side
from reconciler.lab.sim.model import GIB
from reconciler.manifest import ManifestSet, load_manifests
from reconciler.observe.drbd.states import Role
from reconciler.observe.node import observe_node
from reconciler.plan.model import Revision
from reconciler.plan.planner import Options
from reconciler.reconcile import compute_round, probe_apps
from tests.conftest import REPO

NODES = ("centos5s1", "centos5s2")
SETTINGS = Settings(backoff_initial=0, backoff_max=0, poll_interval=5, verify_grace=5)


@pytest.fixture(scope="module")
def manifests() -> ManifestSet:
    return load_manifests([REPO / "manifests" / "cluster.yaml", REPO / "manifests" / "xapache.yaml"])


def new_cluster(manifests: ManifestSet) -> Cluster:
    return lab_cluster(manifests.cluster.document, disks={"/dev/hda": 20 * GIB}, toolstack="xm")


def apply_once(cluster: Cluster, manifests: ManifestSet, node: str, active: dict[str, str]) -> int:
    """One pass on `node`: observe, plan (destructive steps allowed), execute; the number of actions."""
    host = SimHost(cluster, node)
    observed = observe_node(host)
    assert observed.errors == ()
    probed = probe_apps(host, manifests, node, active)
    round_ = compute_round(
        manifests,
        revision=Revision(content_hash="lab"),
        observed=observed,
        probed=probed,
        node=node,
        active=active,
        options=Options(allow_destructive=True),
        now=datetime.now(UTC),
    )
    if round_.plan.actions:
        execute(round_.plan, host, NullJournal(), settings=SETTINGS)
    return len(round_.plan.actions)


def format_new_devices(cluster: Cluster) -> None:
    """The operator's one-time mkfs on the new Primary: the planner has no such step."""
    for node in cluster.nodes:
        for res in node.drbd.resources:
            if node.powered and res.role is Role.PRIMARY and Side(node, res).md.fstype is None:
                assert handle(cluster, node.name, ("mkfs", "-t", "ext3", res.device)).ok


def converge(cluster: Cluster, manifests: ManifestSet, active: dict[str, str], rounds: int = 8) -> None:
    for _ in range(rounds):
        planned = 0
        for node in NODES:
            if not cluster.node(node).powered:
                continue
            try:
                planned += apply_once(cluster, manifests, node, active)
            except Crashed:
                planned += 1  # the agent died mid-plan; the next pass starts from what is there
            format_new_devices(cluster)
        if planned == 0:
            return
    pytest.fail(f"no convergence in {rounds} rounds; actions: {cluster.actions}")


def assert_running_on(cluster: Cluster, node: str) -> None:
    for other in cluster.nodes:
        here = other.name == node
        assert (other.xen.domain("apache") is not None) is here
        roles = [r.role for r in other.drbd.resources]
        assert roles == ([Role.PRIMARY] if here else [Role.SECONDARY] if other.powered else [])
        assert (other.mount_at("/virt") is not None) is here


def test_first_deployment_converges_with_the_application_on_the_preferred_node(
    manifests: ManifestSet,
) -> None:
    cluster = new_cluster(manifests)
    converge(cluster, manifests, {"xapache": "centos5s1"})
    assert_running_on(cluster, "centos5s1")
    backup = cluster.node("centos5s2").drbd.resource("xapache-lv01")
    assert backup is not None and Side(cluster.node("centos5s2"), backup).md.disk.value == "UpToDate"
    assert cluster.clock > 8 * 1024 / 10  # the 8 GiB initial sync at 10 MiB/s took its virtual time


@pytest.mark.parametrize("point", [CrashPoint.BEFORE, CrashPoint.AFTER])
def test_a_crash_after_any_single_action_still_converges(manifests: ManifestSet, point: CrashPoint) -> None:
    reference = new_cluster(manifests)
    converge(reference, manifests, {"xapache": "centos5s1"})
    for at in range(1, len(reference.actions) + 1):
        cluster = new_cluster(manifests)
        cluster.crash = Crash(at=at, point=point)
        converge(cluster, manifests, {"xapache": "centos5s1"})
        assert cluster.crash is None, f"crash {at} never fired"
        assert_running_on(cluster, "centos5s1")


def test_failover_after_the_active_node_powers_off(manifests: ManifestSet) -> None:
    cluster = new_cluster(manifests)
    converge(cluster, manifests, {"xapache": "centos5s1"})
    cluster.power_off("centos5s1")
    converge(cluster, manifests, {"xapache": "centos5s2"})
    assert_running_on(cluster, "centos5s2")
    cluster.power_on("centos5s1")
    converge(cluster, manifests, {"xapache": "centos5s2"})
    assert_running_on(cluster, "centos5s2")
    old = cluster.node("centos5s1").drbd.resource("xapache-lv01")
    assert old is not None and Side(cluster.node("centos5s1"), old).md.disk.value == "UpToDate"
