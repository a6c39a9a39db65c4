"""Whether a plan may run at all, decided before anything runs.

A plan is refused whole, with every reason at once: it is not applyable (the planner said so), it
destroys data without the explicit opt-in (checked here again, whatever the planner did), its
dependencies do not resolve, or an action is malformed. Nothing of a refused plan runs.
"""

from reconciler.core.plan.model import Action, ActionKind, Plan, Probe
from reconciler.execute.order import dependency_problems
from reconciler.execute.probe import pattern_problem


class PlanRefused(RuntimeError):
    """The plan may not be applied; `reasons` says why, one line each."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = tuple(reasons)
        super().__init__("the plan was refused, nothing was run: " + "; ".join(self.reasons))


def refusals(plan: Plan) -> list[str]:
    reasons: list[str] = []
    if not plan.applyable:
        errors = "; ".join(plan.errors) or "no reason recorded"
        reasons.append(f"the plan is not applyable ({errors})")
    destructive = [a.id for a in plan.actions if a.destructive]
    if destructive and not plan.allow_destructive:
        reasons.append(
            "the plan destroys data (" + ", ".join(destructive) + ") but was not made with allow_destructive"
        )
    reasons += dependency_problems(plan.actions)
    for action in plan.actions:
        reasons += [f"{action.id}: {problem}" for problem in shape_problems(action)]
    return reasons


def shape_problems(action: Action) -> list[str]:
    """An action must say what it does in exactly one way, and its probes must be usable."""
    problems: list[str] = []
    ways = [name for name, used in (("do", action.do), ("write", action.write)) if used is not None]
    if action.wait:
        ways.append("wait")
        if action.verify is None:
            problems.append("a wait needs a verify probe to poll")
    if len(ways) > 1:
        problems.append("has " + " and ".join(ways) + "; an action does one of them")
    if not ways and action.kind is not ActionKind.NOOP:
        problems.append("has neither do, write nor wait")
    for name, argv in (("do", action.do), ("on_timeout", action.on_timeout)):
        if argv is not None and not argv:
            problems.append(f"has an empty {name}")
    if action.timeout <= 0:
        problems.append(f"has a timeout of {action.timeout:g} s")
    for name, probe in (("check", action.check), ("verify", action.verify)):
        if isinstance(probe, Probe) and not probe.argv:
            problems.append(f"its {name} probe has an empty argv")
        problem = pattern_problem(probe) if probe is not None else None
        if problem is not None:
            problems.append(f"its {name} probe: {problem}")
    return problems
