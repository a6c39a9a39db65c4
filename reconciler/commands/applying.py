"""`reconciler apply`: converge this node on the manifests, or carry out a saved plan.

Without a saved plan, apply works in rounds: observe, plan, execute, and again, until a round
plans nothing (converged) or stops making progress. A round's plan is what `plan` shows; a
resource brought up in one round is promoted in the next, on the state it then shows.
"""

import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import click
from pydantic import ValidationError

from reconciler.commands.common import EXIT_ERROR, EXIT_OK
from reconciler.commands.reconciling import CommandContext, Target, compute, gather, round_options, style
from reconciler.commands.selection import only_apps
from reconciler.core.desired import PlacementError
from reconciler.core.plan.model import ActionKind, Plan
from reconciler.core.plan.report import plan_report, render_plan_text
from reconciler.core.reconcile import PassOptions, PassResult, PassStatus, converge
from reconciler.core.round import Round
from reconciler.execute import (
    ActionStatus,
    Busy,
    EventKind,
    ExecutionReport,
    Journal,
    LocalHost,
    PlanRefused,
    ProgressEvent,
    StalePlan,
    check_fresh,
    execute,
    node_lock,
)

MAX_ROUNDS = 10
LOCK_WAIT = 30.0  # seconds to wait for a pass of the agent to end
JOURNAL = "journal.jsonl"


def _progress(plan: Plan) -> Callable[[ProgressEvent], None]:
    estimates = {a.id: a.estimate for a in plan.actions if a.estimate}

    def show(event: ProgressEvent) -> None:
        _show(event, estimates.get(event.action))

    return show


def _show(event: ProgressEvent, estimate: float | None) -> None:
    where = f"[{event.index}/{event.total}] {event.action}"
    if event.event is EventKind.STARTED:
        click.echo(f"{where} ...")
    elif event.event is EventKind.RETRYING:
        click.echo(f"{where}: attempt {event.attempt} failed ({event.message}); again in {event.delay:.0f}s")
    elif event.event is EventKind.WAITING:
        _waiting(event, where, estimate)
    elif event.status is not None:
        if sys.stdout.isatty():
            click.echo()
        detail = f": {event.message}" if event.message else ""
        click.echo(f"{where}: {event.status.value} ({event.elapsed:.1f}s){detail}")


def _waiting(event: ProgressEvent, where: str, estimate: float | None) -> None:
    if event.kind is ActionKind.WAIT_SYNC and estimate:
        # The bar runs at the declared sync rate; the resync itself may be faster or slower.
        share = min(event.elapsed / estimate, 0.99)
        bar = "#" * int(share * 30)
        left = max(estimate - event.elapsed, 0)
        text = (
            f"{where}: [{bar:<30}] {share:.0%} at the declared rate, ~{left:.0f}s left "
            f"(gives up after {event.timeout:.0f}s), disk {event.stdout}"
        )
    else:
        text = f"{where}: waiting {event.elapsed:.0f}s of {event.timeout:.0f}s ({event.stdout or 'not yet'})"
    if sys.stdout.isatty():
        click.echo(f"\r{text}", nl=False)
    else:
        click.echo(text)


def _failures(report: ExecutionReport) -> int:
    failed = report.with_status(ActionStatus.FAILED)
    for a in failed:
        click.echo(style()(f"failed: {a.id}: {a.message}", "red"), err=True)
    for a in report.with_status(ActionStatus.BLOCKED):
        click.echo(f"not run: {a.id} ({a.message})", err=True)
    return len(failed)


def _apply_saved(saved: Path, ctx: CommandContext) -> int:
    try:
        plan = Plan.model_validate_json(saved.read_text())
    except (OSError, ValidationError) as err:
        raise click.ClickException(f"{saved}: not a saved plan ({err})") from err
    fresh = compute(ctx, plan.allow_destructive)
    try:
        check_fresh(plan, fresh.plan.revision, fresh.plan.observation_digest)
    except StalePlan as err:
        raise click.ClickException(f"{err}; run `reconciler plan --out FILE` again") from err
    try:
        report = execute(plan, LocalHost(), Journal(ctx.state_dir / JOURNAL), progress=_progress(plan))
    except PlanRefused as err:
        raise click.ClickException(str(err)) from err
    return EXIT_OK if _failures(report) == 0 and report.ok else EXIT_ERROR


def _finished(result: PassResult) -> int:
    """How the rounds ended: converged, refused, stalled, failed, or waiting on something outside."""
    for error in result.plan.errors:
        click.echo(style()(f"Error: {error}", "red"), err=True)
    if result.stalled:
        click.echo("This round would repeat the one before: no progress, stopping.", err=True)
        return EXIT_ERROR
    if result.report is not None and (_failures(result.report) or not result.report.ok):
        return EXIT_ERROR
    if result.status is PassStatus.FAILED:
        click.echo(f"Not converged after {MAX_ROUNDS} rounds.", err=True)
        return EXIT_ERROR
    if result.status is PassStatus.REFUSED:
        if not result.plan.applyable:
            click.echo(render_plan_text(plan_report(result.plan, result.drift), style()))
        click.echo("Stopped: what remains is refused (see above).")
        return EXIT_ERROR
    if result.drift:
        left = ", ".join(sorted({d.code.value for d in result.drift}))
        click.echo(f"Done for now: nothing more to do here; still differing: {left}.")
    else:
        click.echo("Converged: the node is as declared.")
    return EXIT_OK


def _apply_rounds(ctx: CommandContext, options: PassOptions) -> int:
    """Rounds of the pass, each shown before it acts, until it converges or stops."""
    numbers = iter(range(1, MAX_ROUNDS + 1))
    estimates: dict[str, float] = {}

    def show(planned: Round) -> None:
        estimates.clear()
        estimates.update({a.id: a.estimate for a in planned.plan.actions if a.estimate})
        click.echo(f"--- round {next(numbers)}")
        click.echo(render_plan_text(plan_report(planned.plan, planned.drift), style()))

    def progress(event: ProgressEvent) -> None:
        _show(event, estimates.get(event.action))

    journal = Journal(ctx.state_dir / JOURNAL)
    first = ctx.pass_context(journal, options)
    try:
        result = converge(replace(first, on_plan=show, progress=progress), rounds=MAX_ROUNDS)
    except (PlacementError, PlanRefused) as err:
        raise click.ClickException(str(err)) from err
    return _finished(result)


@click.command("apply")
@round_options
@click.option("--allow-destructive", is_flag=True, help="Allow steps that destroy data (each is marked).")
@click.option(
    "--initial-sync",
    is_flag=True,
    help="Allow only the first build of new volumes: the initial sync that overwrites the peer, and the "
    "mkfs of the empty device (clbuildapp -sync).",
)
@click.option("--app", "apps", multiple=True, metavar="APP", help="Act on APP only; repeatable.")
def apply_command(
    paths: tuple[Path, ...],
    node: str | None,
    active: tuple[str, ...],
    bundle: Path | None,
    state_dir: Path | None,
    force: bool,
    allow_destructive: bool,
    initial_sync: bool = False,
    apps: tuple[str, ...] = (),
) -> None:
    """Converge this node on the manifests, in rounds of observe, plan, execute.

    While this node's agent runs, apply follows the agent's placement (asked at every round) and
    holds the lock the agent's passes take, so the two never act at once.

    Given a saved plan (a .json file from `plan --out`), carry out exactly that plan, refused when
    the manifests or the node changed since it was made. Manifest PATHs are .yaml/.yml.
    """
    if bundle is not None:
        raise click.UsageError("apply acts on this node: --observed is for plan and drift")
    saved = [p for p in paths if p.suffix == ".json"]
    manifests = tuple(p for p in paths if p.suffix != ".json")
    if len(saved) > 1:
        raise click.UsageError("give one saved plan")
    if apps and saved:
        raise click.UsageError("--app is for rounds: a saved plan is carried out as it is")
    ctx = gather(manifests, Target(node, active, None, state_dir, force))
    ctx = replace(ctx, placement=only_apps(ctx.placement, ctx.manifests, apps))
    try:
        ctx.state_dir.mkdir(parents=True, exist_ok=True)
        with node_lock(ctx.state_dir, wait=LOCK_WAIT):
            options = PassOptions(allow_destructive=allow_destructive, allow_initial_sync=initial_sync)
            code = _apply_saved(saved[0], ctx) if saved else _apply_rounds(ctx, options)
    except Busy as err:
        raise click.ClickException(str(err)) from err
    except OSError as err:
        raise click.ClickException(f"state directory {ctx.state_dir}: {err.strerror}") from err
    sys.exit(code)
