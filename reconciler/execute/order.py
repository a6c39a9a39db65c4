"""The order actions run in: topological by `depends_on`, stable in plan order.

Among the actions whose dependencies are all taken, the one earliest in the plan goes first, so
a plan that is already in dependency order (as the planner makes them) runs exactly as printed.
"""

import heapq
from collections.abc import Sequence

from reconciler.core.plan.model import Action


def dependency_problems(actions: Sequence[Action]) -> list[str]:
    """Duplicate ids, dependencies on ids not in the plan, and cycles; empty when it can run."""
    problems: list[str] = []
    ids = [a.id for a in actions]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    problems += [f"more than one action has the id {i!r}" for i in duplicates]
    known = set(ids)
    for action in actions:
        problems += [
            f"{action.id} depends on {dep!r}, which is not in the plan"
            for dep in action.depends_on
            if dep not in known
        ]
    if not problems:
        stuck = _kahn(actions)[1]
        if stuck:
            problems.append("the dependencies of these actions form a cycle: " + ", ".join(stuck))
    return problems


def in_order(actions: Sequence[Action]) -> tuple[Action, ...]:
    """The actions in the order they run; `dependency_problems` must be empty."""
    ordered, stuck = _kahn(actions)
    if stuck:
        raise ValueError("cyclic dependencies: " + ", ".join(stuck))
    return tuple(ordered)


def _kahn(actions: Sequence[Action]) -> tuple[list[Action], list[str]]:
    """Kahn's algorithm with the plan index as priority; also returns the ids left in a cycle."""
    waiting_on = [len(set(a.depends_on)) for a in actions]
    dependents: dict[str, list[int]] = {a.id: [] for a in actions}
    for i, action in enumerate(actions):
        for dep in set(action.depends_on):
            dependents[dep].append(i)
    ready = [i for i, n in enumerate(waiting_on) if n == 0]
    heapq.heapify(ready)
    ordered: list[Action] = []
    while ready:
        i = heapq.heappop(ready)
        ordered.append(actions[i])
        for j in dependents[actions[i].id]:
            waiting_on[j] -= 1
            if waiting_on[j] == 0:
                heapq.heappush(ready, j)
    taken = {a.id for a in ordered}
    return ordered, [a.id for a in actions if a.id not in taken]
