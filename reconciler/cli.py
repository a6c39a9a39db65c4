"""The `reconciler` command line."""

import os
import sys
from pathlib import Path

import click

from reconciler import __version__
from reconciler.describe import describe
from reconciler.manifest import ManifestError, ManifestSet, load_manifests
from reconciler.manifest import schema as manifest_schema

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


def _load_or_exit(paths: tuple[Path, ...]) -> ManifestSet:
    try:
        return load_manifests(_paths(paths))
    except ManifestError as err:
        click.echo(err.render_text(), err=True)
        click.echo(f"\n{len(err.diagnostics)} error(s) in the manifests; nothing was done.", err=True)
        sys.exit(EXIT_INVALID)
