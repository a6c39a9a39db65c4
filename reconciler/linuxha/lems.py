"""lems.local.xml: the checks lems ran for an application, each with the line it was read from.

As for appconf.xml, this module only reads; `monitors` decides what each check becomes.
"""

from dataclasses import dataclass

from reconciler.linuxha.report import LinuxhaError, Report, Source
from reconciler.linuxha.safexml import Element, Untaken, Value, first, untaken, value

_GLOBALS_WHY = {
    "modules": "lems' directory of internal modules; the reconciler's monitor types are built in",
    "programs": "lems' directory of check programs; a command monitor names its program by absolute path",
    "logs": "lems' log directory; the agent keeps its own log",
}


@dataclass(frozen=True)
class ActionDecl:
    """`<action rc="1" action="PAUSE 30"/>`"""

    source: Source
    rc: str | None
    action: str | None


@dataclass(frozen=True)
class Check:
    source: Source
    name: Value | None
    type: Value | None
    module: Value | None
    interval: Value | None
    actions: tuple[ActionDecl, ...] | None  # None when the check has no <action_list>


@dataclass(frozen=True)
class Lems:
    file: str
    programs: str | None  # only to find a check program given by a relative name
    checks: tuple[Check, ...]


def _actions(check: Element, file: str, report: Report) -> tuple[ActionDecl, ...] | None:
    action_list = first(check, "action_list", file, report)
    if action_list is None:
        return None
    out = []
    for action in action_list.all("action"):
        action.taken = True
        out.append(ActionDecl(Source(file, action.line), action.attr("rc"), action.attr("action")))
    return tuple(out)


def _check(element: Element, file: str, report: Report) -> Check:
    element.taken = True
    return Check(
        source=Source(file, element.line),
        name=value(element, "name", file, report),
        type=value(element, "type", file, report),
        module=value(element, "module", file, report),
        interval=value(element, "interval", file, report),
        actions=_actions(element, file, report),
    )


def _globals(root: Element, file: str, report: Report) -> str | None:
    programs = None
    for element in root.all("globals"):
        element.taken = True
        for name, why in _GLOBALS_WHY.items():
            value = element.attr(name)
            if value is not None:
                report.dropped(Source(file, element.line), f"{element.path} {name}={value!r}", why)
                programs = value if name == "programs" and programs is None else programs
    return programs


def read_lems(root: Element, instructions: list[Untaken], file: str, report: Report) -> Lems:
    if root.tag != "lems_config":
        raise LinuxhaError(file, root.line, f"the root element is <{root.tag}>, not <lems_config>")
    root.taken = True
    lems = Lems(
        file=file,
        programs=_globals(root, file, report),
        checks=tuple(_check(element, file, report) for element in root.all("check")),
    )
    for item in [*instructions, *untaken(root)]:
        report.dropped(Source(file, item.line), item.what, "not in the lems vocabulary the import knows")
    return lems
