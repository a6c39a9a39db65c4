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


def usage_exits_1(err: click.UsageError) -> None:
    """A usage error exits 1, as every error does: 2 means "the node differs" for plan and drift.
    `exit_code` is a class attribute of click's exceptions; this one instance is changed."""
    vars(err)["exit_code"] = EXIT_ERROR


class Command(click.Command):
    """A command whose usage errors exit 1: the `cl*` ones, and (as a base) the top group."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: object
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as err:
            usage_exits_1(err)
            raise
