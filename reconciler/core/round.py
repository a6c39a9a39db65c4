"""One reconcile round for this node: desired -> diff -> plan, and the facts it needs.

Pure: `reconciler.core.reconcile` gathers what it reads (the observation, and the probes of
generated files and status commands) and acts on what it returns.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from reconciler.core.desired import DesiredNode, desired_node
from reconciler.core.diff import Probed, diff
from reconciler.core.drift import Drift, DriftCode
from reconciler.core.plan.model import Plan, Revision
from reconciler.core.plan.planner import Options, plan_node
from reconciler.manifest import ManifestSet
from reconciler.observe.state import Observed
from reconciler.render.drbd import DrbdFlavour


@dataclass(frozen=True)
class Round:
    desired: DesiredNode
    drift: list[Drift]
    plan: Plan


def drbd_flavour(observed: Observed) -> DrbdFlavour:
    """The resource file syntax the node's DRBD reads, from the version its kernel reports
    (/proc/drbd's first line); 9 when the module is not loaded (yet)."""
    version = observed.drbd.version if observed.drbd is not None else None
    if version is None:
        return DrbdFlavour.V9
    if version.startswith("8.4"):
        return DrbdFlavour.V84
    if version.startswith("8."):
        return DrbdFlavour.V83
    return DrbdFlavour.V9


def digest(drift: list[Drift], probed: Probed) -> str:
    """What the plan depends on, hashed: the drift records and the files' contents.

    Counters that move every second (resync progress, load) are not in it, so a saved plan is
    refused when the node changed in a way that matters, not because a resync advanced.
    """
    records = sorted((d.code.value, d.app, str(d.resource), d.field, d.desired, d.observed) for d in drift)
    files = sorted(
        (path, hashlib.sha256((content or "").encode()).hexdigest() if content is not None else None)
        for path, content in probed.files.items()
    )
    text = json.dumps({"drift": records, "files": files, "running": sorted(probed.running.items())})
    return hashlib.sha256(text.encode()).hexdigest()


def compute_round(
    manifests: ManifestSet,
    *,
    revision: Revision,
    observed: Observed,
    probed: Probed,
    node: str,
    active: dict[str, str],
    options: Options,
    now: datetime,
) -> Round:
    desired = desired_node(manifests, node, active, drbd_flavour(observed))
    drift = diff(desired, observed, probed)
    planned = plan_node(desired, observed, probed, drift, options)
    # Acting on a partial picture could undo what the unseen part holds: a failed observation
    # makes the plan inspectable, not applyable. A refused step only leaves that step out.
    blind = sorted(
        {
            f"{d.resource}: {d.detail or 'could not be observed'}"
            for d in drift
            if d.code is DriftCode.OBSERVATION_FAILED
        }
    )
    plan = Plan(
        node=node,
        created_at=now,
        revision=revision,
        observation_digest=digest(drift, probed),
        actions=tuple(planned.actions),
        applyable=not blind,
        errors=tuple(planned.errors) + tuple(f"observation failed: {b}" for b in blind),
        allow_destructive=options.initial_build,  # what the executor may run: these steps only
    )
    return Round(desired=desired, drift=drift, plan=plan)
