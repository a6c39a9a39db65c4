"""The `reconciler` command line."""

import os
import sys
from pathlib import Path
from typing import TextIO

import click

from reconciler import __version__
from reconciler.describe import describe
from reconciler.manifest import ManifestError, ManifestSet, load_manifests
from reconciler.manifest import schema as manifest_schema
from reconciler.observe import ParseError, UnknownKind, parse
from reconciler.observe.bundle import BundleError, capture, read_bundle, replay, write_bundle
from reconciler.observe.node import HostFiles, observe_node
from reconciler.observe.report import render_observed
from reconciler.observe.runner import SubprocessRunner
from reconciler.observe.state import Observed

DEFAULT_MANIFESTS = Path(os.environ.get("RECONCILER_MANIFESTS", "/etc/reconciler/manifests"))
EXIT_INVALID = 1

manifest_paths = click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="[PATH]...")


def _paths(paths: tuple[Path, ...]) -> list[Path]:
    return list(paths) or [DEFAULT_MANIFESTS]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
def main() -> None:
    """Declarative high availability for two-node DRBD clusters.

    Manifests (YAML, kept in git) declare the cluster and its applications; PATH is a manifest file
    or a directory of them (default: $RECONCILER_MANIFESTS or /etc/reconciler/manifests).
    """


@main.command()
@manifest_paths
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: a stable list of errors for CI bots.",
)
def validate(paths: tuple[Path, ...], fmt: str) -> None:
    """Check manifests; print every error with file:line. Exit 0 if valid, 1 if not."""
    try:
        manifests = load_manifests(_paths(paths))
    except ManifestError as err:
        click.echo(err.render_json() if fmt == "json" else err.render_text())
        if fmt == "text":
            click.echo(f"\n{len(err.diagnostics)} error(s); nothing was changed.", err=True)
        sys.exit(EXIT_INVALID)
    if fmt == "json":
        click.echo('{\n  "valid": true,\n  "errors": []\n}')
    else:
        apps = len(manifests.applications)
        click.echo(
            f"valid: {len(manifests.files)} file(s), cluster {manifests.cluster.document.metadata.name}, "
            f"{apps} application(s)"
        )


@main.command("describe")
@manifest_paths
def describe_command(paths: tuple[Path, ...]) -> None:
    """Summarise what the manifests declare (no host is looked at)."""
    click.echo(describe(_load_or_exit(paths)))


@main.command()
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("schemas"),
    show_default=True,
    help="Directory to write the schemas into.",
)
def schema(out: Path) -> None:
    """Write the JSON Schemas of the manifest documents (for editors and CI)."""
    for path in manifest_schema.write(out):
        click.echo(f"wrote {path}")


@main.command()
@click.option(
    "--parse", "kind", metavar="KIND", help="Parse one captured output FILE as KIND and print it as JSON."
)
@click.argument("file", required=False, type=click.File("r"))
@click.option(
    "--observed",
    "bundle",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Replay a support bundle (from `capture`) instead of looking at this node.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def observe(kind: str | None, file: TextIO | None, bundle: Path | None, fmt: str) -> None:
    """Show what is really on this node (LVM, DRBD, domains, addresses, mounts, load).

    With --parse KIND FILE ('-' for standard input), parse one tool output instead; kinds:
    lvs-json, drbd-status-json, proc-drbd-84, xl-list, xen-config, ip-addr-json, mountinfo, ...
    """
    if kind is not None:
        _parse_one(kind, file)
        return
    if file is not None:
        raise click.UsageError("FILE is only for --parse KIND FILE")
    observed = _observed(bundle)
    click.echo(observed.model_dump_json(indent=2) if fmt == "json" else render_observed(observed))


def _parse_one(kind: str, file: TextIO | None) -> None:
    if file is None:
        raise click.UsageError("--parse KIND needs a FILE (or '-' for standard input)")
    try:
        fact = parse(kind, file.read())
    except UnknownKind as err:
        raise click.UsageError(str(err)) from err
    except ParseError as err:
        click.echo(f"{file.name}: cannot parse as {err}", err=True)
        sys.exit(EXIT_INVALID)
    click.echo(fact.model_dump_json(indent=2))


def _observed(bundle: Path | None) -> Observed:
    if bundle is None:
        return observe_node(SubprocessRunner(), HostFiles.from_env())
    try:
        return replay(read_bundle(bundle))
    except BundleError as err:
        raise click.ClickException(str(err)) from err


@main.command("capture")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the bundle (default: reconciler-NODE-TIME.tar.gz here).",
)
def capture_command(output: Path | None) -> None:
    """Write a support bundle: every raw output of one observation pass, and the tools' versions.

    Any command that observes replays it with --observed BUNDLE, on any machine.
    """
    observed, bundle = capture(SubprocessRunner(), HostFiles.from_env())
    path = output or Path(f"reconciler-{observed.node}-{observed.taken_at:%Y%m%dT%H%M%SZ}.tar.gz")
    write_bundle(bundle, path)
    failed = f", {len(observed.errors)} section(s) failed" if observed.errors else ""
    click.echo(f"wrote {path}: {len(bundle.results)} outputs from {observed.node}{failed}")


def _load_or_exit(paths: tuple[Path, ...]) -> ManifestSet:
    try:
        return load_manifests(_paths(paths))
    except ManifestError as err:
        click.echo(err.render_text(), err=True)
        click.echo(f"\n{len(err.diagnostics)} error(s) in the manifests; nothing was done.", err=True)
        sys.exit(EXIT_INVALID)
