"""What the commands share: manifest paths, loading with a clean exit, the exit codes."""

import os
import sys
from pathlib import Path

import click

from reconciler.manifest import ManifestError, ManifestSet, load_manifests

DEFAULT_MANIFESTS = Path(os.environ.get("RECONCILER_MANIFESTS", "/etc/reconciler/manifests"))
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_DRIFT = 2  # as terraform plan -detailed-exitcode: 0 in sync, 2 changes, 1 error

manifest_paths = click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="[PATH]...")


def resolve_paths(paths: tuple[Path, ...]) -> list[Path]:
    return list(paths) or [DEFAULT_MANIFESTS]


def load_or_exit(paths: tuple[Path, ...]) -> ManifestSet:
    try:
        return load_manifests(resolve_paths(paths))
    except ManifestError as err:
        click.echo(err.render_text(), err=True)
        click.echo(f"\n{len(err.diagnostics)} error(s) in the manifests; nothing was done.", err=True)
        sys.exit(EXIT_ERROR)
