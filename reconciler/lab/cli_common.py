"""What the `reconciler lab` commands share: the lab's options, finding the lab, and errors.

Every lab command needs root and says so; a LabError (a missing lab, a failed `ip` with its
stderr) is one message and exit 1, never a traceback.
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from reconciler.commands.common import DEFAULT_MANIFESTS, EXIT_ERROR
from reconciler.lab import lab as labs
from reconciler.lab.errors import LabError
from reconciler.lab.inventory import Lab, default_root, open_lab

# A source checkout (or an editable install) has the seed's manifests beside the package.
_PROJECT_MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
DEFAULT_LAB_MANIFESTS = _PROJECT_MANIFESTS if _PROJECT_MANIFESTS.is_dir() else DEFAULT_MANIFESTS

lab_id_option = click.option("--id", "lab_id", metavar="ID", help="The lab (default: the only one there is).")


@contextmanager
def reporting() -> Iterator[None]:
    """Check for root, and turn a LabError into one message on stderr and exit 1."""
    try:
        labs.require_root()
        yield
    except LabError as err:
        click.echo(f"lab: {err}", err=True)
        sys.exit(EXIT_ERROR)


def lab_root(ctx: click.Context) -> Path:
    root = ctx.meta.get("lab_root")
    return root if isinstance(root, Path) else default_root()


def open_from(ctx: click.Context, lab_id: str | None) -> Lab:
    return open_lab(lab_root(ctx), lab_id)
