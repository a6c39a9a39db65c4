"""`reconciler import linuxha`: the command line of the import.

The manifest goes to -o FILE (or stdout), the report to stderr. Exit 0 once a manifest is
written, placeholders or not (`reconciler validate` refuses those); 1 when an input cannot be
imported at all (bad XML, a DTD, an unreadable file, an unknown node).
"""

import sys
from pathlib import Path

import click

from reconciler.linuxha.emit import render
from reconciler.linuxha.importer import Draft, ImportOptions, import_linuxha
from reconciler.linuxha.report import Kind, LinuxhaError
from reconciler.linuxha.storage import LvOption
from reconciler.manifest import ManifestError, load_manifests
from reconciler.manifest.storage import DRBD_MAX_MINOR
from reconciler.outputs import HELP as OUTPUT_HELP
from reconciler.outputs import OutputError, OutputPath, write_output

EXIT_FAILED = 1
_ORDER = (Kind.PLACEHOLDER, Kind.NOT_CARRIED, Kind.GUESSED, Kind.DEFAULTED)
_LABELS = {
    Kind.PLACEHOLDER: "placeholder(s) to fill in",
    Kind.NOT_CARRIED: "not carried over",
    Kind.GUESSED: "guessed",
    Kind.DEFAULTED: "defaulted",
}


def _node_files(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[tuple[str, Path], ...]:
    out = []
    for value in values:
        node, equals, file = value.partition("=")
        if not (equals and node and file):
            raise click.BadParameter(f"{value!r}: write NODE=FILE, e.g. centos5s1=/etc/xen/apache")
        out.append((node, Path(file)))
    return tuple(out)


def _lv_options(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[LvOption, ...]:
    try:
        return tuple(LvOption.parse(value) for value in values)
    except ValueError as err:
        raise click.BadParameter(str(err)) from None


def _pv_options(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[tuple[str | None, str], ...]:
    out: list[tuple[str | None, str]] = []
    for value in values:
        node, equals, device = value.rpartition("=")
        if (equals and not node) or not device:
            raise click.BadParameter(f"{value!r}: write DEVICE (every node) or NODE=DEVICE")
        out.append((node or None, device))
    return tuple(out)


@click.group("import")
def import_group() -> None:
    """Write manifests from the configuration of another HA manager."""


def _write(text: str, output: Path | None) -> None:
    """To stdout, or to -o under the output-path policy (reconciler.outputs): a file atomically,
    a FIFO or a device written into, a symbolic link refused."""
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        write_output(output, text)
    except OutputError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(EXIT_FAILED)


def _print_report(draft: Draft) -> None:
    findings = draft.report.notable()
    for kind in _ORDER:
        for finding in findings:
            if finding.kind is kind:
                click.echo(str(finding), err=True)
    counts = ", ".join(f"{draft.report.count(kind)} {_LABELS[kind]}" for kind in _ORDER)
    click.echo(f"imported {draft.document['metadata']['name']}: {counts}", err=True)


def _check(cluster: Path, output: Path) -> None:
    """Say whether the written manifest validates with its cluster, as `reconciler validate` would."""
    try:
        load_manifests([cluster, output])
    except ManifestError as err:
        click.echo(f"`reconciler validate {cluster} {output}`: {len(err.diagnostics)} error(s):", err=True)
        click.echo(err.render_text(), err=True)
        return
    click.echo(f"`reconciler validate {cluster} {output}`: valid", err=True)


@import_group.command("linuxha")
@click.option(
    "--app",
    "app_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="The application's directory (appconf.xml, lems.local.xml), e.g. /etc/cluster/xapache.",
)
@click.option(
    "--xen-config",
    "xen_configs",
    multiple=True,
    metavar="NODE=FILE",
    callback=_node_files,
    help="The domain config file of NODE; repeat per node. The first is the base of the config.",
)
@click.option(
    "--cluster",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The Cluster manifest the application joins (its node and network names).",
)
@click.option("-o", "--output", type=OutputPath(), help=f"Default: stdout; {OUTPUT_HELP}")
@click.option(
    "--lv",
    "lvs",
    multiple=True,
    metavar="NAME:SIZE[:MOUNT[:FSTYPE]]",
    callback=_lv_options,
    help="A logical volume of the group, e.g. lv01:8G:/virt:ext3; repeat per volume.",
)
@click.option(
    "--lvs-json",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Captured `lvs --reportformat json --units b` output: the group's volumes and sizes.",
)
@click.option(
    "--pv",
    "pvs",
    multiple=True,
    metavar="[NODE=]DEVICE",
    callback=_pv_options,
    help="A physical volume of the group, on NODE or on every node; repeat as needed.",
)
@click.option("--drbd-minor-base", type=click.IntRange(0, DRBD_MAX_MINOR), help="Minor of the first volume.")
@click.option("--drbd-port-base", type=click.IntRange(1, 65535), help="Port of the first volume.")
def linuxha(
    *,
    app_dir: Path,
    xen_configs: tuple[tuple[str, Path], ...],
    cluster: Path | None,
    output: Path | None,
    lvs: tuple[LvOption, ...],
    lvs_json: Path | None,
    pvs: tuple[tuple[str | None, str], ...],
    drbd_minor_base: int | None,
    drbd_port_base: int | None,
) -> None:
    """Write the Application manifest of a linuxha.net application; report on stderr what was not
    carried over, guessed or defaulted (the manifest holds the same report as comments)."""
    options = ImportOptions(
        app_dir, xen_configs, cluster, lvs, lvs_json, pvs, drbd_minor_base, drbd_port_base
    )
    try:
        draft = import_linuxha(options)
    except LinuxhaError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(EXIT_FAILED)
    _write(render(draft.document, draft.report.findings, draft.inputs), output)
    _print_report(draft)
    if cluster is not None and output is not None and str(output) != "-" and output.is_file():
        _check(cluster, output)


def register(group: click.Group) -> None:
    """Add `import linuxha` to the `reconciler` command group."""
    group.add_command(import_group)
