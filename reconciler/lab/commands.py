"""`reconciler lab ...`: build a two-node lab from the Cluster manifest, and break it.

Every command needs root and says so; any failure (a missing lab, a failed `ip` with its
stderr) is one message and exit 1, never a traceback.
"""

import os
import shutil
import sys
import time
from pathlib import Path

import click

from reconciler.commands.common import EXIT_ERROR
from reconciler.lab import agents, failover, invariants
from reconciler.lab import lab as labs
from reconciler.lab import node as nodes
from reconciler.lab.cli_common import DEFAULT_LAB_MANIFESTS, lab_id_option, lab_root, open_from, reporting
from reconciler.lab.errors import LabError
from reconciler.lab.fault_commands import fault_group
from reconciler.lab.inventory import ROOT_ENV, default_root, select_lab_id
from reconciler.lab.simsetup import applications_table
from reconciler.lab.simstate import DEFAULT_SPEED
from reconciler.lab.status import render_status, status


@click.group("lab")
@click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help=f"Where labs keep their files (default: ${ROOT_ENV} or /run/reconciler-lab).",
)
@click.pass_context
def lab(ctx: click.Context, root: Path | None) -> None:
    """A two-node lab on this machine: network namespaces joined by veth links (needs root).

    Its addresses exist only inside the lab's namespaces: run what talks to them with `lab exec`.
    """
    # meta is shared by every context of the invocation, whichever group `lab` is added to.
    ctx.meta["lab_root"] = root or default_root()


@lab.command("up")
@click.option(
    "--manifests",
    type=click.Path(path_type=Path, exists=True),
    default=DEFAULT_LAB_MANIFESTS,
    show_default=True,
    help="Manifest directory or file holding the Cluster document.",
)
@click.option("--id", "lab_id", metavar="ID", help="The new lab's id (default: random).")
@click.option(
    "--speed",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_SPEED,
    show_default=True,
    help="Simulated seconds per real second (resyncs take simulated time).",
)
@click.option(
    "--drbd",
    "drbd",
    multiple=True,
    metavar="[NODE=]VERSION",
    help="The DRBD the nodes simulate: 8.3 (8.3.16), 8.4 (8.4.11) or 9 (9.2.8, the default); "
    "NODE=VERSION for one node (repeat it for a pair in the middle of an upgrade).",
)
@click.option(
    "--toolstack",
    type=click.Choice(["xm", "xl"]),
    default=None,
    help="The Xen toolstack of the nodes (default: the one the applications declare).",
)
@click.pass_context
def up_command(
    ctx: click.Context,
    manifests: Path,
    lab_id: str | None,
    speed: float,
    drbd: tuple[str, ...],
    toolstack: str | None,
) -> None:
    """Build a lab: one namespace per node, one veth link per network, the nodes' addresses, and
    a simulator shared by the nodes for LVM, DRBD, filesystems and Xen (stand-ins on their PATH)."""
    with reporting():
        made = labs.up(manifests, lab_root(ctx), lab_id, speed=speed, drbd=drbd, toolstack=toolstack)
    click.echo(f"lab {made.id} is up: cluster {made.inventory.manifest.cluster}, in {made.dir}")
    for record in made.inventory.nodes:
        ends = [link.end(record.name) for link in made.inventory.plan.links]
        addresses = ", ".join(f"{end.interface} {end.address}" for end in ends)
        click.echo(f"  {record.name}: namespace {record.namespace}, holder {record.holder_pid}, {addresses}")
    first = made.inventory.nodes[0].name
    click.echo(f"run commands in a node with: reconciler lab exec {first} -- ip addr")
    click.echo(
        f"converge a node with: reconciler lab exec {first} -- reconciler apply MANIFESTS --allow-destructive"
    )


@lab.command("status")
@lab_id_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def status_command(ctx: click.Context, lab_id: str | None, as_json: bool) -> None:
    """The stand-in server; each node's holder, links, addresses, whether it reaches its peer on
    each network, its replication processes; the switch's ports, cuts and faults; then the
    applications as the simulator has them (text only)."""
    with reporting():
        opened = open_from(ctx, lab_id)
        observed = status(opened)
        table = None if as_json else applications_table(opened.dir)
    click.echo(observed.model_dump_json(indent=2) if as_json else render_status(observed))
    if table is not None:
        click.echo("")
        click.echo(table)


@lab.command("exec", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@lab_id_option
@click.argument("node")
@click.argument("argv", nargs=-1, required=True, type=click.UNPROCESSED, metavar="-- CMD...")
@click.pass_context
def exec_command(ctx: click.Context, lab_id: str | None, node: str, argv: tuple[str, ...]) -> None:
    """Run CMD inside NODE (its network and mount namespaces), with the lab's PATH; exit as CMD does."""
    # With interspersed arguments off (so that CMD's options stay CMD's), click passes the `--`
    # after NODE through.
    if argv[:1] == ("--",):
        argv = argv[1:]
    with reporting():
        opened = open_from(ctx, lab_id)
        command = nodes.exec_argv(opened, node, argv)
        env = nodes.node_env(opened, node)
        # Found on the caller's PATH, not the node's, where a stand-in could shadow it.
        nsenter = shutil.which(command[0])
        if nsenter is None:
            raise LabError("nsenter not found (it comes with util-linux)")
    sys.stdout.flush()
    sys.stderr.flush()
    # Replaced by the command itself: its output streams, its exit code and signals are ours.
    os.execve(nsenter, command, env)  # noqa: S606 (an argv list; no shell is involved)


@lab.command("partition")
@lab_id_option
@click.option(
    "--from", "sender", metavar="NODE", help="One way only: drop what NODE sends (it still hears its peer)."
)
@click.argument("network", required=False)
@click.pass_context
def partition_command(
    ctx: click.Context, lab_id: str | None, sender: str | None, network: str | None
) -> None:
    """Cut NETWORK (default: every network) at the switch; the nodes keep their carrier."""
    with reporting():
        cut = labs.partition(open_from(ctx, lab_id), network, sender)
    one_way = f" (one way: what {sender} sends is dropped)" if sender else ""
    click.echo(f"partitioned: {', '.join(cut)}{one_way}")


@lab.command("heal")
@lab_id_option
@click.argument("network", required=False)
@click.pass_context
def heal_command(ctx: click.Context, lab_id: str | None, network: str | None) -> None:
    """Undo the partitions (both ways and one way) of NETWORK (default: every network)."""
    with reporting():
        healed = labs.heal(open_from(ctx, lab_id), network)
    click.echo(f"healed: {', '.join(healed)}")


@lab.command("kill")
@lab_id_option
@click.argument("node")
@click.pass_context
def kill_command(ctx: click.Context, lab_id: str | None, node: str) -> None:
    """Power NODE off: SIGKILL every process in it, remove its namespace (the peer keeps its carrier)."""
    with reporting():
        nodes.kill(open_from(ctx, lab_id), node)
    click.echo(f"{node} is off")


@lab.command("start")
@lab_id_option
@click.argument("node")
@click.pass_context
def start_command(ctx: click.Context, lab_id: str | None, node: str) -> None:
    """Power NODE on again: its namespace and links anew, a new holder (partitions stay)."""
    with reporting():
        started = nodes.start(open_from(ctx, lab_id), node)
    click.echo(f"{node} is on" if started else f"{node} was already on")


@lab.group("agent")
def agent_group() -> None:
    """The nodes' agents: `reconciler agent` as a process in the node (gone at power-off)."""


@agent_group.command("start")
@lab_id_option
@click.option(
    "--manifests",
    type=click.Path(path_type=Path, exists=True),
    default=DEFAULT_LAB_MANIFESTS,
    show_default=True,
    help="The manifests the agent keeps in force (it watches them for edits).",
)
@click.argument("nodes_", metavar="NODE...", nargs=-1, required=True)
@click.pass_context
def agent_start_command(
    ctx: click.Context, lab_id: str | None, manifests: Path, nodes_: tuple[str, ...]
) -> None:
    """Start the agent of each NODE; its decisions go to <lab>/<node>/agent.log."""
    with reporting():
        opened = open_from(ctx, lab_id)
        for name in nodes_:
            pid = agents.start(opened, name, manifests)
            click.echo(f"agent of {name}: PID {pid}, log {agents.log_path(opened, name)}")


@agent_group.command("stop")
@lab_id_option
@click.argument("nodes_", metavar="NODE...", nargs=-1, required=True)
@click.pass_context
def agent_stop_command(ctx: click.Context, lab_id: str | None, nodes_: tuple[str, ...]) -> None:
    """Stop the agent of each NODE (SIGTERM); what it runs stays running."""
    with reporting():
        opened = open_from(ctx, lab_id)
        for name in nodes_:
            click.echo(f"agent of {name}: {'stopped' if agents.stop(opened, name) else 'not running'}")


@lab.command("failover")
@lab_id_option
@click.argument("domain")
@click.option(
    "--recover/--no-recover",
    default=True,
    show_default=True,
    help="Power the node on again with its agent, and wait until DRBD is in sync.",
)
@click.option(
    "--manifests",
    type=click.Path(path_type=Path, exists=True),
    default=DEFAULT_LAB_MANIFESTS,
    show_default=True,
    help="The manifests the recovered node's agent is started on.",
)
@click.pass_context
def failover_command(
    ctx: click.Context, lab_id: str | None, domain: str, recover: bool, manifests: Path
) -> None:
    """Power off the node that runs DOMAIN; time until the other node's agent runs it; the timeline."""
    with reporting():
        opened = open_from(ctx, lab_id)
        wall = time.time()
        result = failover.failover(opened, domain)
        for at, what in failover.timeline(opened, result, wall):
            click.echo(f"  +{at:6.3f}s  {what}")
        click.echo(f"failover of {domain}: {result.victim} -> {result.survivor} in {result.seconds:.2f}s")
        if recover:
            resources = sorted({r.name for n in failover.cluster(opened).nodes for r in n.drbd.resources})
            took = failover.recover(opened, result.victim, manifests, resources)
            click.echo(f"{result.victim} is on again, its agent started, DRBD in sync after {took:.1f}s")


@lab.command("check")
@lab_id_option
@click.pass_context
def check_command(ctx: click.Context, lab_id: str | None) -> None:
    """Was any application ever Primary or running on both nodes at once? Exit 1 if so."""
    with reporting():
        opened = open_from(ctx, lab_id)
        found = invariants.violations(opened)
        text = invariants.report(opened)
    click.echo(text)
    if found:
        sys.exit(EXIT_ERROR)


@lab.command("down")
@lab_id_option
@click.option("--all", "everything", is_flag=True, help="Every lab under the root.")
@click.pass_context
def down_command(ctx: click.Context, lab_id: str | None, everything: bool) -> None:
    """Remove a lab: its processes, namespaces, links and directory (also after a crashed `up`)."""
    with reporting():
        if everything and lab_id is not None:
            raise LabError("give --id or --all, not both")
        root = lab_root(ctx)
        if everything:
            results = labs.down_all(root)
        else:
            chosen = select_lab_id(root, lab_id)
            results = {chosen: labs.down(root, chosen)}
    if not results:
        click.echo(f"no lab under {root}")
    for removed_id, removed in results.items():
        click.echo(f"lab {removed_id}: " + ("removed " + ", ".join(removed) if removed else "nothing left"))


lab.add_command(fault_group)
