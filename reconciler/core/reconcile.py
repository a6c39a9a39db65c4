"""The pass: `reconcile(ctx) -> PassResult`, the one contract every converger calls.

observe -> placement -> desired -> diff -> plan -> execute, once, for one node. `apply`, `plan`,
`drift`, the agent and the lab's simulator all call `reconcile` (or `converge`, which repeats it
under the one stopping rule); none has a pipeline of its own. What differs between them is
injected: the host (real, replayed, simulated), the placement source (static, the agent's
leases, the arbiter) and the options (plan only, destructive steps, a cap on waits).

In the spirit of controller-runtime's `Result`: CONVERGED is done, REQUEUE is "look again after
`requeue_after`", REFUSED is terminal until something outside changes (an operator, a manifest,
an observation that works again), FAILED is an action that failed (retried by the next pass).
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from reconciler.core.desired import desired_node
from reconciler.core.diff import Probed
from reconciler.core.drift import Drift
from reconciler.core.placement import Placement, PlacementSource
from reconciler.core.plan.model import Plan, Revision
from reconciler.core.plan.planner import Options
from reconciler.core.round import Round, compute_round
from reconciler.execute import (
    DEFAULT_SETTINGS,
    ExecutionReport,
    ExecutionSettings,
    Host,
    Journal,
    ProgressEvent,
)
from reconciler.execute import execute as run_plan
from reconciler.manifest import ManifestSet
from reconciler.observe.node import HostFiles, observe_node
from reconciler.observe.runner import Outcome, Runner
from reconciler.observe.state import Observed
from reconciler.render.drbd import DrbdFlavour

REQUEUE_NOW = 0.0


class NodeHost(Runner, Host, Protocol):
    """What a pass touches on a node: the observation runner and the executor's host in one."""


class PassStatus(StrEnum):
    CONVERGED = "converged"  # nothing planned, nothing refused
    REQUEUE = "requeue"  # acted, or waits on something outside this node: look again
    REFUSED = "refused"  # what remains is refused, or the node could not be fully observed
    FAILED = "failed"  # an action failed or was blocked


@dataclass(frozen=True)
class PassOptions:
    allow_destructive: bool = False
    allow_initial_sync: bool = False  # only the initial sync and mkfs of new volumes (clbuildapp -sync)
    act: bool = True  # False: plan only (plan, drift)
    wait_cap: float | None = None  # look at a wait at most this long (the agent: never block a pass)
    settings: ExecutionSettings = DEFAULT_SETTINGS
    idle_requeue: float | None = None  # CONVERGED / REFUSED: look again after this (the agent)


@dataclass(frozen=True)
class PassContext:
    manifests: ManifestSet
    revision: Revision
    node: str
    host: NodeHost
    placement: PlacementSource
    journal: Journal
    options: PassOptions = field(default_factory=PassOptions)
    observed: Observed | None = None  # an observation already made (the agent's, or a bundle's)
    probed: Probed | None = None  # its probes (files, status commands), the same whatever the placement
    files: HostFiles = field(default_factory=HostFiles)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    progress: Callable[[ProgressEvent], None] | None = None
    on_plan: Callable[[Round], None] | None = None  # shown before execution (apply prints it)
    previous: tuple[str, ...] | None = None  # the pending actions the pass before this one ran


@dataclass(frozen=True)
class PassResult:
    status: PassStatus
    round: Round
    placement: Placement
    observed: Observed
    report: ExecutionReport | None = None
    requeue_after: float | None = None
    stalled: bool = False  # it would run again exactly what the pass before ran: no progress

    @property
    def plan(self) -> Plan:
        return self.round.plan

    @property
    def drift(self) -> list[Drift]:
        return self.round.drift


def probe_apps(runner: Runner, manifests: ManifestSet, node: str, active: dict[str, str]) -> Probed:
    """The facts beside the observation: generated files' contents and `commands` status probes."""
    # Only paths and status commands are read here: the DRBD flavour changes no path.
    desired = desired_node(manifests, node, active, DrbdFlavour.V9)
    files: dict[str, str | None] = {}
    running: dict[str, bool | None] = {}
    unknown: dict[str, str] = {}
    for app in desired.apps:
        paths = [v.config_path for v in app.volumes]
        if app.domain.config_path is not None and app.domain.config is not None:
            paths.append(app.domain.config_path)
        for path in paths:
            result = runner.read(path)
            files[path] = result.stdout if result.ok else None
        if app.domain.config_path is None:
            # Exit 0: running; a non-zero exit: not running; a hang, a missing program or a
            # failure to start it: not known, and so possibly running.
            status = runner.run(app.domain.status)
            running[app.name] = status.ok if status.outcome in (Outcome.OK, Outcome.FAILED) else None
            if running[app.name] is None:
                unknown[app.name] = status.describe()
    return Probed(files=files, running=running, unknown=unknown)


def only(manifests: ManifestSet, apps: set[str]) -> ManifestSet:
    """The manifest set with only the applications named (the cluster document stays whole)."""
    return replace(manifests, applications=tuple(a for a in manifests.applications if a.name in apps))


def reconcile(ctx: PassContext) -> PassResult:
    """One pass for `ctx.node`. Raises `PlacementError` when the placement names what is not there."""
    planned = _plan(ctx)
    stop = _settled(ctx, planned)
    return stop if stop is not None else _act(ctx, planned)


def _plan(ctx: PassContext) -> PassResult:
    observed = ctx.observed if ctx.observed is not None else observe_node(ctx.host, ctx.files)
    placement = ctx.placement.placement(ctx.manifests)
    manifests = only(ctx.manifests, set(placement.active))
    active = dict(placement.active)
    probed = ctx.probed if ctx.probed is not None else probe_apps(ctx.host, manifests, ctx.node, active)
    planned = compute_round(
        manifests,
        revision=ctx.revision,
        observed=observed,
        probed=probed,
        node=ctx.node,
        active=active,
        options=Options(
            allow_destructive=ctx.options.allow_destructive, allow_initial_sync=ctx.options.allow_initial_sync
        ),
        now=ctx.clock(),
    )
    idle = ctx.options.idle_requeue
    return PassResult(PassStatus.CONVERGED, planned, placement, observed, requeue_after=idle)


def _settled(ctx: PassContext, done: PassResult) -> PassResult | None:
    """The result when the pass does not act; None when it should."""
    plan = done.plan
    # A blind observation makes the plan inspectable, not applyable; a refused step (an error)
    # only leaves that step out, and the rest runs.
    if not plan.applyable or (plan.errors and not plan.pending()):
        return replace(done, status=PassStatus.REFUSED)
    if not plan.pending():
        # Drift that nothing here can close waits on something outside this node.
        return replace(done, status=PassStatus.REQUEUE) if done.round.drift else done
    if not ctx.options.act:
        return replace(done, status=PassStatus.REQUEUE, requeue_after=REQUEUE_NOW)
    if ctx.previous == tuple(a.id for a in plan.pending()):
        return replace(done, status=PassStatus.FAILED, stalled=True)
    return None


def _act(ctx: PassContext, planned: PassResult) -> PassResult:
    if ctx.on_plan is not None:
        ctx.on_plan(planned.round)
    options = ctx.options
    limited = capped(planned.plan, options.wait_cap)
    report = run_plan(limited, ctx.host, ctx.journal, settings=options.settings, progress=ctx.progress)
    status = PassStatus.REQUEUE if report.ok else PassStatus.FAILED
    return replace(planned, status=status, report=report, requeue_after=REQUEUE_NOW)


def capped(plan: Plan, wait_cap: float | None) -> Plan:
    """The plan with every wait looked at for at most `wait_cap` seconds: a pass never blocks on a
    resync; the next pass looks again."""
    if wait_cap is None:
        return plan
    actions = tuple(
        a.model_copy(update={"timeout": min(a.timeout, wait_cap)}) if a.wait else a for a in plan.actions
    )
    return plan.model_copy(update={"actions": actions})


def converge(
    ctx: PassContext,
    *,
    rounds: int,
    again: Callable[[PassContext], PassContext] = lambda ctx: replace(ctx, observed=None),
) -> PassResult:
    """Passes until one converges, is refused or fails; the one stopping rule of every command.

    A pass that would run again exactly what the previous one ran makes no progress: it stops as
    FAILED (`stalled`) before acting, rather than loop. `again` gives the next pass's context (by
    default the same with a fresh observation).
    """
    result: PassResult | None = None
    for _ in range(rounds):
        result = reconcile(ctx)
        if result.status is not PassStatus.REQUEUE or result.report is None:
            return result
        ctx = replace(again(ctx), previous=tuple(a.id for a in result.plan.pending()))
    assert result is not None, "rounds must be at least 1"
    return replace(result, status=PassStatus.FAILED)
