"""The arbiter's facts from one observation: found on every DRBD version, and blind means 'possibly running'.

Two safety gaps closed here: the agent found an application's DRBD resource by name only, so on
DRBD 8 (whose /proc/drbd names only minors) every disk read as unknown and no node could start or
take over anything; and an observation that failed read as 'not running', so a holder that could
not see its domain released its lease while it might still run.
"""

from collections.abc import Sequence

import pytest

from reconciler.core.facts import Presence, app_facts
from reconciler.core.reconcile import probe_apps
from reconciler.lab.sim import Cluster, lab_cluster, rounds
from reconciler.lab.sim.host import SimHost
from reconciler.lab.sim.model import GIB
from reconciler.manifest import ManifestSet
from reconciler.observe.node import observe_node
from reconciler.observe.runner import DEFAULT_TIMEOUT, CommandResult, Outcome
from tests.plan.seed import ON_S1, seed_manifests

STANDBY_OF_S1 = {"xapache": "centos5s2"}


class Blind(SimHost):
    """A node whose domain list cannot be read: `xm list` times out, as a hung toolstack does."""

    def run(self, argv: Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> CommandResult:
        if tuple(argv[:2]) == ("xm", "list"):
            return CommandResult(argv=tuple(argv), outcome=Outcome.TIMEOUT, seconds=timeout)
        return super().run(argv, timeout)


def converged(version: str) -> tuple[Cluster, ManifestSet]:
    manifests = seed_manifests()
    cluster = lab_cluster(
        manifests.cluster.document, disks={"/dev/hda": 20 * GIB}, toolstack="xm", drbd_version=version
    )
    assert rounds.converge(cluster, manifests, ON_S1)
    return cluster, manifests


def facts_on(host: SimHost, manifests: ManifestSet, node: str) -> tuple[Presence, str | None]:
    observed = observe_node(host)
    probed = probe_apps(host, manifests, node, STANDBY_OF_S1)
    found = app_facts(manifests, observed, probed, node)["xapache"]
    return found.presence, found.disk


@pytest.mark.parametrize("version", ["8.4.11", "9.2.8"])
def test_the_disk_state_is_found_on_every_drbd_version(version: str) -> None:
    cluster, manifests = converged(version)
    for node, presence in (("centos5s1", Presence.RUNNING), ("centos5s2", Presence.STOPPED)):
        assert facts_on(SimHost(cluster, node), manifests, node) == (presence, "UpToDate"), node


@pytest.mark.parametrize("node", ["centos5s1", "centos5s2"])
def test_a_domain_list_that_cannot_be_read_is_possibly_running(node: str) -> None:
    cluster, manifests = converged("9.2.8")
    presence, _ = facts_on(Blind(cluster, node), manifests, node)
    expected = Presence.RUNNING if node == "centos5s1" else Presence.UNKNOWN  # the mount still shows it
    assert presence is expected
    observed = observe_node(Blind(cluster, node))
    probed = probe_apps(Blind(cluster, node), manifests, node, STANDBY_OF_S1)
    assert app_facts(manifests, observed, probed, node)["xapache"].running


def test_every_observation_failing_is_possibly_running_everywhere() -> None:
    cluster, manifests = converged("9.2.8")

    class Dark(SimHost):
        def run(self, argv: Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> CommandResult:
            return CommandResult(argv=tuple(argv), outcome=Outcome.ERROR, stderr="fork: out of memory")

        def read(self, path: str) -> CommandResult:
            return CommandResult(argv=("<read>", path), outcome=Outcome.ERROR, stderr="out of memory")

    for node in ("centos5s1", "centos5s2"):
        host = Dark(cluster, node)
        probed = probe_apps(host, manifests, node, STANDBY_OF_S1)
        found = app_facts(manifests, observe_node(host), probed, node)
        assert found["xapache"].presence is Presence.UNKNOWN and found["xapache"].running, node
        assert found["xapache"].disk is None


def test_a_blind_holder_self_fences_wholly() -> None:
    """The self-fence is planned without observation and stops everything, even while the tools
    that observe fail: no guest, nothing mounted, and DRBD Secondary, so the peer's promotion after
    the lease never makes two Primaries."""
    from datetime import UTC, datetime

    from reconciler.core.fence import fence_plan
    from reconciler.execute import NullJournal, execute

    cluster, manifests = converged("9.2.8")
    plan = fence_plan(manifests, "centos5s1", "xapache", rounds.REVISION, datetime.now(UTC))
    assert [a.kind.value for a in plan.actions] == ["stop-domain", "unmount", "demote"]
    assert all(a.depends_on == () for a in plan.actions)

    class Deaf(Blind):
        def run(self, argv: Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> CommandResult:
            if tuple(argv[:2]) == ("drbdsetup", "status"):
                return CommandResult(argv=tuple(argv), outcome=Outcome.TIMEOUT, seconds=timeout)
            return super().run(argv, timeout)

    host = Deaf(cluster, "centos5s1")
    report = execute(plan, host, NullJournal(), settings=rounds.FAST)
    assert report.ok, report
    after = observe_node(SimHost(cluster, "centos5s1"))
    assert after.domains is not None and not [d for d in after.domains.domains if d.name == "apache"]
    assert after.drbd is not None and all(r.role.value == "Secondary" for r in after.drbd.resources)


def test_the_self_fence_trusts_no_probe() -> None:
    """A failing `xm list` reads as 'no such domain': a check through it would skip the destroy."""
    from datetime import UTC, datetime

    from reconciler.core.fence import fence_plan

    _, manifests = converged("9.2.8")
    plan = fence_plan(manifests, "centos5s1", "xapache", rounds.REVISION, datetime.now(UTC))
    assert all(a.check is None and a.verify is None and not a.retryable for a in plan.actions)
