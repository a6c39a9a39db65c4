"""One converge pass of the agent: observe, plan for the placement the arbiter chose, execute.

The same pipeline as `reconciler apply` (`compute_round`, `execute`), with three differences
that a loop needs:
- waits are looked at, not waited for: a `wait` action (a resync, a connection) gets a timeout
  of `wait_cap` seconds, so a pass never blocks on what takes minutes; the next pass looks again;
- applications in maintenance are left out of the plan entirely (the arbiter holds them);
- a self-fencing application's domain is destroyed first, not shut down: it must be gone before
  this node's lease runs out, and a guest's clean shutdown has no deadline.

`facts` reads from an observation what the arbiter decides on: whether an application runs
here (anything that a stop would undo: the diff of the application as a standby node shows it)
and its local DRBD disk state.
"""

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from reconciler.desired import desired_node
from reconciler.diff import Probed, diff
from reconciler.drift import DriftCode
from reconciler.execute import ExecutionReport, Journal, LocalHost, execute
from reconciler.manifest import ManifestSet
from reconciler.observe.drbd.states import DiskState
from reconciler.observe.node import HostFiles, observe_node
from reconciler.observe.runner import Runner
from reconciler.observe.state import Observed
from reconciler.plan.model import Plan, Revision
from reconciler.plan.planner import Options
from reconciler.reconcile import Round, compute_round, drbd_flavour, probe_apps

# What a standby node shows when (part of) the application runs there.
RUNNING_CODES = frozenset(
    {DriftCode.APP_UP_ON_WRONG_NODE, DriftCode.FS_MOUNTED_ON_STANDBY, DriftCode.IP_UNEXPECTED}
)


@dataclass(frozen=True)
class AppFacts:
    running: bool
    disk: str | None  # the worst local disk state of its DRBD resources; None: not up here


@dataclass(frozen=True)
class Snapshot:
    observed: Observed
    probed: Probed  # the same whatever the placement: the generated files and the status commands
    apps: dict[str, AppFacts]


def only(manifests: ManifestSet, apps: set[str]) -> ManifestSet:
    """The manifest set with only the applications named."""
    return replace(manifests, applications=tuple(a for a in manifests.applications if a.name in apps))


def observe(runner: Runner, manifests: ManifestSet, node: str, peer: str) -> Snapshot:
    observed = observe_node(runner, HostFiles.from_env())
    standby = {a.name: peer for a in manifests.applications}
    probed = probe_apps(runner, manifests, node, standby)
    return Snapshot(observed=observed, probed=probed, apps=facts(manifests, observed, probed, node, peer))


def facts(
    manifests: ManifestSet, observed: Observed, probed: Probed, node: str, peer: str
) -> dict[str, AppFacts]:
    standby = {a.name: peer for a in manifests.applications}
    desired = desired_node(manifests, node, standby, drbd_flavour(observed))
    drift = diff(desired, observed, probed)
    running = {d.app for d in drift if d.code in RUNNING_CODES}
    out = {}
    for app in desired.apps:
        out[app.name] = AppFacts(
            running=app.name in running, disk=_disk(observed, [v.resource for v in app.volumes])
        )
    return out


def _disk(observed: Observed, resources: list[str]) -> str | None:
    if observed.drbd is None or not resources:
        return None
    states: list[DiskState] = []
    for name in resources:
        found = next((r for r in observed.drbd.resources if r.name == name), None)
        if found is None or not found.volumes:
            return None
        states.extend(v.disk_state for v in found.volumes)
    worse = [s for s in states if s is not DiskState.UP_TO_DATE]
    return (worse[0] if worse else DiskState.UP_TO_DATE).value


def plan_pass(
    manifests: ManifestSet,
    snapshot: Snapshot,
    node: str,
    active: dict[str, str],
    revision: Revision,
) -> Round:
    return compute_round(
        manifests,
        revision=revision,
        observed=snapshot.observed,
        probed=snapshot.probed,
        node=node,
        active=active,
        options=Options(allow_destructive=False),
        now=datetime.now(UTC),
    )


def capped(plan: Plan, wait_cap: float) -> Plan:
    """The plan with every wait looked at for at most `wait_cap` seconds."""
    actions = tuple(
        a.model_copy(update={"timeout": min(a.timeout, wait_cap)}) if a.wait else a for a in plan.actions
    )
    return plan.model_copy(update={"actions": actions})


def run_plan(plan: Plan, runner: Runner, journal: Journal, wait_cap: float) -> ExecutionReport | None:
    """Execute what the plan has to do; None when there is nothing."""
    if not plan.pending() or not plan.applyable:
        return None
    return execute(capped(plan, wait_cap), LocalHost(runner), journal)
