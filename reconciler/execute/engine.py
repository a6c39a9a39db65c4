"""execute(plan, host, journal): run a plan's actions in dependency order, one at a time.

Before anything runs, the plan is refused whole if it may not be applied (`refusal`). Then each
action is taken in turn (`action`); when one fails, everything that depends on it, directly or
not, is blocked and not run, while actions that do not depend on it (another application's)
still run. Every command, every action's end and the run's begin and end go to the journal.

The caller holds `node_lock` and has checked that the plan is fresh (`check_fresh`).
"""

import contextlib
import secrets
from collections import Counter
from collections.abc import Callable
from typing import Literal

from reconciler.core.plan.model import Action, Plan
from reconciler.execute.action import ActionContext, ActionEnding, ActionRun, emit, finish, result_of
from reconciler.execute.host import Host
from reconciler.execute.journal import Journal, PlanRecord
from reconciler.execute.order import in_order
from reconciler.execute.refusal import PlanRefused, refusals
from reconciler.execute.report import (
    ActionResult,
    ActionStatus,
    EventKind,
    ExecutionReport,
    ExecutionSettings,
    ProgressEvent,
    RunResult,
)

DEFAULT_SETTINGS = ExecutionSettings()


def execute(
    plan: Plan,
    host: Host,
    journal: Journal,
    *,
    settings: ExecutionSettings = DEFAULT_SETTINGS,
    progress: Callable[[ProgressEvent], None] | None = None,
) -> ExecutionReport:
    """Run the plan; raises `PlanRefused` (and runs nothing) if it may not be applied."""
    run = secrets.token_hex(6)
    reasons = refusals(plan)
    if reasons:
        journal.append(_plan_record(run, plan, journal, "end", RunResult.REFUSED, message="; ".join(reasons)))
        raise PlanRefused(reasons)
    actions = in_order(plan.actions)
    started_at, start = journal.now(), host.monotonic()
    journal.append(_plan_record(run, plan, journal, "begin"))
    context = ActionContext(host, journal, settings, run, progress)
    results: list[ActionResult] = []
    try:
        _run_all(context, actions, results)
    except BaseException as err:
        # Best effort: if the journal itself failed, the original error is the one to see.
        with contextlib.suppress(OSError):
            journal.append(_plan_record(run, plan, journal, "end", RunResult.INTERRUPTED, results, repr(err)))
        raise
    failed = any(r.status in (ActionStatus.FAILED, ActionStatus.BLOCKED) for r in results)
    result = RunResult.FAILED if failed else RunResult.SUCCEEDED
    journal.append(_plan_record(run, plan, journal, "end", result, results))
    return ExecutionReport(
        run=run,
        node=plan.node,
        revision=plan.revision,
        observation_digest=plan.observation_digest,
        started_at=started_at,
        seconds=round(host.monotonic() - start, 6),
        result=result,
        actions=tuple(results),
    )


def _run_all(context: ActionContext, actions: tuple[Action, ...], results: list[ActionResult]) -> None:
    # The failed actions behind each action that did not succeed: its own id if it failed, the
    # failures its dependencies trace back to if it is blocked.
    failures: dict[str, tuple[str, ...]] = {}
    for index, action in enumerate(actions, start=1):
        behind = tuple(dict.fromkeys(f for dep in action.depends_on for f in failures.get(dep, ())))
        if behind:
            result = _blocked(context, action, behind, index, len(actions))
            failures[action.id] = behind
        else:
            result = ActionRun(context, action, index, len(actions)).take()
            if result.status is ActionStatus.FAILED:
                failures[action.id] = (action.id,)
        results.append(result)


def _blocked(
    context: ActionContext, action: Action, behind: tuple[str, ...], index: int, total: int
) -> ActionResult:
    ending = ActionEnding(
        ActionStatus.BLOCKED, "not run: it depends on " + ", ".join(behind) + ", which failed"
    )
    finish(context, action, ending)
    emit(context, action, (index, total), EventKind.FINISHED, status=ending.status, message=ending.message)
    return result_of(action, ending)


def _plan_record(
    run: str,
    plan: Plan,
    journal: Journal,
    event: Literal["begin", "end"],
    result: RunResult | None = None,
    results: list[ActionResult] | None = None,
    message: str = "",
) -> PlanRecord:
    counts = None if results is None else dict(Counter(r.status for r in results))
    return PlanRecord(
        run=run,
        event=event,
        time=journal.now(),
        node=plan.node,
        revision=plan.revision,
        digest=plan.observation_digest,
        actions=len(plan.actions),
        result=result,
        counts=counts,
        message=message,
    )
