"""The application's storage: the volume group of appconf.xml, and what linuxha.net found in it.

linuxha.net discovered the logical volumes, their DRBD devices and ports from the volume group
at build time, so appconf.xml names none of them. They come from options (`--lv`, `--pv`,
`--drbd-minor-base`, `--drbd-port-base`) or a captured `lvs --reportformat json`; whatever is
not given becomes a placeholder that `reconciler validate` refuses, so that nothing half-known
is ever applied.
"""

from dataclasses import dataclass
from typing import Any

from reconciler.linuxha.appconf import AppConf
from reconciler.linuxha.report import PLACEHOLDER_PREFIX, Kind, LinuxhaError, Report, Source, YamlPath
from reconciler.manifest.units import format_rate, format_size
from reconciler.observe.lvm_model import LvsReport

STORAGE: YamlPath = ("spec", "storage")
LVS: YamlPath = (*STORAGE, "logicalVolumes")
FILESYSTEMS = "filesystems"  # <vg><type>: every volume carries a filesystem
KIB = 1024
DEFAULT_RATE = "10M/s"


@dataclass(frozen=True)
class LvOption:
    """`--lv NAME:[SIZE][:MOUNT[:FSTYPE]]`; SIZE may be left out when `--lvs-json` has it."""

    name: str
    size: str | None = None
    mount: str | None = None
    fstype: str | None = None

    @classmethod
    def parse(cls, text: str) -> "LvOption":
        parts = text.split(":")
        if len(parts) > 4 or not parts[0]:
            raise ValueError(f"{text!r}: write NAME:SIZE[:MOUNT[:FSTYPE]], e.g. lv01:8G:/virt:ext3")
        name, size, mount, fstype = (*parts, "", "", "")[:4]
        return cls(name, size or None, mount or None, fstype or None)


@dataclass(frozen=True)
class StorageOptions:
    lvs: tuple[LvOption, ...] = ()
    lvs_report: LvsReport | None = None
    lvs_file: str = "lvs.json"
    pvs: tuple[tuple[str | None, str], ...] = ()  # (node, or None for every node; device)
    drbd_minor_base: int | None = None
    drbd_port_base: int | None = None


@dataclass(frozen=True)
class _Lv:
    """A logical volume as the options and the lvs report describe it together."""

    name: str
    size: str | None
    mount: str | None = None
    fstype: str | None = None
    rounded: bool = False  # lvm2 printed the size rounded (human units)


@dataclass(frozen=True)
class _Context:
    """What every volume of the group shares."""

    options: StorageOptions
    app: str
    rate: str
    vg_type: str | None
    report: Report


def _physical_volumes(options: StorageOptions, nodes: list[str], report: Report) -> dict[str, list[str]]:
    at = (*STORAGE, "volumeGroup", "physicalVolumes")
    unknown = [node for node, _ in options.pvs if node is not None and node not in nodes]
    if unknown:
        raise LinuxhaError("--pv", None, f"{unknown[0]!r} is not a node; the nodes are {', '.join(nodes)}")
    why = "the cluster's nodes are not known: give --cluster or --xen-config NODE=FILE"
    keys = nodes or [report.placeholder(at, "node name", why)]
    pvs: dict[str, list[str]] = {}
    for node in keys:
        devices = [device for who, device in options.pvs if who in (None, node)]
        if not devices:
            why = "appconf.xml does not name them: give --pv [NODE=]DEVICE"
            what = f"physical volume on {node}" if nodes else "physical volume"
            devices = [report.placeholder((*at, node), what, why)]
        pvs[node] = devices
    return pvs


def _volume_group(conf: AppConf, options: StorageOptions, nodes: list[str], report: Report) -> dict[str, Any]:
    at = (*STORAGE, "volumeGroup", "name")
    if conf.vg_name is not None and conf.vg_name.text:
        name = conf.vg_name.text
        report.carried(conf.vg_name.source, conf.vg_name.what, at)
    else:
        name = report.placeholder(at, "volume group", "appconf.xml names no <vg>/<name>")
    return {"name": name, "physicalVolumes": _physical_volumes(options, nodes, report)}


def _from_report(options: StorageOptions, vg: str, report: Report) -> dict[str, _Lv]:
    found: dict[str, _Lv] = {}
    if options.lvs_report is None:
        return found
    source = Source(options.lvs_file)
    for lv in options.lvs_report.lvs:
        what = f"logical volume {lv.vg}/{lv.name}"
        if lv.hidden:
            report.dropped(source, what, "an internal volume of LVM")
        elif lv.vg != vg:
            report.dropped(source, what, f"not in the application's volume group {vg}")
        else:
            size = format_size(lv.size) if lv.size is not None else None
            found[lv.name] = _Lv(lv.name, size, rounded=lv.sizes_rounded)
    return found


def _volumes(options: StorageOptions, vg: str, report: Report) -> list[_Lv]:
    """The report's volumes of `vg`, completed or overridden by `--lv`, then `--lv`'s others."""
    volumes = _from_report(options, vg, report)
    for option in options.lvs:
        known = volumes.get(option.name)
        size = option.size or (known.size if known else None)
        rounded = option.size is None and known is not None and known.rounded
        volumes[option.name] = _Lv(option.name, size, option.mount, option.fstype, rounded)
    return list(volumes.values())


def _filesystem(lv: _Lv, vg_type: str | None, at: YamlPath, report: Report) -> dict[str, Any] | None:
    if lv.mount is not None:
        why = "give it as --lv NAME:SIZE:MOUNT:FSTYPE"
        fstype = lv.fstype or report.placeholder((*at, "type"), "filesystem type, e.g. ext3", why)
        return {"type": fstype, "mountPoint": lv.mount}
    if vg_type == FILESYSTEMS:
        why = (
            "linuxha.net mounted every volume of a 'filesystems' group: give --lv NAME:SIZE:MOUNT:FSTYPE, "
            "or delete filesystem for a raw volume"
        )
        return {
            "type": report.placeholder((*at, "type"), "filesystem type", why),
            "mountPoint": report.placeholder((*at, "mountPoint"), "mount point", why),
        }
    report.add(Kind.GUESSED, None, f"logical volume {lv.name}", "no mount point given: a raw volume", at)
    return None


def _logical_volume(lv: _Lv, index: int, ctx: _Context) -> dict[str, Any]:
    at = (*LVS, index)
    report = ctx.report
    why = "give --lv NAME:SIZE or --lvs-json"
    size: str = lv.size or report.placeholder((*at, "size"), "size, e.g. 8G", why)
    if lv.rounded:
        why = "lvm2 printed it rounded: capture lvs with --units b for the exact size"
        report.add(Kind.GUESSED, Source(ctx.options.lvs_file), f"size of {lv.name}", why, (*at, "size"))
    entry: dict[str, Any] = {"name": lv.name, "size": size, "drbd": _drbd(lv.name, index, ctx)}
    filesystem = _filesystem(lv, ctx.vg_type, (*at, "filesystem"), report)
    if filesystem is not None:
        entry["filesystem"] = filesystem
    return entry


def _sync_rate(conf: AppConf, report: Report) -> str:
    value = conf.syncrate
    at = (*LVS, 0, "drbd", "syncRate")
    if value is not None and value.text.isdigit() and int(value.text) > 0:
        rate = format_rate(int(value.text) * KIB)
        why = f"KB/s, and DRBD's K is 1024 bytes: exactly {rate}"
        report.carried(value.source, f"<syncrate>{value.text}</syncrate>", at, why)
        return rate
    if value is not None:
        report.dropped(value.source, f"{value.what} {value.text!r}", "not a whole number of KB/s")
    report.add(Kind.DEFAULTED, None, "DRBD resync rate", f"{DEFAULT_RATE}: no valid <global>/<syncrate>", at)
    return DEFAULT_RATE


def _numbered(base: int | None, index: int, at: YamlPath, *, option: str, report: Report) -> int | str:
    """`base + index`; a placeholder when no base was given."""
    if base is None:
        why = f"linuxha.net chose it when it built the application: give {option}"
        return report.placeholder(at, f"DRBD {at[-1]}", why)
    return base + index


def _drbd(name: str, index: int, ctx: _Context) -> dict[str, Any]:
    at = (*LVS, index, "drbd")
    report, options = ctx.report, ctx.options
    if name.startswith(PLACEHOLDER_PREFIX):
        resource = report.placeholder((*at, "resource"), "DRBD resource", "named after the volume")
    else:
        resource = f"{ctx.app}-{name}"
        why = f"named {resource} (application-volume): appconf.xml does not name it"
        report.add(Kind.GUESSED, None, "DRBD resource", why, (*at, "resource"))
    protocol_why = "C, synchronous: appconf.xml does not say"
    report.add(Kind.DEFAULTED, None, "DRBD protocol", protocol_why, (*at, "protocol"))
    minor_base, port_base = options.drbd_minor_base, options.drbd_port_base
    minor = _numbered(minor_base, index, (*at, "minor"), option="--drbd-minor-base", report=report)
    port = _numbered(port_base, index, (*at, "port"), option="--drbd-port-base", report=report)
    return {"resource": resource, "minor": minor, "port": port, "protocol": "C", "syncRate": ctx.rate}


def _vg_type(conf: AppConf, report: Report) -> str | None:
    value = conf.vg_type
    if value is None:
        return None
    if value.text == FILESYSTEMS:
        report.carried(value.source, value.what, LVS, "every volume carries a filesystem")
    else:
        why = f"the import knows only {FILESYSTEMS!r}; volumes given no mount point are raw"
        report.add(Kind.GUESSED, value.source, f"{value.what} {value.text!r}", why, LVS)
    return value.text


def convert_storage(
    conf: AppConf, options: StorageOptions, nodes: list[str], app: str, report: Report
) -> dict[str, Any]:
    vg = _volume_group(conf, options, nodes, report)
    ctx = _Context(options, app, _sync_rate(conf, report), _vg_type(conf, report), report)
    volumes = _volumes(options, vg["name"], report)
    if not volumes:
        why = "appconf.xml does not list them: give --lv NAME:SIZE[:MOUNT:FSTYPE] or --lvs-json FILE"
        volumes = [_Lv(report.placeholder((*LVS, 0, "name"), "logical volume name", why), None)]
    lvs = [_logical_volume(lv, i, ctx) for i, lv in enumerate(volumes)]
    return {"volumeGroup": vg, "logicalVolumes": lvs}
