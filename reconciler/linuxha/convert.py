"""From what was read to the Application document, as plain data shaped like `ApplicationDocument`
(camelCase keys, values written as a manifest writes them), every decision in the report.

Pure: the files were read by `importer`; nothing here touches the host.
"""

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from reconciler.linuxha.appconf import AppConf, NetworkDecl
from reconciler.linuxha.domain import convert_domain
from reconciler.linuxha.lems import Lems
from reconciler.linuxha.monitors import convert_monitors
from reconciler.linuxha.report import Kind, Report, YamlPath
from reconciler.linuxha.safexml import Value
from reconciler.linuxha.storage import StorageOptions, convert_storage
from reconciler.linuxha.xenconfigs import NodeConfig
from reconciler.manifest.application import LEAST_CPU_LOAD
from reconciler.manifest.common import API_VERSION

MONITOR = "MONITOR"
DEFAULT_TIMEOUT = "600s"
TAKEOVERS = ("normal", "force")
_ADDRESS_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class Inputs:
    appconf: AppConf
    lems: Lems | None
    configs: tuple[NodeConfig, ...]  # the first is the base of the domain config
    nodes: tuple[str, ...]  # the cluster's, or those of --xen-config
    networks: tuple[str, ...] | None  # the cluster's networks, when --cluster was given
    storage: StorageOptions
    directory_name: str  # the application directory's name, if appconf.xml names none


def _name(inputs: Inputs, report: Report) -> str:
    value = inputs.appconf.name
    if value is not None and value.text:
        report.carried(value.source, value.what, ("metadata", "name"))
        return value.text
    why = f"appconf.xml has no <global>/<name>: the directory's name {inputs.directory_name!r} is used"
    report.add(Kind.GUESSED, None, "application name", why, ("metadata", "name"))
    return inputs.directory_name


def _preferred(value: Value | None, nodes: tuple[str, ...], report: Report) -> str:
    at = ("spec", "placement", "preferredNode")
    text = value.text if value is not None else ""
    if value is None or not text:
        report.add(Kind.DEFAULTED, None, "placement", f"{LEAST_CPU_LOAD}: no <global>/<preferred_node>", at)
        return LEAST_CPU_LOAD
    folded = [node for node in nodes if node.lower() == text.lower()]
    if text == LEAST_CPU_LOAD or text in nodes:
        report.carried(value.source, value.what, at)
        return text
    if text.upper().replace("-", "_") == LEAST_CPU_LOAD:
        report.add(Kind.GUESSED, value.source, f"{value.what} {text!r}", f"read as {LEAST_CPU_LOAD}", at)
        return LEAST_CPU_LOAD
    if folded:
        report.add(Kind.GUESSED, value.source, f"{value.what} {text!r}", f"read as node {folded[0]}", at)
        return folded[0]
    if nodes:
        why = f"not one of the nodes ({', '.join(nodes)}): validate refuses it"
        report.add(Kind.GUESSED, value.source, f"{value.what} {text!r}", why, at)
    else:
        report.carried(value.source, value.what, at)
    return text


def _takeover(value: Value | None, report: Report) -> str:
    at = ("spec", "placement", "takeover")
    if value is not None and value.text.lower() in TAKEOVERS:
        report.carried(value.source, value.what, at)
        return value.text.lower()
    if value is not None:
        why = f"takeover is one of {', '.join(TAKEOVERS)}"
        report.dropped(value.source, f"{value.what} {value.text!r}", why)
    report.add(Kind.DEFAULTED, None, "takeover", "normal: no valid <global>/<takeover>", at)
    return "normal"


def _addresses(decl: NetworkDecl, text: str, report: Report) -> list[str]:
    out = []
    for word in filter(None, _ADDRESS_SEPARATORS.split(text)):
        try:
            out.append(str(ipaddress.ip_address(word)))
            continue
        except ValueError:
            pass
        try:
            interface = ipaddress.ip_interface(word)
        except ValueError:
            report.dropped(decl.source, f"{decl.what} ip {word!r}", "not an IP address")
            continue
        why = "the prefix comes from the subnet of the cluster's network"
        report.dropped(decl.source, f"{decl.what} ip {word!r} prefix", why)
        out.append(str(interface.ip))
    return out


def _network(decl: NetworkDecl, entry: dict[str, Any], at: YamlPath, report: Report) -> None:
    """Add what `decl` says to `entry` (several <network> of one net are merged)."""
    text = (decl.ip or "").strip()
    if text.upper() == MONITOR or not text:
        why = "" if text == MONITOR else f"ip={decl.ip!r} read as {MONITOR}: needed, no address of its own"
        report.add(Kind.GUESSED if why else Kind.CARRIED, decl.source, decl.what, why, (*at, "name"))
        entry.setdefault("monitor", True)
        return
    addresses = _addresses(decl, text, report)
    report.carried(decl.source, decl.what, (*at, "name"))
    entry.setdefault("addresses", []).extend(a for a in addresses if a not in entry.get("addresses", []))


def _networks(conf: AppConf, known: tuple[str, ...] | None, report: Report) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for decl in conf.networks:
        if not decl.net:
            report.dropped(decl.source, decl.what, "it has no net= attribute: which network?")
            continue
        if known is not None and decl.net not in known:
            why = f"not a network of the cluster ({', '.join(known)}): validate refuses it"
            report.add(Kind.GUESSED, decl.source, f"{decl.what} net={decl.net!r}", why)
        entry = merged.setdefault(decl.net, {"name": decl.net})
        _network(decl, entry, ("spec", "networks", list(merged).index(decl.net)), report)
    out = []
    for name, entry in merged.items():
        if entry.get("addresses"):
            out.append({"name": name, "addresses": entry["addresses"]})
        else:
            out.append({"name": name, "ip": MONITOR})
    return out


def _timeout(value: Value | None, role: str, report: Report) -> str:
    """`<maxstarttime>` / `<maxstoptime>` (seconds) as the start / stop timeout."""
    at = ("spec", role, "timeout")
    if value is not None and value.text.isdigit():
        report.carried(value.source, value.what, at, "seconds")
        return f"{int(value.text)}s"
    if value is not None:
        report.dropped(value.source, f"{value.what} {value.text!r}", "not a whole number of seconds")
    why = f"{DEFAULT_TIMEOUT}: no valid <application>/<max{role}time>"
    report.add(Kind.DEFAULTED, None, f"{role} timeout", why, at)
    return DEFAULT_TIMEOUT


def convert(inputs: Inputs, report: Report) -> dict[str, Any]:
    """The Application document, as plain data; `report` gets every decision taken."""
    conf = inputs.appconf
    name = _name(inputs, report)
    nodes = list(inputs.nodes)
    placement = {"preferredNode": _preferred(conf.preferred_node, inputs.nodes, report)}
    placement["takeover"] = _takeover(conf.takeover, report)
    spec: dict[str, Any] = {
        "placement": placement,
        "storage": convert_storage(conf, inputs.storage, nodes, name, report),
    }
    domain = convert_domain(conf, list(inputs.configs), nodes, name, report)
    spec["domain"] = domain.domain
    networks = _networks(conf, inputs.networks, report)
    if networks:
        spec["networks"] = networks
    spec["start"] = {"timeout": _timeout(conf.maxstarttime, "start", report)}
    spec["stop"] = {"timeout": _timeout(conf.maxstoptime, "stop", report)}
    if domain.stop_escalation is not None:
        spec["stop"]["escalation"] = domain.stop_escalation
    monitors = convert_monitors(inputs.lems, name, report)
    if monitors:
        spec["monitors"] = monitors
    metadata = {"name": name, "description": f"linuxha.net application {name}, imported"}
    return {"apiVersion": API_VERSION, "kind": "Application", "metadata": metadata, "spec": spec}
