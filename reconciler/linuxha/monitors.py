"""lems checks as monitors: the module says the type, `<interval>` the period, `<action_list>` the
exit code -> action table.

lems' internal modules were Perl code run inside lems. Those with a built-in counterpart become
it (`fsmon` -> fsmon, a process, ping or tcp check, memory, the domain); the others cannot be run
as they were and are reported. A check of another type ran a program: it becomes a command
monitor, the program looked up in lems' programs directory when it was given by a relative name.
"""

import ipaddress
from collections.abc import Callable
from typing import Any

from reconciler.linuxha.lems import ActionDecl, Check, Lems
from reconciler.linuxha.report import Kind, Report, Source
from reconciler.linuxha.scripts import split_script
from reconciler.manifest.monitor import parse_action

MONITORS = ("spec", "monitors")
INTERNAL = "internal"

Fields = dict[str, Any]
Handler = Callable[[list[str], str], tuple[Fields | None, str]]  # (args, app) -> (fields, why)


def _fsmon(args: list[str], app: str) -> tuple[Fields | None, str]:
    if args[1:]:
        return None, f"fsmon takes one application name, not {' '.join(args)!r}"
    if args and args[0] != app:
        return {"type": "fsmon"}, f"it watched application {args[0]!r}; the monitor watches this one's"
    return {"type": "fsmon"}, ""


def _process(args: list[str], app: str) -> tuple[Fields | None, str]:
    if len(args) != 1 or args[0].startswith("/"):
        return None, "it read its processes from a file the import does not read: write process monitors"
    return {"type": "process", "process": args[0]}, f"guessed that {args[0]!r} is a process name"


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _ping(args: list[str], app: str) -> tuple[Fields | None, str]:
    address = _address(args[0]) if len(args) == 1 else None
    if address is None:
        return None, "a ping monitor takes one IP address (no host names: they would need DNS)"
    return {"type": "ping", "address": address}, ""


def _tcp(args: list[str], app: str) -> tuple[Fields | None, str]:
    address = _address(args[0]) if len(args) == 2 else None
    if address is None or not args[1].isdigit():
        return None, "a tcp monitor takes an IP address and a port"
    return {"type": "tcp", "address": address, "port": int(args[1])}, ""


def _memory(args: list[str], app: str) -> tuple[Fields | None, str]:
    why = "lems' thresholds are not carried over: memory 95%, swap 50% by default" if args else ""
    return {"type": "memory"}, why


def _domain(args: list[str], app: str) -> tuple[Fields | None, str]:
    return {"type": "domain"}, "the domain monitor checks the application's own domain" if args else ""


def _flag(args: list[str], app: str) -> tuple[Fields | None, str]:
    return None, "lems' flag_check carried the requests of the cl* commands; the agent takes them itself"


# lems module name (and the spellings seen for it) -> its counterpart.
_INTERNAL: dict[str, Handler] = {
    "fsmon": _fsmon,
    "fsmonitor": _fsmon,
    "procmon": _process,
    "process": _process,
    "ping": _ping,
    "pingmon": _ping,
    "tcp": _tcp,
    "tcpmon": _tcp,
    "portmon": _tcp,
    "memmon": _memory,
    "memory": _memory,
    "xenmon": _domain,
    "domain": _domain,
    "flag_check": _flag,
}


def _program(argv: list[str], programs: str | None) -> tuple[Fields | None, str]:
    if argv[0].startswith("/"):
        return {"type": "command", "argv": argv}, ""
    if programs is None or not programs.startswith("/"):
        why = "a relative program: validate refuses it, give its full path"
        return {"type": "command", "argv": argv}, why
    path = f"{programs.rstrip('/')}/{argv[0]}"
    return {"type": "command", "argv": [path, *argv[1:]]}, f"looked up in lems' programs directory {programs}"


def _fields(check: Check, lems: Lems, app: str) -> tuple[Fields | None, str]:
    module = check.module
    if module is None:
        return None, "the check has no <module>"
    script = split_script(module.text)
    if script.argv is None:
        return None, f"<module> {module.text!r}: {script.problem}"
    kind = check.type.text if check.type is not None else INTERNAL
    if kind != INTERNAL:
        return _program(list(script.argv), lems.programs)
    name, *args = script.argv
    handler = _INTERNAL.get(name)
    if handler is None:
        return None, f"lems' internal module {name!r} has no counterpart: write a command monitor"
    return handler(args, app)


def _interval(check: Check, at: tuple[str | int, ...], report: Report) -> str:
    value = check.interval
    if value is not None and value.text.isdigit() and int(value.text) > 0:
        report.carried(value.source, value.what, at, "seconds")
        return f"{int(value.text)}s"
    if value is not None:
        report.dropped(value.source, f"{value.what} {value.text!r}", "not a whole number of seconds")
    report.add(
        Kind.DEFAULTED, check.source, "<check>/<interval>", "10s: the check gives no valid interval", at
    )
    return "10s"


def _action(decl: ActionDecl, seen: dict[int, str], report: Report) -> tuple[int, str] | None:
    what = f"<action rc={decl.rc!r} action={decl.action!r}>"
    if decl.rc is None or not decl.rc.isdigit() or int(decl.rc) > 255:
        report.dropped(decl.source, what, "rc is an exit code, 0 to 255")
        return None
    action = " ".join((decl.action or "").split())
    try:
        parse_action(action)
    except ValueError:
        report.dropped(decl.source, what, "not one of NOP, PAUSE n, STOP, FAILOVER, RESTART")
        return None
    if int(decl.rc) in seen:
        report.dropped(decl.source, what, f"rc {decl.rc} already has an action: {seen[int(decl.rc)]}")
        return None
    return int(decl.rc), action


def _actions(check: Check, at: tuple[str | int, ...], report: Report) -> dict[int, str] | None:
    if check.actions is None:
        why = "0: NOP, 1: FAILOVER: the check has no <action_list>"
        report.add(Kind.DEFAULTED, check.source, "<check>/<action_list>", why, at)
        return None
    actions: dict[int, str] = {}
    for decl in check.actions:
        pair = _action(decl, actions, report)
        if pair is not None:
            actions[pair[0]] = pair[1]
    return actions


def convert_monitor(check: Check, index: int, lems: Lems, app: str, report: Report) -> Fields | None:
    """The monitor for one check, or None (reported) when it has no counterpart."""
    at = (*MONITORS, index)
    what = f"<check> {check.name.text!r}" if check.name else "<check>"
    fields, why = _fields(check, lems, app)
    if fields is None or check.module is None:
        report.dropped(check.module.source if check.module else check.source, what, why)
        return None
    origin = f"{what} {check.module.text!r}"
    report.add(Kind.GUESSED if why else Kind.CARRIED, check.source, origin, why, (*at, "type"))
    name = check.name.text if check.name is not None and check.name.text else f"check-{index + 1}"
    if check.name is None or not check.name.text:
        report.add(Kind.GUESSED, check.source, what, f"it has no <name>: named {name}", (*at, "name"))
    monitor: Fields = {"name": name, **fields, "interval": _interval(check, (*at, "interval"), report)}
    report.add(Kind.DEFAULTED, check.source, f"{what} timeout", "5s; lems had no timeout", (*at, "name"))
    actions = _actions(check, (*at, "name"), report)
    if actions is not None:
        monitor["actions"] = actions
    return monitor


def convert_monitors(lems: Lems | None, app: str, report: Report) -> list[Fields]:
    if lems is None:
        return []
    out: list[Fields] = []
    for check in lems.checks:
        monitor = convert_monitor(check, len(out), lems, app, report)
        if monitor is not None:
            out.append(monitor)
    if not lems.checks:
        report.add(Kind.CARRIED, Source(lems.file), "lems.local.xml", "no <check>: no monitors")
    return out
