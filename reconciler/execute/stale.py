"""Whether a plan still fits: same manifests, same node, as when it was made.

`apply` of a saved plan acts only if the manifests' content and the node's observation are the
ones the plan was computed from; otherwise the plan is stale and must be made again. Manifests
are compared by content hash (always set): a commit alone says nothing of uncommitted changes.
"""

from reconciler.core.plan.model import Plan, Revision


class StalePlan(RuntimeError):
    """The plan was made from other manifests or another state of the node; re-plan."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = tuple(reasons)
        super().__init__("the plan is stale: " + "; ".join(self.reasons) + "; make a new plan")


def check_fresh(plan: Plan, revision: Revision, digest: str, *, node: str | None = None) -> None:
    """Raise `StalePlan` naming everything that changed since the plan was made."""
    reasons: list[str] = []
    if node is not None and node != plan.node:
        reasons.append(f"the plan was made for node {plan.node}, this is {node}")
    if revision.content_hash != plan.revision.content_hash:
        then, now = plan.revision.describe(), revision.describe()
        if then == now:  # same commit, both dirty: only the hashes tell them apart
            then += f", content {plan.revision.content_hash[:12]}"
            now += f", content {revision.content_hash[:12]}"
        reasons.append(f"the manifests changed since the plan was made (plan: {then}, now: {now})")
    if digest != plan.observation_digest:
        reasons.append(
            "the node changed since the plan was made "
            f"(observation digest {plan.observation_digest[:12]}, now {digest[:12]})"
        )
    if reasons:
        raise StalePlan(reasons)
