"""What the agent observes once per pass, and the facts its arbiter decides on.

The pass itself is `reconciler.core.reconcile`, as for `apply`; the agent gives it this
observation (so one pass runs each observing command once), its arbiter's placement, a cap on
waits (a resync is looked at, never waited for) and its journal.
"""

from dataclasses import dataclass

from reconciler.core.diff import Probed
from reconciler.core.facts import AppFacts, app_facts
from reconciler.core.reconcile import probe_apps
from reconciler.manifest import ManifestSet
from reconciler.observe.node import HostFiles, observe_node
from reconciler.observe.runner import Runner
from reconciler.observe.state import Observed


@dataclass(frozen=True)
class Snapshot:
    observed: Observed
    probed: Probed  # the same whatever the placement: the generated files and the status commands
    apps: dict[str, AppFacts]


def observe(runner: Runner, manifests: ManifestSet, node: str, peer: str) -> Snapshot:
    observed = observe_node(runner, HostFiles.from_env())
    standby = {a.name: peer for a in manifests.applications}
    probed = probe_apps(runner, manifests, node, standby)
    return Snapshot(observed=observed, probed=probed, apps=app_facts(manifests, observed, probed, node))
