"""Typed references to the resources a node holds: what drift names and what a plan acts on.

Diff and plan meet on these, never on formatted strings, so a record that drift reports is the
record the planner looks up. In JSON (plans, reports, the schemas) a reference is written
`kind:name` (`lv:virtvg/lv01`), as before.
"""

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, WithJsonSchema


class RefKind(StrEnum):
    APP = "app"
    VG = "vg"
    LV = "lv"
    DRBD = "drbd"
    FILE = "file"
    DIR = "dir"
    FS = "fs"
    LINK = "link"
    IP = "ip"
    DOMAIN = "domain"
    SECTION = "section"  # an observation section that failed or printed something unknown


class ResourceRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: RefKind
    name: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.name}"

    @classmethod
    def parse(cls, text: str) -> "ResourceRef":
        kind, sep, name = text.partition(":")
        if not sep or not name:
            raise ValueError(f"{text!r} is not a resource reference (kind:name)")
        return cls(kind=RefKind(kind), name=name)


def _coerce(value: Any) -> Any:
    return ResourceRef.parse(value) if isinstance(value, str) else value


Ref = Annotated[
    ResourceRef,
    BeforeValidator(_coerce),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": "^[a-z]+:.+$", "description": "kind:name"}),
]


def vg(name: str) -> ResourceRef:
    return ResourceRef(kind=RefKind.VG, name=name)


def lv(vg_name: str, lv_name: str) -> ResourceRef:
    return ResourceRef(kind=RefKind.LV, name=f"{vg_name}/{lv_name}")


def drbd(resource: str) -> ResourceRef:
    return ResourceRef(kind=RefKind.DRBD, name=resource)


def file(path: str) -> ResourceRef:
    return ResourceRef(kind=RefKind.FILE, name=path)


def directory(path: str) -> ResourceRef:
    return ResourceRef(kind=RefKind.DIR, name=path)


def fs(mount_point: str) -> ResourceRef:
    return ResourceRef(kind=RefKind.FS, name=mount_point)


def link(interface: str) -> ResourceRef:
    return ResourceRef(kind=RefKind.LINK, name=interface)


def ip(cidr: str) -> ResourceRef:
    return ResourceRef(kind=RefKind.IP, name=cidr)


def domain(name: str) -> ResourceRef:
    return ResourceRef(kind=RefKind.DOMAIN, name=name)


def app(name: str) -> ResourceRef:
    return ResourceRef(kind=RefKind.APP, name=name)


def section(name: str) -> ResourceRef:
    return ResourceRef(kind=RefKind.SECTION, name=name)
