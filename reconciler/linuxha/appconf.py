"""appconf.xml: the values of a linuxha.net application, each with the line it was read from.

This module only reads: what a value means in a manifest is decided in `convert`. It knows the
vocabulary of the guide's example (global, networks, vg, application); anything else in the file
is reported as not carried over, with its line.
"""

from dataclasses import dataclass

from reconciler.linuxha.report import LinuxhaError, Report, Source
from reconciler.linuxha.safexml import Element, Untaken, Value, first, untaken, value


@dataclass(frozen=True)
class NetworkDecl:
    """`<network net="public" ip="MONITOR"/>`; `ip` may also list addresses."""

    source: Source
    what: str
    net: str | None
    ip: str | None


@dataclass(frozen=True)
class AppConf:
    file: str
    name: Value | None
    takeover: Value | None
    syncrate: Value | None
    preferred_node: Value | None
    networks: tuple[NetworkDecl, ...]
    vg_name: Value | None
    vg_type: Value | None
    startscript: Value | None
    stopscript: Value | None
    maxstarttime: Value | None
    maxstoptime: Value | None


def _networks(parent: Element | None, file: str, report: Report) -> tuple[NetworkDecl, ...]:
    if parent is None:
        return ()
    out = []
    for element in parent.all("network"):
        element.taken = True
        source = Source(file, element.line)
        netmask = element.attr("netmask")
        if netmask is not None:
            why = "the prefix of an address comes from the subnet of the cluster's network"
            report.dropped(source, f"{element.path} netmask={netmask!r}", why)
        out.append(NetworkDecl(source, element.path, element.attr("net"), element.attr("ip")))
    return tuple(out)


def read_appconf(root: Element, instructions: list[Untaken], file: str, report: Report) -> AppConf:
    if root.tag != "appconf":
        raise LinuxhaError(file, root.line, f"the root element is <{root.tag}>, not <appconf>")
    root.taken = True
    glob = first(root, "global", file, report)
    vg = first(root, "vg", file, report)
    app = first(root, "application", file, report)
    version = value(glob, "version", file, report)
    if version is not None:
        why = f"{version.text!r} is the appconf.xml format's version; the manifest's apiVersion says that"
        report.dropped(version.source, version.what, why)
    conf = AppConf(
        file=file,
        name=value(glob, "name", file, report),
        takeover=value(glob, "takeover", file, report),
        syncrate=value(glob, "syncrate", file, report),
        preferred_node=value(glob, "preferred_node", file, report),
        networks=_networks(first(root, "networks", file, report), file, report),
        vg_name=value(vg, "name", file, report),
        vg_type=value(vg, "type", file, report),
        startscript=value(app, "startscript", file, report),
        stopscript=value(app, "stopscript", file, report),
        maxstarttime=value(app, "maxstarttime", file, report),
        maxstoptime=value(app, "maxstoptime", file, report),
    )
    unknown = "not in the appconf.xml vocabulary the import knows"
    for item in [*instructions, *untaken(root)]:
        report.dropped(Source(file, item.line), item.what, unknown)
    return conf
