"""`import_linuxha`: read a linuxha.net application directory and the nodes' Xen configs, and
return the Application document with its report.

This is the only module of the import that reads files; `convert` decides on what was read.
Nothing is ever executed: XML goes through defusedxml, Xen configs through the project's own
literal-only parser, and no value read reaches a command.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.linuxha.appconf import read_appconf
from reconciler.linuxha.convert import Inputs, convert
from reconciler.linuxha.lems import Lems, read_lems
from reconciler.linuxha.report import Kind, LinuxhaError, Report, Source
from reconciler.linuxha.safexml import read_text, read_xml
from reconciler.linuxha.storage import LvOption, StorageOptions
from reconciler.linuxha.xenconfigs import read_node_config
from reconciler.manifest import ManifestError, load_manifests
from reconciler.observe.errors import ParseError
from reconciler.observe.lvm_json import parse_lvs_json
from reconciler.observe.lvm_model import LvsReport

APPCONF = "appconf.xml"
LEMS = "lems.local.xml"


@dataclass(frozen=True)
class ImportOptions:
    app_dir: Path
    xen_configs: tuple[tuple[str, Path], ...] = ()  # (node, file); the first is the base
    cluster: Path | None = None
    lvs: tuple[LvOption, ...] = ()
    lvs_json: Path | None = None
    pvs: tuple[tuple[str | None, str], ...] = ()
    drbd_minor_base: int | None = None
    drbd_port_base: int | None = None


@dataclass(frozen=True)
class Draft:
    """The imported document (plain data), the report, and the files it was read from."""

    document: dict[str, Any]
    report: Report
    inputs: tuple[str, ...] = field(default_factory=tuple)


def _cluster(path: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The node and network names of the cluster manifest at `path`."""
    try:
        manifests = load_manifests([path])
    except ManifestError as err:
        first = err.diagnostics[0]
        message = f"not a valid cluster manifest: {first.position}: {first.message}"
        raise LinuxhaError(str(path), None, message) from None
    spec = manifests.cluster.document.spec
    return tuple(n.name for n in spec.nodes), tuple(n.name for n in spec.networks)


def _nodes(options: ImportOptions) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    given = [node for node, _ in options.xen_configs]
    twice = {node for node in given if given.count(node) > 1}
    if twice:
        raise LinuxhaError("--xen-config", None, f"node {sorted(twice)[0]!r} is given twice")
    if options.cluster is None:
        return tuple(given), None
    nodes, networks = _cluster(options.cluster)
    unknown = [node for node in given if node not in nodes]
    if unknown:
        message = f"{unknown[0]!r} is not a node of {options.cluster} ({', '.join(nodes)})"
        raise LinuxhaError("--xen-config", None, message)
    return nodes, networks


def _lvs_report(path: Path | None) -> LvsReport | None:
    if path is None:
        return None
    text = read_text(path, str(path))
    try:
        return parse_lvs_json(text)
    except ParseError as err:
        message = f"not `lvs --reportformat json` output: {err.message}"
        raise LinuxhaError(str(path), err.line, message) from None


def _lems(app_dir: Path, report: Report) -> Lems | None:
    path = app_dir / LEMS
    if not path.exists():
        report.add(Kind.DEFAULTED, Source(str(path)), LEMS, "there is none: no monitors")
        return None
    root, instructions = read_xml(path, str(path))
    return read_lems(root, instructions, str(path), report)


def _other_files(app_dir: Path, report: Report) -> None:
    """The directory may hold more than the two files read: say so rather than pass them by."""
    for path in sorted(app_dir.iterdir()):
        if path.name not in (APPCONF, LEMS):
            why = f"the import reads {APPCONF} and {LEMS} only"
            report.dropped(Source(str(path)), path.name, why)


def import_linuxha(options: ImportOptions) -> Draft:
    """The Application document for `options.app_dir`, or LinuxhaError if an input is unusable."""
    if not options.app_dir.is_dir():
        raise LinuxhaError(str(options.app_dir), None, "not a directory (give the application's directory)")
    report = Report()
    appconf_path = options.app_dir / APPCONF
    if not appconf_path.is_file():
        raise LinuxhaError(str(appconf_path), None, "no such file: not a linuxha.net application directory")
    root, instructions = read_xml(appconf_path, str(appconf_path))
    appconf = read_appconf(root, instructions, str(appconf_path), report)
    lems = _lems(options.app_dir, report)
    _other_files(options.app_dir, report)
    nodes, networks = _nodes(options)
    configs = tuple(read_node_config(node, path, str(path), report) for node, path in options.xen_configs)
    storage = StorageOptions(
        lvs=options.lvs,
        lvs_report=_lvs_report(options.lvs_json),
        lvs_file=str(options.lvs_json or "lvs.json"),
        pvs=options.pvs,
        drbd_minor_base=options.drbd_minor_base,
        drbd_port_base=options.drbd_port_base,
    )
    inputs = Inputs(appconf, lems, configs, nodes, networks, storage, options.app_dir.resolve().name)
    document = convert(inputs, report)
    files = [str(appconf_path), *([lems.file] if lems else []), *(f"{n}={p}" for n, p in options.xen_configs)]
    return Draft(document, report, tuple(files))
