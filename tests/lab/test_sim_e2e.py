"""The real observe -> diff -> plan -> execute code against the simulated cluster of the example
manifests: first deployment, a crash after any single action, and a failover."""

import pytest

from reconciler.lab.sim import Cluster, Crash, CrashPoint
from reconciler.lab.sim.drbd import Side
from reconciler.manifest import ManifestSet
from reconciler.observe.drbd.states import Role
from tests.plan import seed

new_cluster = seed.new_cluster
converge = seed.converge


@pytest.fixture(scope="module")
def manifests() -> ManifestSet:
    return seed.seed_manifests()


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
