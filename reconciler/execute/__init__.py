"""Execution: the edge that acts on a node, one plan at a time.

`execute(plan, host, journal)` runs a plan's actions in dependency order, each as check, do,
verify, with retries, timeouts and a journal line for every command. Everything it touches goes
through a `Host`, so the tests and the lab run the same code as a real node. The caller holds
`node_lock` and calls `check_fresh` before executing, so that no two applies race and no plan
acts on a node or manifests that changed since it was made.
"""

from reconciler.execute.engine import DEFAULT_SETTINGS, execute
from reconciler.execute.host import Host, LocalHost, ReadOnlyHost
from reconciler.execute.journal import Journal, NullJournal
from reconciler.execute.lock import Busy, node_lock
from reconciler.execute.refusal import PlanRefused
from reconciler.execute.report import (
    ActionResult,
    ActionStatus,
    EventKind,
    ExecutionReport,
    ExecutionSettings,
    ProgressEvent,
)
from reconciler.execute.stale import StalePlan, check_fresh

__all__ = [
    "DEFAULT_SETTINGS",
    "ActionResult",
    "ActionStatus",
    "Busy",
    "EventKind",
    "ExecutionReport",
    "ExecutionSettings",
    "Host",
    "Journal",
    "LocalHost",
    "NullJournal",
    "PlanRefused",
    "ProgressEvent",
    "ReadOnlyHost",
    "StalePlan",
    "check_fresh",
    "execute",
    "node_lock",
]
