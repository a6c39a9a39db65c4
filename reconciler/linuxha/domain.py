"""The application's domain, from its start and stop scripts and the nodes' Xen configs.

`xm create NAME` with `xm shutdown -w NAME` (or xl) is what the toolstack xm/xl does itself, so
it becomes that toolstack with the domain NAME. Any other pair of scripts becomes toolstack
`commands`, which also needs a status command that linuxha.net never had: that one is left as a
placeholder for the operator.
"""

from dataclasses import dataclass
from typing import Any

from reconciler.linuxha.appconf import AppConf
from reconciler.linuxha.report import Kind, Report, Source
from reconciler.linuxha.safexml import Value
from reconciler.linuxha.scripts import Script, XenCommand, split_script, xen_command
from reconciler.linuxha.xenconfigs import DOMAIN, NodeConfig, merge_configs

XEN_CONFIG_DIR = "/etc/xen"


@dataclass(frozen=True)
class DomainResult:
    domain: dict[str, Any]
    stop_escalation: str | None = None  # "destroy" when linuxha.net's stop destroyed the domain


def _script(value: Value | None, report: Report) -> Script | None:
    if value is None:
        return None
    script = split_script(value.text)
    if script.problem is not None:
        report.dropped(value.source, f"{value.what} {value.text!r}", script.problem)
    return script


def convert_domain(
    conf: AppConf, configs: list[NodeConfig], nodes: list[str], app_name: str, report: Report
) -> DomainResult:
    start, stop = _script(conf.startscript, report), _script(conf.stopscript, report)
    create = xen_command(start.argv) if start and start.argv else None
    halt = xen_command(stop.argv) if stop and stop.argv else None
    if (
        create is not None
        and halt is not None
        and create.verb == "create"
        and halt.verb in ("shutdown", "destroy")
        and create.toolstack == halt.toolstack
    ):
        return _xen_domain(conf, create, halt=halt, configs=configs, nodes=nodes, report=report)
    commands = _commands_domain(conf, start, stop, configs=configs, app_name=app_name, report=report)
    return DomainResult(commands)


def _xen_domain(
    conf: AppConf,
    create: XenCommand,
    *,
    halt: XenCommand,
    configs: list[NodeConfig],
    nodes: list[str],
    report: Report,
) -> DomainResult:
    assert conf.startscript is not None and conf.stopscript is not None  # xen commands came from them
    for value, command in ((conf.startscript, create), (conf.stopscript, halt)):
        if command.extra:
            why = f"the {create.toolstack} toolstack runs its own {command.verb}; check that nothing is lost"
            report.dropped(value.source, f"{value.what} arguments {' '.join(command.extra)!r}", why)
    for value in (conf.startscript, conf.stopscript):
        report.carried(value.source, f"{value.what} {value.text!r}", (*DOMAIN, "toolstack"))
    escalation = _stop_behaviour(conf.stopscript, halt, report)
    name = _domain_name(halt, configs, conf.stopscript, report)
    domain: dict[str, Any] = {"toolstack": create.toolstack, "name": name}
    if configs:
        merged = merge_configs(configs, nodes, report)
        domain["config"] = merged.base
        why = f"{configs[0].file} of {configs[0].node} (the first --xen-config); what differs is under nodes"
        report.carried(None, "domain config", (*DOMAIN, "config"), why)
        if merged.overrides:
            domain["nodes"] = {node: {"config": keys} for node, keys in merged.overrides.items()}
    else:
        domain["configFile"] = _config_file(create, conf.startscript, report)
    return DomainResult(domain, escalation)


def _config_file(create: XenCommand, start: Value, report: Report) -> str:
    at = (*DOMAIN, "configFile")
    if create.target.startswith("/"):
        report.carried(start.source, f"{start.what} {create.target!r}", at)
        return create.target
    why = (
        f"{create.toolstack} create finds a relative file name in {XEN_CONFIG_DIR}/ (or the directory "
        "it runs in); give --xen-config NODE=FILE to carry the config over as data"
    )
    report.add(Kind.GUESSED, start.source, f"{start.what} {create.target!r}", why, at)
    return f"{XEN_CONFIG_DIR}/{create.target}"


def _stop_behaviour(stop: Value, halt: XenCommand, report: Report) -> str | None:
    if halt.verb == "destroy":
        why = (
            "linuxha.net destroyed the domain at once; the reconciler shuts it down and destroys it "
            "only when stop.timeout runs out (stop.escalation: destroy)"
        )
        report.add(Kind.GUESSED, stop.source, stop.what, why, ("spec", "stop", "escalation"))
        return "destroy"
    if not halt.waits:
        why = "the old stop did not wait for the domain to go; the reconciler waits, up to stop.timeout"
        report.add(Kind.GUESSED, stop.source, stop.what, why, (*DOMAIN, "toolstack"))
    return None


def _domain_name(halt: XenCommand, configs: list[NodeConfig], stop: Value, report: Report) -> str:
    """The config's `name` when a config is given (xm and xl read it there), else what the stop
    script shut down."""
    at = (*DOMAIN, "name")
    named = configs[0].settings.get("name") if configs else None
    if named is None or not isinstance(named.value, str):
        report.carried(stop.source, f"{stop.what} {halt.target!r}", at)
        return halt.target
    if named.value != halt.target:
        why = f"the stop script names {halt.target!r}, the config {named.value!r}: the config's is kept"
        report.add(Kind.GUESSED, stop.source, "domain name", why, at)
    return named.value


def _argv(script: Script | None, value: Value | None, role: str, report: Report) -> list[str] | str:
    at = (*DOMAIN, role)
    if script is None or script.argv is None or value is None:
        why = f"linuxha.net's {role} script " + ("is missing" if value is None else "cannot be an argv list")
        return [report.placeholder(at, f"{role} command, program by absolute path", why)]
    if not script.argv[0].startswith("/"):
        why = (
            f"{script.argv[0]!r} is not an absolute path; validate refuses it: write the program's full path"
        )
        report.add(Kind.GUESSED, value.source, value.what, why, at)
    else:
        report.carried(value.source, value.what, at)
    return list(script.argv)


def _commands_domain(
    conf: AppConf,
    start: Script | None,
    stop: Script | None,
    *,
    configs: list[NodeConfig],
    app_name: str,
    report: Report,
) -> dict[str, Any]:
    for config in configs:
        report.dropped(Source(config.file), "the domain config", "toolstack commands takes no domain config")
    why = "with toolstack commands the name only labels the application's process; the app's name is used"
    report.add(Kind.GUESSED, None, "domain name", why, (*DOMAIN, "name"))
    status_why = "linuxha.net had no status command; toolstack commands needs one that exits 0 while it runs"
    return {
        "toolstack": "commands",
        "name": app_name,
        "start": _argv(start, conf.startscript, "start", report),
        "stop": _argv(stop, conf.stopscript, "stop", report),
        "status": [
            report.placeholder((*DOMAIN, "status"), "status command, program by absolute path", status_why)
        ],
    }
