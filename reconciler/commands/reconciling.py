"""Commands that compare a node with the manifests: plan (diff), drift; apply in applying.py."""

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler.agent.client import AgentPlacement, agent_running
from reconciler.agent.overrides import OverrideError, OverrideStore, override_drift
from reconciler.commands.common import (
    EXIT_DRIFT,
    EXIT_ERROR,
    EXIT_OK,
    load_or_exit,
    manifest_paths,
    resolve_paths,
)
from reconciler.commands.observing import observed_option
from reconciler.core.desired import PlacementError
from reconciler.core.drift import Drift
from reconciler.core.placement import PlacementSource, StaticPlacement
from reconciler.core.plan.model import Revision
from reconciler.core.plan.report import (
    DriftEntry,
    DriftReport,
    Style,
    plan_report,
    render_drift_markdown,
    render_drift_text,
    render_plan_markdown,
    render_plan_text,
)
from reconciler.core.reconcile import NodeHost, PassContext, PassOptions, PassResult, reconcile
from reconciler.drift_history import load_seen, save_seen, update_seen
from reconciler.execute import Journal, LocalHost, NullJournal, ReadOnlyHost
from reconciler.manifest import ManifestSet
from reconciler.observe.bundle import BundleError, read_bundle, replay
from reconciler.observe.node import HostFiles
from reconciler.observe.runner import ReplayRunner, SubprocessRunner
from reconciler.observe.state import Observed
from reconciler.outputs import HELP as OUTPUT_HELP
from reconciler.outputs import OutputPath, write_output
from reconciler.revision import manifest_revision

FORMATS = click.Choice(["text", "json", "markdown"])


@dataclass(frozen=True)
class CommandContext:
    """What every round command works from: the manifests, this node, and who decides placement."""

    manifests: ManifestSet
    revision: Revision
    node: str
    host: NodeHost
    observed: Observed | None  # a replayed bundle's; None: observe this node at every pass
    placement: PlacementSource
    state_dir: Path
    offline: bool

    def pass_context(self, journal: Journal, options: PassOptions) -> PassContext:
        return PassContext(
            manifests=self.manifests,
            revision=self.revision,
            node=self.node,
            host=self.host,
            placement=self.placement,
            journal=journal,
            options=options,
            observed=self.observed,
            files=HostFiles() if self.offline else HostFiles.from_env(),
        )


def _parse_active(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for value in values:
        app, sep, node = value.partition("=")
        if not sep or not app or not node:
            raise click.BadParameter(f"{value!r}: write APP=NODE", param_hint="--active")
        out[app] = node
    return out


@dataclass(frozen=True)
class Target:
    """Which node, which placement, and from where: the options every round command takes."""

    node: str | None = None
    active: tuple[str, ...] = ()
    bundle: Path | None = None
    state_dir: Path | None = None
    force: bool = False  # ignore a running agent (apply --force): dangerous


def _placement_source(target: Target) -> PlacementSource:
    """The running agent's placement while it answers; `--active` or the preferred nodes otherwise.

    Planning against the agent's decisions would fight it (stop what it started, start what it
    stopped), so with an agent running, `--active` is refused unless `--force` says otherwise.
    """
    static = StaticPlacement(_parse_active(target.active))
    if target.bundle is not None or target.force or not agent_running():
        return static
    if target.active:
        raise click.UsageError(
            "the agent of this node decides where applications run: use `reconciler move APP --to NODE`, "
            "or --force to plan against it (dangerous: it may stop what the agent runs)"
        )
    return AgentPlacement()


def gather(paths: tuple[Path, ...], target: Target) -> CommandContext:
    """Everything a round command needs: manifests, revision, host, placement source."""
    manifests = load_or_exit(paths)
    observed: Observed | None = None
    if target.bundle is None:
        host: NodeHost = LocalHost()
        me = target.node or os.uname().nodename
    else:
        try:
            captured = read_bundle(target.bundle)
        except BundleError as err:
            raise click.ClickException(str(err)) from err
        observed = replay(captured)
        host = ReadOnlyHost(ReplayRunner(captured.results))
        me = target.node or observed.node
    revision = manifest_revision(SubprocessRunner(), manifests.files, resolve_paths(paths)[0])
    where = target.state_dir or Path(
        os.environ.get("RECONCILER_STATE_DIR", manifests.cluster.document.spec.state_dir)
    )
    source = _placement_source(target)
    return CommandContext(
        manifests, revision, me, host, observed, source, where, offline=target.bundle is not None
    )


def compute(ctx: CommandContext, allow_destructive: bool) -> PassResult:
    """The pass, planning only: what `apply` would do now."""
    options = PassOptions(allow_destructive=allow_destructive, act=False)
    try:
        return reconcile(replace(ctx.pass_context(NullJournal(), options), host=ReadOnlyHost(ctx.host)))
    except PlacementError as err:
        raise click.ClickException(str(err)) from err


def style() -> Style:
    if sys.stdout.isatty():
        return lambda text, colour: click.style(text, fg=colour)
    return lambda text, _colour: text


F = TypeVar("F", bound=Callable[..., Any])


def round_options(f: F) -> F:
    for option in reversed(
        (
            manifest_paths,
            click.option("--node", help="Plan for this node (default: this host's name)."),
            click.option(
                "--active",
                "active",
                multiple=True,
                metavar="APP=NODE",
                help="Run APP on NODE (default: its preferred node). Repeatable.",
            ),
            observed_option,
            click.option(
                "--state-dir",
                type=click.Path(file_okay=False, path_type=Path),
                help="Where drift history and the journal live (default: the cluster's stateDir).",
            ),
            click.option(
                "--force",
                is_flag=True,
                help="DANGEROUS: ignore this node's running agent and plan for --active or the preferred "
                "nodes; it may stop what the agent runs.",
            ),
        )
    ):
        f = option(f)
    return f


@click.command("plan")
@round_options
@click.option("--allow-destructive", is_flag=True, help="Also plan steps that destroy data (marked as such).")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option("--out", type=OutputPath(), help=f"Save the plan for `apply FILE`; {OUTPUT_HELP}")
def plan_command(
    paths: tuple[Path, ...],
    node: str | None,
    active: tuple[str, ...],
    bundle: Path | None,
    state_dir: Path | None,
    force: bool,
    allow_destructive: bool,
    fmt: str,
    out: Path | None,
) -> None:
    """Show what `apply` would do on this node, and why. Exit 0 in sync, 2 drift, 1 error."""
    ctx = gather(paths, Target(node, active, bundle, state_dir, force))
    result = compute(ctx, allow_destructive)
    report = plan_report(result.plan, result.drift)
    if fmt == "json":
        click.echo(report.model_dump_json(indent=2))
    elif fmt == "markdown":
        click.echo(render_plan_markdown(report), nl=False)
    else:
        click.echo(render_plan_text(report, style()))
    if out is not None:
        write_output(out, result.plan.model_dump_json(indent=2) + "\n")
        click.echo(f"Saved the plan to {out}; run `reconciler apply {out}` to carry it out.", err=True)
    sys.exit(
        EXIT_ERROR if result.plan.errors else EXIT_DRIFT if result.drift or result.plan.pending() else EXIT_OK
    )


@click.command("drift")
@round_options
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
def drift_command(
    paths: tuple[Path, ...],
    node: str | None,
    active: tuple[str, ...],
    bundle: Path | None,
    state_dir: Path | None,
    force: bool,
    fmt: str,
) -> None:
    """What differs from the manifests on this node, and since when. Exit 0 in sync, 2 drift, 1 error."""
    ctx = gather(paths, Target(node, active, bundle, state_dir, force))
    result = compute(ctx, allow_destructive=False)
    now = datetime.now(UTC)
    drift = [*result.drift, *_overrides(ctx)]
    seen = update_seen({} if ctx.offline else load_seen(ctx.state_dir), drift, now)
    if not ctx.offline:
        _save_history(ctx.state_dir, seen)
    report = DriftReport(
        node=ctx.node,
        generated_at=now,
        revision=ctx.revision,
        entries=tuple(DriftEntry(drift=d, first_seen=seen[d.key]) for d in drift),
    )
    if fmt == "json":
        click.echo(report.model_dump_json(indent=2))
    elif fmt == "markdown":
        click.echo(render_drift_markdown(report), nl=False)
    else:
        click.echo(render_drift_text(report, style()))
    failed = any(d.code.value == "OBSERVATION_FAILED" for d in drift)
    sys.exit(EXIT_ERROR if failed else EXIT_DRIFT if drift else EXIT_OK)


def _overrides(ctx: CommandContext) -> list[Drift]:
    """The operators' overrides that the agent keeps on this node (none offline)."""
    if ctx.offline:
        return []
    try:
        return override_drift(ctx.manifests, OverrideStore(ctx.state_dir).load())
    except OverrideError as err:
        click.echo(f"warning: {err}", err=True)
        return []


def _save_history(state_dir: Path, seen: dict[str, datetime]) -> None:
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        save_seen(state_dir, seen)
    except OSError as err:
        click.echo(f"warning: drift history not saved in {state_dir}: {err.strerror}", err=True)
