"""Commands that look at a node: observe (and --parse), capture."""

import os
import sys
from pathlib import Path
from typing import NoReturn

import click

from reconciler.commands.common import EXIT_ERROR, load_or_exit
from reconciler.core.desired import PlacementError, placement
from reconciler.core.reconcile import probe_apps
from reconciler.inputs import STDIN, InputError, check_output_depth, read_tool_output
from reconciler.observe import KINDS, ParseError, UnknownKind, parse
from reconciler.observe.bundle import BundleError, capture, read_bundle, replay, write_bundle
from reconciler.observe.facts import Fact
from reconciler.observe.node import HostFiles, observe_node
from reconciler.observe.report import render_observed
from reconciler.observe.runner import Runner, SubprocessRunner
from reconciler.observe.state import Observed
from reconciler.outputs import HELP as OUTPUT_HELP
from reconciler.outputs import OutputError, OutputPath

observed_option = click.option(
    "--observed",
    "bundle",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Replay a support bundle (from `capture`) instead of looking at this node.",
)


@click.command()
@click.option(
    "--parse", "kind", metavar="KIND", help="Parse one captured output FILE as KIND and print it as JSON."
)
@click.argument("file", required=False)
@observed_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def observe(kind: str | None, file: str | None, bundle: Path | None, fmt: str) -> None:
    """Show what is really on this node (LVM, DRBD, domains, addresses, mounts, load).

    With --parse KIND FILE ('-' for standard input), parse one tool output instead; kinds:
    lvs-json, drbd-status-json, proc-drbd-84, xl-list, xen-config, ip-addr-json, mountinfo, ...
    FILE may be a pipe; its size and nesting are limited (docs/limits.md).
    """
    if kind is not None:
        _parse_one(kind, file)
        return
    if file is not None:
        raise click.UsageError("FILE is only for --parse KIND FILE")
    observed = observed_node(bundle)
    click.echo(observed.model_dump_json(indent=2) if fmt == "json" else render_observed(observed))


def _parse_one(kind: str, file: str | None) -> None:
    if file is None:
        raise click.UsageError("--parse KIND needs a FILE (or '-' for standard input)")
    if kind not in KINDS:
        raise click.UsageError(str(UnknownKind(kind)))
    display = "standard input" if file == STDIN else file
    try:
        fact = parse_guarded(kind, read_tool_output(file, kind), display)
    except InputError as err:
        _fail(f"cannot read as {kind}: {err}")
    except ParseError as err:
        _fail(f"{display}: cannot parse as {err}")
    click.echo(fact.model_dump_json(indent=2))


def parse_guarded(kind: str, text: str, display: str) -> Fact:
    """`parse`, with the output's nesting checked first (`check_output_depth`), and a parser that
    runs out of stack (RecursionError, or MemoryError from Python's own parser) turned into an
    InputError; ParseError as `parse` raises it."""
    check_output_depth(kind, text, display)
    try:
        return parse(kind, text)
    except (RecursionError, MemoryError):
        message, hint = "nested too deeply to be parsed", "see docs/limits.md"
        raise InputError(display, "too-deep", message, hint=hint) from None


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(EXIT_ERROR)


def observed_node(bundle: Path | None) -> Observed:
    if bundle is None:
        return observe_node(SubprocessRunner(), HostFiles.from_env())
    try:
        return replay(read_bundle(bundle))
    except BundleError as err:
        raise click.ClickException(str(err)) from err


@click.command("capture")
@click.option(
    "-o",
    "--output",
    type=OutputPath(),
    help=f"Where to write the bundle (default: reconciler-NODE-TIME.tar.gz here); {OUTPUT_HELP}",
)
@click.option("--node", help="This node's name in the manifests (default: the host name).")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="[PATH]...")
def capture_command(output: Path | None, node: str | None, paths: tuple[Path, ...]) -> None:
    """Write a support bundle: every raw output of one observation pass, and the tools' versions.

    With manifest PATHs, the bundle also holds the applications' generated files as they are on
    this node, so that `plan --observed BUNDLE PATH` replays everything `plan` reads. Any command
    that observes replays a bundle with --observed BUNDLE, on any machine.
    """
    also = None
    if paths:
        manifests = load_or_exit(paths)
        me = node or os.uname().nodename

        def also(runner: Runner) -> object:
            return probe_apps(runner, manifests, me, placement(manifests, {}))

    try:
        observed, bundle = capture(SubprocessRunner(), HostFiles.from_env(), also)
    except PlacementError as err:
        raise click.ClickException(f"{err}; give this node's name with --node") from err
    path = output or Path(f"reconciler-{observed.node}-{observed.taken_at:%Y%m%dT%H%M%SZ}.tar.gz")
    try:
        write_bundle(bundle, path)
    except OutputError as err:
        raise click.ClickException(str(err)) from None
    failed = f", {len(observed.errors)} section(s) failed" if observed.errors else ""
    summary = f"wrote {path}: {len(bundle.results)} outputs from {observed.node}{failed}"
    click.echo(summary, err=str(path) == "-")  # a bundle on standard output stays alone there
