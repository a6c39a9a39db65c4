"""One observation pass of a node: one command (or file read) per tool, whatever the number of
applications, each output handed to its pure parser.

Tool flavours are detected from what the node has, never configured: `xl` or else `xm` for
domains; DRBD 9 or 8.x from the version line of /proc/drbd; `ip -j` or, on an iproute2 too old
for JSON, the text of `ip addr`.
"""

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import ValidationError

from reconciler.inputs import InputError, check_json_depth
from reconciler.observe.drbd.proc import parse_proc_drbd_80, parse_proc_drbd_83, parse_proc_drbd_84
from reconciler.observe.drbd.status_json import parse_status_json
from reconciler.observe.errors import ParseError
from reconciler.observe.host import HostLoad
from reconciler.observe.ip import AddrList
from reconciler.observe.ip_json import parse_addr_json
from reconciler.observe.ip_text import parse_addr_text
from reconciler.observe.lvm_json import parse_fullreport_json
from reconciler.observe.lvm_model import LvmFullReport
from reconciler.observe.mounts import MountTable, parse_mountinfo
from reconciler.observe.runner import CommandResult, Outcome, RecordingRunner, Runner
from reconciler.observe.state import DomainState, DrbdState, Observed, Section, ToolError
from reconciler.observe.xen import DomainList, parse_xl_list, parse_xm_list

LVM_REPORT = ("lvm", "fullreport", "--reportformat", "json", "--units", "b", "--nosuffix")
DRBD9_STATUS = ("drbdsetup", "status", "--json", "--statistics")
XL_LIST = ("xl", "list")
XM_LIST = ("xm", "list")
IP_ADDR_JSON = ("ip", "-j", "addr", "show")
IP_ADDR_TEXT = ("ip", "addr", "show")
_DRBD_VERSION = re.compile(r"version:\s*(\d+)\.(\d+)\S*")

T = TypeVar("T")


@dataclass(frozen=True)
class HostFiles:
    """Kernel files read directly; the lab points these at its own per-node copies."""

    proc_drbd: str = "/proc/drbd"
    mountinfo: str = "/proc/self/mountinfo"

    @classmethod
    def from_env(cls) -> "HostFiles":
        return cls(
            proc_drbd=os.environ.get("RECONCILER_PROC_DRBD", cls.proc_drbd),
            mountinfo=os.environ.get("RECONCILER_MOUNTINFO", cls.mountinfo),
        )


class _Failed(Exception):
    def __init__(self, error: ToolError) -> None:
        self.error = error


def _parsed(section: Section, result: CommandResult, parser: Callable[[str], T]) -> T:
    if not result.ok:
        raise _Failed(ToolError.of(section, result))
    command = " ".join(result.argv)
    try:
        # Parsers of nested formats recurse per level: what no tool prints is refused first.
        check_json_depth(result.stdout, f"the output of '{command}'", what="brackets")
        return parser(result.stdout)
    except (ParseError, InputError) as err:
        message = f"output of '{command}' not understood: {err}"
        raise _Failed(ToolError.of(section, result, message)) from err


def collect_lvm(runner: Runner) -> LvmFullReport:
    return _parsed(Section.LVM, runner.run(LVM_REPORT), parse_fullreport_json)


_PROC_PARSERS = {(8, 0): parse_proc_drbd_80, (8, 3): parse_proc_drbd_83, (8, 4): parse_proc_drbd_84}


def collect_drbd(runner: Runner, files: HostFiles) -> DrbdState:
    proc = runner.read(files.proc_drbd)
    if proc.outcome is Outcome.MISSING:
        return DrbdState(loaded=False)  # no module, so no resource can be up: a fact, not a failure
    if not proc.ok:
        raise _Failed(ToolError.of(Section.DRBD, proc))
    match = _DRBD_VERSION.search(proc.stdout.split("\n", 1)[0])
    if match is None:
        raise _Failed(ToolError.of(Section.DRBD, proc, f"{files.proc_drbd}: no version line"))
    major, minor = int(match[1]), int(match[2])
    version = match[0].split(":", 1)[1].strip()
    if major >= 9:
        status = _parsed(Section.DRBD, runner.run(DRBD9_STATUS), parse_status_json)
        return DrbdState(
            loaded=True, version=version, resources=status.resources, unrecognised=status.unrecognised
        )
    parser = _PROC_PARSERS.get((major, minor))
    if parser is None:
        raise _Failed(ToolError.of(Section.DRBD, proc, f"DRBD {version} is not supported (8.0, 8.3, 8.4, 9)"))
    table = _parsed(Section.DRBD, proc, parser)
    return DrbdState(loaded=True, version=version, resources=table.resources, unrecognised=table.unrecognised)


def collect_domains(runner: Runner) -> DomainState:
    for argv, parser in ((XL_LIST, parse_xl_list), (XM_LIST, parse_xm_list)):
        result = runner.run(argv)
        if result.outcome is Outcome.MISSING:
            continue
        listing: DomainList = _parsed(Section.DOMAINS, result, parser)
        return DomainState(toolstack=argv[0], domains=listing.domains, unrecognised=listing.unrecognised)
    raise _Failed(ToolError.of(Section.DOMAINS, result, "neither xl nor xm is installed"))


def collect_interfaces(runner: Runner) -> AddrList:
    result = runner.run(IP_ADDR_JSON)
    if result.outcome is Outcome.FAILED:
        # iproute2 before 4.13 has no -j; its text output carries the same facts.
        return _parsed(Section.INTERFACES, runner.run(IP_ADDR_TEXT), parse_addr_text)
    return _parsed(Section.INTERFACES, result, parse_addr_json)


def collect_mounts(runner: Runner, files: HostFiles) -> MountTable:
    return _parsed(Section.MOUNTS, runner.read(files.mountinfo), parse_mountinfo)


def collect_host(runner: Runner) -> HostLoad:
    result = runner.host()

    def parse(text: str) -> HostLoad:
        try:
            return HostLoad.model_validate_json(text)
        except ValidationError as err:
            raise ParseError("host", str(err)) from err

    return _parsed(Section.HOST, result, parse)


def observe_node(runner: Runner, files: HostFiles | None = None, now: datetime | None = None) -> Observed:
    """One pass. Every section is tried, so one failing tool does not hide the others."""
    files = files or HostFiles()
    runner = recorder = RecordingRunner(runner)
    collectors: dict[Section, Callable[[], object]] = {
        Section.HOST: lambda: collect_host(runner),
        Section.LVM: lambda: collect_lvm(runner),
        Section.DRBD: lambda: collect_drbd(runner, files),
        Section.DOMAINS: lambda: collect_domains(runner),
        Section.INTERFACES: lambda: collect_interfaces(runner),
        Section.MOUNTS: lambda: collect_mounts(runner, files),
    }
    sections: dict[str, object] = {}
    errors: list[ToolError] = []
    for section, collect in collectors.items():
        try:
            sections[section.value] = collect()
        except _Failed as failure:
            errors.append(failure.error)
    host = sections.get(Section.HOST.value)
    return Observed.model_validate(
        {
            **sections,
            "node": host.node if isinstance(host, HostLoad) else "unknown",
            "taken_at": now or datetime.now(UTC),
            "errors": tuple(errors),
            "commands": tuple(" ".join(r.argv) for r in recorder.results),
        }
    )
