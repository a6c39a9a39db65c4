"""`reconciler lab fault ...`: inject faults into a running lab (see `faults`)."""

import re

import click

from reconciler.lab import faults
from reconciler.lab.cli_common import lab_id_option, open_from, reporting
from reconciler.lab.errors import LabError
from reconciler.lab.sim.state import FaultKind


@click.group("fault")
def fault_group() -> None:
    """Inject faults: a command that fails or hangs, a domain that crashes, a disk that fails,
    a link that loses or delays packets.

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
    with reporting():
        fault = faults.command_fault(node, _command_argv(argv), FaultKind.FAIL, times, exit_code, message)
        faults.inject(open_from(ctx, lab_id), fault)
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
    with reporting():
        fault = faults.command_fault(node, _command_argv(argv), FaultKind.HANG, times)
        faults.inject(open_from(ctx, lab_id), fault)
    click.echo(f"armed: {faults.describe(fault)}")


@fault_group.command("crash")
@lab_id_option
@click.argument("node")
@click.argument("domain")
@click.pass_context
def fault_crash_command(ctx: click.Context, lab_id: str | None, node: str, domain: str) -> None:
    """DOMAIN on NODE crashes: its guest process is killed with SIGKILL."""
    with reporting():
        pid = faults.crash_domain(open_from(ctx, lab_id), node, domain)
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
    with reporting():
        device = faults.disk(open_from(ctx, lab_id), node, resource, broken=not repair)
    click.echo(f"{device} on {node} {'repaired' if repair else 'failed: DRBD detached it'}")


@fault_group.command("list")
@lab_id_option
@click.pass_context
def fault_list_command(ctx: click.Context, lab_id: str | None) -> None:
    """The faults still armed."""
    with reporting():
        armed = faults.listed(open_from(ctx, lab_id))
    click.echo("\n".join(faults.describe(f) for f in armed) if armed else "no fault armed")


@fault_group.command("clear")
@lab_id_option
@click.argument("node", required=False)
@click.pass_context
def fault_clear_command(ctx: click.Context, lab_id: str | None, node: str | None) -> None:
    """Disarm the faults of NODE (default: of every node)."""
    with reporting():
        removed = faults.clear(open_from(ctx, lab_id), node)
    click.echo(f"cleared {removed} fault(s)")


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|us)?")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)%?")


def _milliseconds(text: str | None, option: str) -> float:
    if text is None:
        return 0.0
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise LabError(f"{option} {text!r}: give a duration such as 50ms or 0.2s")
    value = float(match[1])
    return value * {"s": 1000.0, "us": 0.001}.get(match[2] or "ms", 1.0)


def _percent(text: str | None) -> float:
    if text is None:
        return 0.0
    match = _PERCENT.fullmatch(text.strip())
    if match is None or float(match[1]) > 100:
        raise LabError(f"--loss {text!r}: give a percentage such as 5% (at most 100%)")
    return float(match[1])


@fault_group.command("net")
@lab_id_option
@click.option("--loss", metavar="PERCENT", help="Drop this share of the packets toward NODE, e.g. 5%.")
@click.option("--delay", metavar="TIME", help="Delay the packets toward NODE, e.g. 50ms (needs netem).")
@click.option("--jitter", metavar="TIME", help="Vary the delay by up to this much, e.g. 10ms.")
@click.option("--clear", is_flag=True, help="Remove the faults toward NODE (on NETWORK, or all).")
@click.argument("node")
@click.argument("network", required=False)
@click.pass_context
def fault_net_command(
    ctx: click.Context,
    lab_id: str | None,
    loss: str | None,
    delay: str | None,
    jitter: str | None,
    clear: bool,
    node: str,
    network: str | None,
) -> None:
    """The switch loses or delays what it delivers to NODE on NETWORK (default: every network).

    Example: reconciler lab fault net centos5s2 --loss 5% --delay 50ms --jitter 10ms private
    """
    with reporting():
        opened = open_from(ctx, lab_id)
        if clear:
            if loss or delay or jitter:
                raise LabError("--clear takes no --loss, --delay or --jitter")
            removed = faults.clear_link_faults(opened, node, network)
            click.echo(f"cleared {removed} link fault(s)")
            return
        made = faults.link_fault(
            opened,
            node,
            network,
            _percent(loss),
            _milliseconds(delay, "--delay"),
            _milliseconds(jitter, "--jitter"),
        )
    for fault in made:
        click.echo(f"armed: {fault.describe()}")
