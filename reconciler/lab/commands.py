"""`reconciler lab ...`: build a two-node lab from the Cluster manifest, and break it.

Every command needs root and says so; any failure (a missing lab, a failed `ip` with its
stderr) is one message and exit 1, never a traceback.
"""

import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from reconciler.commands.common import DEFAULT_MANIFESTS, EXIT_ERROR
from reconciler.lab import agents, failover, faults, invariants
from reconciler.lab import lab as labs
from reconciler.lab import node as nodes
from reconciler.lab.errors import LabError
from reconciler.lab.inventory import ROOT_ENV, Lab, default_root, open_lab, select_lab_id
from reconciler.lab.sim.state import FaultKind
from reconciler.lab.simsetup import applications_table
from reconciler.lab.simstate import DEFAULT_SPEED
from reconciler.lab.status import render_status, status

# A source checkout (or an editable install) has the seed's manifests beside the package.
_PROJECT_MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
DEFAULT_LAB_MANIFESTS = _PROJECT_MANIFESTS if _PROJECT_MANIFESTS.is_dir() else DEFAULT_MANIFESTS

lab_id_option = click.option("--id", "lab_id", metavar="ID", help="The lab (default: the only one there is).")


@contextmanager
def _reporting() -> Iterator[None]:
    """Check for root, and turn a LabError into one message on stderr and exit 1."""
    try:
        labs.require_root()
        yield
    except LabError as err:
        click.echo(f"lab: {err}", err=True)
        sys.exit(EXIT_ERROR)


def _root(ctx: click.Context) -> Path:
    root = ctx.meta.get("lab_root")
    return root if isinstance(root, Path) else default_root()


def _open(ctx: click.Context, lab_id: str | None) -> Lab:
    return open_lab(_root(ctx), lab_id)


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
@click.pass_context
def up_command(ctx: click.Context, manifests: Path, lab_id: str | None, speed: float) -> None:
    """Build a lab: one namespace per node, one veth link per network, the nodes' addresses, and
    a simulator shared by the nodes for LVM, DRBD, filesystems and Xen (stand-ins on their PATH)."""
    with _reporting():
        made = labs.up(manifests, _root(ctx), lab_id, speed=speed)
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
    """Each node's holder, links, addresses, and whether it reaches its peer on each network;
    then the applications as the simulator has them (text only)."""
    with _reporting():
        opened = _open(ctx, lab_id)
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
    with _reporting():
        opened = _open(ctx, lab_id)
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
@click.argument("network", required=False)
@click.pass_context
def partition_command(ctx: click.Context, lab_id: str | None, network: str | None) -> None:
    """Take NETWORK's link (default: every link) down on both nodes."""
    with _reporting():
        cut = labs.partition(_open(ctx, lab_id), network)
    click.echo(f"partitioned: {', '.join(cut)}")


@lab.command("heal")
@lab_id_option
@click.argument("network", required=False)
@click.pass_context
def heal_command(ctx: click.Context, lab_id: str | None, network: str | None) -> None:
    """Bring NETWORK's link (default: every link) up again on the nodes that are on."""
    with _reporting():
        healed = labs.heal(_open(ctx, lab_id), network)
    click.echo(f"healed: {', '.join(healed)}")


@lab.command("kill")
@lab_id_option
@click.argument("node")
@click.pass_context
def kill_command(ctx: click.Context, lab_id: str | None, node: str) -> None:
    """Power NODE off: SIGKILL every process in it, take its links down."""
    with _reporting():
        nodes.kill(_open(ctx, lab_id), node)
    click.echo(f"{node} is off")


@lab.command("start")
@lab_id_option
@click.argument("node")
@click.pass_context
def start_command(ctx: click.Context, lab_id: str | None, node: str) -> None:
    """Power NODE on again: a new holder, its links up (except partitioned networks)."""
    with _reporting():
        started = nodes.start(_open(ctx, lab_id), node)
    click.echo(f"{node} is on" if started else f"{node} was already on")


@lab.group("fault")
def fault_group() -> None:
    """Inject faults: a command that fails or hangs, a domain that crashes.

    A node's power-off is `lab kill NODE`; a cut link is `lab partition NETWORK`.
    """


_times_option = click.option(
    "--times", type=int, default=1, show_default=True, help="How many times (-1: until `lab fault clear`)."
)
_program_argument = click.argument(
    "argv", nargs=-1, required=True, type=click.UNPROCESSED, metavar="-- CMD..."
)
_NO_INTERSPERSED = {"ignore_unknown_options": True, "allow_interspersed_args": False}


def _command_argv(argv: tuple[str, ...]) -> tuple[str, ...]:
    return argv[1:] if argv[:1] == ("--",) else argv


@fault_group.command("fail", context_settings=_NO_INTERSPERSED)
@lab_id_option
@_times_option
@click.option("--exit-code", type=click.IntRange(1, 255), default=1, show_default=True)
@click.option("--message", help="What the command prints on stderr (default: says it was injected).")
@click.argument("node")
@_program_argument
@click.pass_context
def fault_fail_command(
    ctx: click.Context,
    lab_id: str | None,
    times: int,
    exit_code: int,
    message: str | None,
    node: str,
    argv: tuple[str, ...],
) -> None:
    """The next commands on NODE whose argv starts with CMD fail, changing nothing.

    Example: reconciler lab fault fail --times 1 centos5s1 -- drbdadm up
    """
    with _reporting():
        fault = faults.command_fault(node, _command_argv(argv), FaultKind.FAIL, times, exit_code, message)
        faults.inject(_open(ctx, lab_id), fault)
    click.echo(f"armed: {faults.describe(fault)}")


@fault_group.command("hang", context_settings=_NO_INTERSPERSED)
@lab_id_option
@_times_option
@click.argument("node")
@_program_argument
@click.pass_context
def fault_hang_command(
    ctx: click.Context, lab_id: str | None, times: int, node: str, argv: tuple[str, ...]
) -> None:
    """The next commands on NODE whose argv starts with CMD hang until their caller's timeout.

    Example: reconciler lab fault hang centos5s1 -- xm create
    """
    with _reporting():
        fault = faults.command_fault(node, _command_argv(argv), FaultKind.HANG, times)
        faults.inject(_open(ctx, lab_id), fault)
    click.echo(f"armed: {faults.describe(fault)}")


@fault_group.command("crash")
@lab_id_option
@click.argument("node")
@click.argument("domain")
@click.pass_context
def fault_crash_command(ctx: click.Context, lab_id: str | None, node: str, domain: str) -> None:
    """DOMAIN on NODE crashes: its guest process is killed with SIGKILL."""
    with _reporting():
        pid = faults.crash_domain(_open(ctx, lab_id), node, domain)
    click.echo(f"{domain} on {node} crashed (guest process {pid} killed)")


@fault_group.command("disk")
@lab_id_option
@click.option("--repair", is_flag=True, help="The disk works again (`drbdadm attach` brings it back).")
@click.argument("node")
@click.argument("resource")
@click.pass_context
def fault_disk_command(
    ctx: click.Context, lab_id: str | None, repair: bool, node: str, resource: str
) -> None:
    """The backing disk of DRBD RESOURCE on NODE fails: DRBD detaches it (Diskless)."""
    with _reporting():
        device = faults.disk(_open(ctx, lab_id), node, resource, broken=not repair)
    click.echo(f"{device} on {node} {'repaired' if repair else 'failed: DRBD detached it'}")


@fault_group.command("list")
@lab_id_option
@click.pass_context
def fault_list_command(ctx: click.Context, lab_id: str | None) -> None:
    """The faults still armed."""
    with _reporting():
        armed = faults.listed(_open(ctx, lab_id))
    click.echo("\n".join(faults.describe(f) for f in armed) if armed else "no fault armed")


@fault_group.command("clear")
@lab_id_option
@click.argument("node", required=False)
@click.pass_context
def fault_clear_command(ctx: click.Context, lab_id: str | None, node: str | None) -> None:
    """Disarm the faults of NODE (default: of every node)."""
    with _reporting():
        removed = faults.clear(_open(ctx, lab_id), node)
    click.echo(f"cleared {removed} fault(s)")


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
    with _reporting():
        opened = _open(ctx, lab_id)
        for name in nodes_:
            pid = agents.start(opened, name, manifests)
            click.echo(f"agent of {name}: PID {pid}, log {agents.log_path(opened, name)}")


@agent_group.command("stop")
@lab_id_option
@click.argument("nodes_", metavar="NODE...", nargs=-1, required=True)
@click.pass_context
def agent_stop_command(ctx: click.Context, lab_id: str | None, nodes_: tuple[str, ...]) -> None:
    """Stop the agent of each NODE (SIGTERM); what it runs stays running."""
    with _reporting():
        opened = _open(ctx, lab_id)
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
    with _reporting():
        opened = _open(ctx, lab_id)
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
    with _reporting():
        opened = _open(ctx, lab_id)
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
    with _reporting():
        if everything and lab_id is not None:
            raise LabError("give --id or --all, not both")
        root = _root(ctx)
        if everything:
            results = labs.down_all(root)
        else:
            chosen = select_lab_id(root, lab_id)
            results = {chosen: labs.down(root, chosen)}
    if not results:
        click.echo(f"no lab under {root}")
    for removed_id, removed in results.items():
        click.echo(f"lab {removed_id}: " + ("removed " + ", ".join(removed) if removed else "nothing left"))
