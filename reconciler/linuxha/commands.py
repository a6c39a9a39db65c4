"""linuxha.net's commands, kept: `clstat`, `clstartapp`, `clhaltapp`, `clbuildapp`.

Console scripts over the new commands, so that an operator's habits and scripts keep working:
- `clstat` asks this node's agent for its status and prints it in clstat's own layout (the
  seed's `clstat` output, tests/fixtures/linuxha/clstat-four-apps.txt), column for column;
- `clstartapp -A APP` is `reconciler start APP`, `clhaltapp -A APP` is `reconciler stop APP`;
- `clbuildapp -A APP [-sync]` is `reconciler apply --app APP` on this node: APP alone is built,
  every other application is left as it is. With `-sync` the initial sync that overwrites the
  peer is allowed, as clbuildapp's -sync forced it, and the mkfs of the new volume: `apply
  --initial-sync`, no other destructive step.
"""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from reconciler.agent.control import Request
from reconciler.commands.agent import ask
from reconciler.commands.applying import apply_command
from reconciler.commands.common import Command
from reconciler.render.clstat import ClstatRow, ClstatSection, ClstatTable, clstat_row, render_clstat_table

NOT_AVAILABLE = "N/A"


def _ask(command: str, app: str | None = None) -> dict[str, Any]:
    return ask(Request(command=command, app=app)).data


def _uptime(since: str, now: datetime) -> str:
    seconds = max(0, int((now - datetime.fromisoformat(since)).total_seconds()))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _app_row(name: str, app: dict[str, Any], now: datetime) -> ClstatRow:
    failover = "Yes" if app["failover_allowed"] else "No"
    na = NOT_AVAILABLE
    # clstat's columns as the seed's output shows them (a row of DOWN has the N/A columns one
    # space narrower than the values of a started row).
    if app["node"] is None:
        return clstat_row((name, 13), (na, 11), ("DOWN", 8), (na, 9), (na, 9), (na, 9), (failover, 0))
    monitor = "Paused" if app["monitors"]["paused"] else "Running"
    stale = len(app["monitors"]["failing"])
    started = _uptime(app["since"], now)
    return clstat_row(
        (name, 13), (app["node"], 11), ("STARTED", 8), (started, 9), (monitor, 11), (stale, 7), (failover, 0)
    )


def render_clstat(status: dict[str, Any], now: datetime) -> str:
    """`clstat`'s layout, from `reconciler status --json`."""
    up = any(node["up"] for node in status["nodes"].values())
    nodes = tuple(
        clstat_row((name, 15), ("UP" if status["nodes"][name]["up"] else "DOWN", 0))
        for name in sorted(status["nodes"])
    )
    apps = tuple(_app_row(name, app, now) for name, app in sorted(status["applications"].items()))
    return render_clstat_table(
        ClstatTable(
            title=f"Cluster: {status['cluster']} - {'UP' if up else 'DOWN'}",
            nodes=ClstatSection("      Node      Status", nodes),
            applications=ClstatSection(
                "Application    Node      State   Started  Monitor  Stale  Fail-over?", apps, indent="  "
            ),
        )
    )


@click.command("clstat", cls=Command)
def clstat() -> None:
    """The cluster, its nodes and applications, in linuxha.net's clstat layout."""
    click.echo(render_clstat(_ask("status"), datetime.now(UTC)))


app_option = click.option("-A", "app", required=True, metavar="APP", help="The application.")


@click.command("clstartapp", cls=Command)
@app_option
def clstartapp(app: str) -> None:
    """Start APP where the manifests place it (`reconciler start APP`)."""
    click.echo(_ask("start", app)["message"])


@click.command("clhaltapp", cls=Command)
@app_option
def clhaltapp(app: str) -> None:
    """Stop APP on both nodes (`reconciler stop APP`); `clstartapp` starts it again."""
    click.echo(_ask("stop", app)["message"])


@click.command("clbuildapp", cls=Command)
@app_option
@click.option(
    "-sync",
    "sync",
    is_flag=True,
    help="Allow the initial sync that overwrites the peer's data, and the mkfs of the new volume; "
    "no other destructive step.",
)
@click.option(
    "--manifests",
    type=click.Path(path_type=Path, exists=True),
    default=None,
    help="Default: $RECONCILER_MANIFESTS or /etc/reconciler/manifests.",
)
def clbuildapp(app: str, sync: bool, manifests: Path | None) -> None:
    """Build APP's storage on this node (`reconciler apply --app APP`); -sync allows the initial sync."""
    args = [str(manifests)] if manifests is not None else []
    args += ["--app", app]
    if sync:
        args.append("--initial-sync")
    click.echo(f"clbuildapp -A {app}: reconciler apply {' '.join(args)}".rstrip())
    apply_command.main(args=args, prog_name="reconciler apply")


def main_clstat() -> None:
    clstat(prog_name="clstat")


def main_clstartapp() -> None:
    clstartapp(prog_name="clstartapp")


def main_clhaltapp() -> None:
    clhaltapp(prog_name="clhaltapp")


def main_clbuildapp() -> None:
    clbuildapp(prog_name="clbuildapp")
