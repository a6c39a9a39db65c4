"""`reconciler lab simulate`: try manifests on a simulated two-node cluster, with no host at all.

Each node runs the real apply rounds against the simulator; the command shows what every round
did and ends with a clstat-like table. What it cannot show: real kernels, disks and networks
(the lab's namespaces are for those).
"""

import sys
from pathlib import Path

import click

from reconciler.commands.common import EXIT_ERROR, EXIT_OK, load_or_exit, manifest_paths
from reconciler.core.desired import PlacementError, placement
from reconciler.core.plan.report import describe_action
from reconciler.execute import ActionStatus
from reconciler.lab.sim.rounds import RoundStep, converge, simulated_cluster
from reconciler.lab.sim.state import Cluster
from reconciler.manifest import ManifestSet
from reconciler.render.clstat import ClstatSection, ClstatTable, clstat_row, render_clstat_table


def _show_step(number: int, step: RoundStep) -> None:
    if step.result is None:
        click.echo(f"round {number}, {step.node}: crashed during the pass")
        return
    plan, report = step.result.plan, step.result.report
    pending = plan.pending()
    if not pending and not plan.errors:
        return
    click.echo(f"round {number}, {step.node}: {len(pending)} action(s)")
    results = {a.id: a for a in report.actions} if report else {}
    for action in pending:
        result = results.get(action.id)
        status = result.status.value if result else "not run"
        detail = (
            f" ({result.message})"
            if result and result.status is not ActionStatus.DONE and result.message
            else ""
        )
        click.echo(f"  {status:<8} {action.id}: {describe_action(action)}{detail}")
    for error in plan.errors:
        click.echo(f"  refused  {error}")


def status_table(cluster: Cluster, manifests: ManifestSet) -> str:
    """The layout of linuxha.net's clstat, from the simulated nodes' state."""
    nodes = tuple(clstat_row((n.name, 14), ("UP" if n.powered else "DOWN", 0)) for n in cluster.nodes)
    apps = []
    for app in manifests.applications:
        domain = app.document.spec.domain.name
        running = [n.name for n in cluster.nodes if n.powered and n.xen.domain(domain) is not None]
        disks = []
        for n in cluster.nodes:
            for lv in app.document.spec.storage.logical_volumes:
                res = n.drbd.resource(lv.drbd.resource)
                disks.append(f"{n.name}:{res.role.value if res else 'down'}")
        state = "STARTED" if running else "DOWN"
        apps.append(
            clstat_row(
                (app.name, 12), (running[0] if running else "N/A", 10), (state, 8), (" ".join(disks), 0)
            )
        )
    return render_clstat_table(
        ClstatTable(
            title=f"Cluster: {manifests.cluster.document.metadata.name} - SIMULATED",
            nodes=ClstatSection("      Node      Status", nodes, separator=" "),
            applications=ClstatSection(
                "Application    Node       State    DRBD role per node",
                tuple(apps),
                indent="  ",
                separator=" ",
            ),
        )
    )


@click.command("simulate")
@manifest_paths
@click.option(
    "--active", "active", multiple=True, metavar="APP=NODE", help="Run APP on NODE (default: preferred)."
)
@click.option("--allow-destructive", is_flag=True, help="Allow the initial sync and mkfs of new volumes.")
@click.option("--rounds", default=8, show_default=True, help="Give up after this many rounds.")
def simulate_command(
    paths: tuple[Path, ...], active: tuple[str, ...], allow_destructive: bool, rounds: int
) -> None:
    """Converge the manifests on a simulated two-node cluster and show every round."""
    manifests = load_or_exit(paths)
    try:
        roles = placement(manifests, dict(a.split("=", 1) for a in active if "=" in a))
    except PlacementError as err:
        raise click.ClickException(str(err)) from err
    cluster = simulated_cluster(manifests)
    done = converge(cluster, manifests, roles, destructive=allow_destructive, rounds=rounds, seen=_show_step)
    click.echo("")
    click.echo(status_table(cluster, manifests))
    minutes = cluster.clock / 60
    outcome = "Converged" if done else "Not converged (see the refusals above)"
    click.echo(f"\n{outcome} after {minutes:.1f} simulated minutes.")
    sys.exit(EXIT_OK if done else EXIT_ERROR)
