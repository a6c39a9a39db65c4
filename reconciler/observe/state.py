"""The observed state of one node: every section parsed, or the reason it could not be.

A section is either there (possibly empty: no volume groups is a fact) or absent with a
`ToolError` that names the command, its outcome and its stderr. The model refuses an absent
section without its error, so "tool failed" can never pass for "nothing there".
"""

from datetime import datetime
from enum import StrEnum
from typing import Self

from pydantic import model_validator

from reconciler.observe.drbd.models import Resource
from reconciler.observe.facts import Fact, Unrecognised
from reconciler.observe.host import HostLoad
from reconciler.observe.ip import AddrList, Interface
from reconciler.observe.lvm_model import LvmFullReport
from reconciler.observe.mounts import Mount, MountTable
from reconciler.observe.runner import CommandResult, Outcome
from reconciler.observe.xen import XenDomain


class Section(StrEnum):
    LVM = "lvm"
    DRBD = "drbd"
    DOMAINS = "domains"
    INTERFACES = "interfaces"
    MOUNTS = "mounts"
    HOST = "host"


class ToolError(Fact):
    section: Section
    command: str
    outcome: Outcome
    returncode: int | None = None
    stderr: str = ""
    message: str

    @classmethod
    def of(cls, section: Section, result: CommandResult, message: str | None = None) -> "ToolError":
        return cls(
            section=section,
            command=" ".join(result.argv),
            outcome=result.outcome,
            returncode=result.returncode,
            stderr="\n".join(result.stderr.strip().splitlines()[-5:]),
            message=message or result.describe(),
        )


class DrbdState(Fact):
    """DRBD as the kernel has it: not loaded (no resources), or a version and its resources."""

    loaded: bool
    version: str | None = None
    resources: tuple[Resource, ...] = ()
    unrecognised: tuple[Unrecognised, ...] = ()


class DomainState(Fact):
    toolstack: str  # "xl" or "xm": whichever the node has, detected
    domains: tuple[XenDomain, ...] = ()
    unrecognised: tuple[Unrecognised, ...] = ()


class Observed(Fact):
    node: str
    taken_at: datetime
    lvm: LvmFullReport | None = None
    drbd: DrbdState | None = None
    domains: DomainState | None = None
    interfaces: AddrList | None = None
    mounts: MountTable | None = None
    host: HostLoad | None = None
    errors: tuple[ToolError, ...] = ()
    commands: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _absent_only_with_a_reason(self) -> Self:
        failed = {e.section for e in self.errors}
        for section in Section:
            if getattr(self, section.value) is None and section not in failed:
                raise ValueError(f"section {section.value} is absent without an error saying why")
        return self

    def interface(self, name: str) -> Interface | None:
        if self.interfaces is None:
            return None
        return next((i for i in self.interfaces.interfaces if i.name == name), None)

    def mount_at(self, mount_point: str) -> Mount | None:
        if self.mounts is None:
            return None
        # The last mount on a point is the visible one (mountinfo lists them in mount order).
        return next((m for m in reversed(self.mounts.mounts) if m.mount_point == mount_point), None)

    def surprises(self) -> list[tuple[Section, Unrecognised]]:
        """Every state value a parser did not know, so they are shown instead of dropped."""
        out: list[tuple[Section, Unrecognised]] = []
        for section in Section:
            value = getattr(self, section.value)
            out.extend((section, u) for u in getattr(value, "unrecognised", ()))
        return out
