"""`reconciler agent` and the operator's commands that talk to it over its socket.

`status` is the successor of linuxha.net's `clstat`: the cluster, both nodes, and per application
where it runs, its state and since when, its monitors, failures and whether a failover is
possible. `move`, `stop`, `start` and `maintenance` are recorded as desired state on both nodes
(until cleared, `drift` shows them as deviations from git); `explain` says why an application
runs where it runs, with the agent's last decisions about it.
"""

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from reconciler.agent.control import ControlError, Request, Response, call
from reconciler.agent.loop import Agent, AgentConfig
from reconciler.agent.overrides import OverrideError
from reconciler.arbiter.keyfile import KeyFileError
from reconciler.arbiter.lease import LeaseError
from reconciler.arbiter.links import LinkError
from reconciler.commands.common import EXIT_ERROR, resolve_paths
from reconciler.manifest import ManifestError
from reconciler.render.clstat import ClstatRow, ClstatSection, ClstatTable, clstat_row, render_clstat_table

socket_option = click.option(
    "--socket",
    "socket_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The agent's control socket (default: $RECONCILER_AGENT_SOCKET or /run/reconciler/agent.sock).",
)


def ask(request: Request, socket_path: Path | None = None) -> Response:
    """The agent's answer; a clear message and exit 1 when it cannot be reached or refuses."""
    try:
        response = call(request, socket_path)
    except ControlError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(EXIT_ERROR)
    if not response.ok:
        click.echo(f"error: {response.error}", err=True)
        sys.exit(EXIT_ERROR)
    return response


@click.command("agent")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, exists=True))
@click.option("--state-dir", type=click.Path(path_type=Path, file_okay=False), default=None)
@socket_option
@click.option(
    "--interval",
    type=click.FloatRange(min=0.5),
    default=5.0,
    show_default=True,
    help="Seconds between passes.",
)
def agent_command(
    paths: tuple[Path, ...], state_dir: Path | None, socket_path: Path | None, interval: float
) -> None:
    """Run this node's agent in the foreground: converge, arbitrate with the peer, monitor, fail over.

    One JSON line per decision on stdout. Stops on SIGTERM or SIGINT (what runs stays running).
    """
    config = AgentConfig(tuple(resolve_paths(paths)), state_dir, socket_path, pass_interval=interval)
    try:
        agent = Agent(config)
    except ManifestError as err:
        click.echo(err.render_text(), err=True)
        sys.exit(EXIT_ERROR)
    except (KeyFileError, LinkError, ControlError, OverrideError, LeaseError, OSError) as err:
        click.echo(f"agent: {err}", err=True)
        sys.exit(EXIT_ERROR)
    sys.exit(agent.run())


APPLICATIONS_HEADING = (
    "Application  Node        State        Since                      Failures  Failover  Monitors"
)


def render_status(data: dict[str, Any]) -> str:
    """clstat's table: the cluster and its nodes, then one line per application."""
    nodes = tuple(_node_row(name, node) for name, node in data["nodes"].items())
    apps = tuple(_app_row(app, info) for app, info in data["applications"].items())
    return render_clstat_table(
        ClstatTable(
            title=f"Cluster: {data['cluster']}   (as node {data['node']} sees it)",
            nodes=ClstatSection("Node        State  Detail", nodes, separator=" "),
            applications=ClstatSection(APPLICATIONS_HEADING, apps, separator=" "),
        )
    )


def _node_row(name: str, node: dict[str, Any]) -> ClstatRow:
    state = "UP" if node["up"] else "DOWN"
    if "links" in node:
        links = ", ".join(f"{n} {'-' if a is None else f'{a:.1f}s'}" for n, a in node["links"].items())
        detail = f"last heartbeat per link: {links}"
    else:
        detail = "this node"
    return clstat_row((name, 11), (state, 6), (detail, 0))


def _app_row(app: str, info: dict[str, Any]) -> ClstatRow:
    monitors = ", ".join(f"{m} failing" for m in info["monitors"]["failing"]) or "ok"
    if info["monitors"]["paused"]:
        monitors += "; paused: " + ", ".join(info["monitors"]["paused"])
    allowed = "yes" if info["failover_allowed"] else "no"
    notes = (
        (f"{'':<12} override: {_override(info['override'])} (a deviation from git)",)
        if info["override"]
        else ()
    )
    return clstat_row(
        (app, 12),
        (info["node"] or "-", 11),
        (info["state"], 12),
        (info["since"], 26),
        (info["failures"], 9),
        (allowed, 9),
        (monitors, 0),
        notes=notes,
    )


def _override(override: dict[str, Any]) -> str:
    parts = []
    if override.get("stopped"):
        parts.append("stopped")
    if override.get("desired_node"):
        parts.append(f"moved to {override['desired_node']}")
    if override.get("maintenance"):
        parts.append("maintenance")
    return ", ".join(parts) or "cleared"


@click.command("status")
@socket_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--watch", is_flag=True, help="Refresh every second until interrupted.")
def status_command(socket_path: Path | None, as_json: bool, watch: bool) -> None:
    """The cluster, its nodes and applications, as this node's agent has them (clstat)."""
    while True:
        data = ask(Request(command="status"), socket_path).data
        text = json.dumps(data, indent=2) if as_json else render_status(data)
        if watch:
            click.clear()
        click.echo(text)
        if not watch:
            return
        time.sleep(1)


@click.command("move")
@click.argument("app")
@click.option("--to", "node", required=True, metavar="NODE", help="The node it is to run on.")
@socket_option
def move_command(app: str, node: str, socket_path: Path | None) -> None:
    """Run APP on NODE (until `start APP` returns it to the manifests' placement)."""
    click.echo(ask(Request(command="move", app=app, node=node), socket_path).data["message"])


@click.command("stop")
@click.argument("app")
@socket_option
def stop_command(app: str, socket_path: Path | None) -> None:
    """Stop APP on both nodes (until `start APP`)."""
    click.echo(ask(Request(command="stop", app=app), socket_path).data["message"])


@click.command("start")
@click.argument("app")
@socket_option
def start_command(app: str, socket_path: Path | None) -> None:
    """Clear APP's stop, move and failed state: it runs where the manifests place it."""
    click.echo(ask(Request(command="start", app=app), socket_path).data["message"])


@click.command("maintenance")
@click.argument("state", type=click.Choice(["on", "off"]))
@click.argument("app", required=False)
@socket_option
def maintenance_command(state: str, app: str | None, socket_path: Path | None) -> None:
    """Maintenance on: the agents leave APP (default: every application) alone until off."""
    click.echo(ask(Request(command="maintenance", app=app, on=state == "on"), socket_path).data["message"])


@click.command("explain")
@click.argument("app")
@socket_option
@click.option("--json", "as_json", is_flag=True)
def explain_command(app: str, socket_path: Path | None, as_json: bool) -> None:
    """Why APP runs where it runs, why it is or is not failing over; the last decisions."""
    data = ask(Request(command="explain", app=app), socket_path).data
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    status = data["status"]
    click.echo(f"{app}: {status['state']} on {status['node'] or 'no node'} since {status['since']}")
    click.echo(f"decision: {status['verdict']}: {status['reason']}")
    click.echo(f"lease: held by {status['lease']['holder'] or 'nobody'}, epoch {status['lease']['epoch']}")
    click.echo(f"failover to the peer possible: {'yes' if status['failover_allowed'] else 'no'}")
    click.echo("last decisions:")
    for record in data["recent"][-10:]:
        click.echo(f"  {record['time']}  {record['what']}: {record['why']}")


COMMANDS = (
    agent_command,
    status_command,
    move_command,
    stop_command,
    start_command,
    maintenance_command,
    explain_command,
)
