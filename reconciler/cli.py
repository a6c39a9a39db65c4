"""The `reconciler` command line: one group, its commands in reconciler/commands/.

The group is where bad input ends: a usage error exits 1 for every command (click's own 2 is
`plan`'s and `drift`'s "drift"), and an exception no command expected prints one line (what,
where, a hint) and exits 1; `--debug` (or RECONCILER_DEBUG=1) shows its traceback instead.
"""

import os
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from reconciler import __version__
from reconciler.commands import agent, applying, manifests, observing, reconciling
from reconciler.commands.common import EXIT_ERROR, Command, usage_exits_1
from reconciler.inputs import InputError
from reconciler.lab.commands import lab as lab_group
from reconciler.lab.simulate import simulate_command
from reconciler.linuxha.cli import register as register_linuxha_import
from reconciler.outputs import OutputError

_PACKAGE = Path(__file__).resolve().parent
_PASSED_ON = (click.ClickException, click.exceptions.Exit, click.Abort, BrokenPipeError)


class ReconcilerGroup(Command, click.Group):
    """The top group: usage errors exit 1; an unexpected exception is one line, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as err:
            usage_exits_1(err)
            raise
        except _PASSED_ON:
            raise
        except (InputError, OutputError) as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(EXIT_ERROR)
        except Exception as err:
            if ctx.params.get("debug") or os.environ.get("RECONCILER_DEBUG") == "1":
                raise
            click.echo(last_resort(err, ctx.invoked_subcommand), err=True)
            sys.exit(EXIT_ERROR)


def last_resort(err: BaseException, command: str | None) -> str:
    """One line for an exception nothing else handled: what, where in the code, and a hint."""
    what = " ".join(str(err).split())[:300] or "(no message)"
    frames = traceback.extract_tb(err.__traceback__)
    ours = [f for f in frames if _is_ours(f.filename)]
    chosen = ours or frames
    where = f" at {_short(chosen[-1].filename)}:{chosen[-1].lineno}" if chosen else ""
    if isinstance(err, RecursionError):
        hint = "the input is nested too deeply for this command"
    elif isinstance(err, MemoryError):
        hint = "the input is too large for this command"
    elif isinstance(err, OSError):
        hint = "check the path named and its permissions"
    else:
        hint = "this is a bug: please report it with the traceback"
    name = f"reconciler {command}" if command else "reconciler"
    return f"error: {name}: {type(err).__name__}: {what}{where}; hint: {hint} (--debug shows the traceback)"


def _is_ours(filename: str) -> bool:
    """A frame of reconciler's own code, other than this module (where every command passes)."""
    path = Path(filename).resolve()
    return _PACKAGE in path.parents and path != Path(__file__).resolve()


def _short(filename: str) -> str:
    path = Path(filename).resolve()
    return str(path.relative_to(_PACKAGE.parent)) if path.is_relative_to(_PACKAGE) else filename


@click.group(cls=ReconcilerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected error instead of one line.")
def main(debug: bool) -> None:
    """Declarative high availability for two-node DRBD clusters.

    Manifests (YAML, kept in git) declare the cluster and its applications; PATH is a manifest file
    or a directory of them (default: $RECONCILER_MANIFESTS or /etc/reconciler/manifests).
    """


for command in (
    manifests.validate,
    manifests.describe_command,
    manifests.schema,
    observing.observe,
    observing.capture_command,
    reconciling.plan_command,
    reconciling.drift_command,
    applying.apply_command,
):
    main.add_command(command)
main.add_command(reconciling.plan_command, name="diff")
for command in agent.COMMANDS:
    main.add_command(command)
register_linuxha_import(main)
lab_group.add_command(simulate_command)
main.add_command(lab_group)
