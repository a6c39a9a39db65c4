"""The self-fence of one application: its hard stop, planned without looking.

A holder that must stop before its lease ends cannot wait for an observation (the tools may be
what hangs, and a blind pass is never applyable). So the self-fence is planned from the manifests
alone: destroy the domain, remove its addresses, unmount its filesystems, demote its DRBD
resources. Each step is harmless when already done and runs unconditionally, without a check (a
probe through a failing tool could read "done") and without a dependency on the one before, so
one that fails never keeps the next from running: a domain that cannot be seen is still
destroyed, and a Primary is still demoted once nothing holds it open.
It runs through the executor and the journal like any plan.
"""

from datetime import datetime

from reconciler.core.desired import DesiredApp, desired_node
from reconciler.core.plan import steps, storage_steps
from reconciler.core.plan.model import Action, ActionKind, Plan, Revision
from reconciler.core.plan.planner import nesting_order
from reconciler.core.plan.steps import Step
from reconciler.core.reconcile import only
from reconciler.core.refs import domain as domain_ref
from reconciler.manifest import ManifestSet
from reconciler.render.drbd import DrbdFlavour

FENCE_DIGEST = "self-fence: planned without observation"
# Each step's bound: the self-fencing margin must cover them all (docs/ARCHITECTURE.md, Arbitration).
FENCE_STEP_TIMEOUT = 5.0
# No check, no verify, no retry, no dependency: a probe through a failing tool could read "done"
# (a failing `xm list` reads as "not running"), and a step that fails must not hold back the next.
BLIND = {"depends_on": (), "check": None, "verify": None, "retryable": False}
REASON = "self-fence of {app}: stopped before this node's lease ends"


def fence_plan(manifests: ManifestSet, node: str, app: str, revision: Revision, now: datetime) -> Plan:
    """The hard stop of `app` on `node`, in stop order, each step independent of the others."""
    peers = [n.name for n in manifests.cluster.document.spec.nodes if n.name != node]
    desired = desired_node(only(manifests, {app}), node, {app: peers[0]}, DrbdFlavour.V9).apps[0]
    actions = tuple(
        a.model_copy(update={**BLIND, "timeout": FENCE_STEP_TIMEOUT, "reason": REASON.format(app=app)})
        for a in _steps(desired)
    )
    return Plan(
        node=node,
        created_at=now,
        revision=revision,
        observation_digest=FENCE_DIGEST,
        actions=actions,
        allow_destructive=any(a.destructive for a in actions),
    )


def _steps(app: DesiredApp) -> list[Action]:
    s = Step(app)
    d = app.domain
    hard = d.destroy if d.destroy is not None else d.stop
    out = [
        s.action(
            ActionKind.STOP_DOMAIN,
            domain_ref(d.name),
            do=hard,
            timeout=FENCE_STEP_TIMEOUT,
            retryable=False,
            destructive=d.destroy is not None,
        )
    ]
    out += [steps.remove_address(s, a) for a in app.addresses]
    inner_first = reversed(nesting_order(app.volumes))
    out += [
        steps.unmount(s, v.filesystem.mount_point, FENCE_STEP_TIMEOUT) for v in inner_first if v.filesystem
    ]
    out += [storage_steps.demote(s, v) for v in app.volumes]
    return out
