"""Names and paths that are safe to hand to the host tools as single argv elements.

Commands are argv lists, so a manifest value can never be parsed by a shell; what remains to guard
against is a value that a tool reads as an option (`-rf`), a path that escapes where it is meant
to be (`../../etc`), and names the tools themselves reserve or forbid. Each type here says which
rule it enforces, so an error can tell the operator exactly what is wrong.
"""

import re
from pathlib import PurePosixPath
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, StringConstraints, WithJsonSchema

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")
# lvm2 refuses these in LV names (lib/metadata/lv_manip.c: apply_lvname_restrictions).
_LVM_RESERVED_PARTS = (
    "_cdata",
    "_cmeta",
    "_corig",
    "_mimage",
    "_mlog",
    "_pmspare",
    "_rimage",
    "_rmeta",
    "_tdata",
    "_tmeta",
    "_vdata",
    "_vorigin",
)
_LVM_RESERVED_NAMES = ("snapshot", "pvmove")
_HOSTNAME_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_IFNAME_MAX = 15  # IFNAMSIZ - 1


def _check_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a safe name: use letters, digits and _ . + -, starting with a letter or digit"
        )
    if ".." in value:
        raise ValueError(f"{value!r} is not a safe name: '..' is not allowed")
    return value


def _check_lv_name(value: str) -> str:
    _check_name(value)
    if value in _LVM_RESERVED_NAMES:
        raise ValueError(f"{value!r} is reserved by LVM")
    for part in _LVM_RESERVED_PARTS:
        if part in value:
            raise ValueError(f"{value!r} contains {part!r}, which LVM reserves for internal volumes")
    return value


def _check_hostname(value: str) -> str:
    if len(value) > 253 or not all(_HOSTNAME_LABEL.fullmatch(label) for label in value.split(".")):
        raise ValueError(
            f"{value!r} is not a valid node name: use host name labels of letters, digits and '-'"
        )
    return value


def _check_ifname(value: str) -> str:
    if not value or len(value) > _IFNAME_MAX:
        raise ValueError(f"{value!r} is not an interface name: 1 to {_IFNAME_MAX} characters")
    if (
        value in (".", "..")
        or value.startswith("-")
        or any(c in value for c in "/:")
        or not value.isprintable()
    ):
        raise ValueError(f"{value!r} is not an interface name: no '/', ':', spaces, or leading '-'")
    if any(c.isspace() for c in value):
        raise ValueError(f"{value!r} is not an interface name: no white space")
    return value


def _check_absolute_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"{value!r} must be an absolute path (starting with '/')")
    if any(c in value for c in "\0\n\r\t") or not value.isprintable():
        raise ValueError(f"{value!r} contains control characters")
    parts = PurePosixPath(value).parts
    if ".." in parts or "." in value.split("/"):
        raise ValueError(f"{value!r} must be a plain path, without '.' or '..' components")
    if value != "/" and (value.endswith("/") or "//" in value):
        raise ValueError(f"{value!r} must be written without repeated or trailing '/'")
    return value


def _check_device_path(value: str) -> str:
    _check_absolute_path(value)
    if not value.startswith("/dev/") or value == "/dev/":
        raise ValueError(f"{value!r} must be a device path under /dev/")
    return value


def _check_argv(value: Any) -> Any:
    if isinstance(value, str):
        raise ValueError(
            "a command is an argv list, not a shell string: write "
            f"[{', '.join(repr(w) for w in value.split())}]"
        )
    return value


def _check_argv_items(value: tuple[str, ...]) -> tuple[str, ...]:
    if not value:
        raise ValueError("a command needs at least the program to run")
    if not value[0].startswith("/"):
        raise ValueError(f"the program {value[0]!r} must be given by its absolute path (no PATH lookup)")
    if any("\0" in word or "\n" in word for word in value):
        raise ValueError("a command word contains a NUL or newline")
    return value


Name = Annotated[str, StringConstraints(min_length=1, max_length=63), AfterValidator(_check_name)]
"""A name for an application, DRBD resource, domain, volume group or network."""

LvName = Annotated[str, StringConstraints(min_length=1, max_length=63), AfterValidator(_check_lv_name)]
"""A logical volume name, with LVM's own reserved names and parts refused."""

NodeName = Annotated[str, AfterValidator(_check_hostname)]
"""A node's host name, as `uname -n` prints it."""

InterfaceName = Annotated[str, AfterValidator(_check_ifname)]
"""A Linux network interface name (at most 15 characters)."""

AbsolutePath = Annotated[str, AfterValidator(_check_absolute_path)]
"""An absolute, normalised path: no '..', no '.', no repeated or trailing '/'."""

DevicePath = Annotated[str, AfterValidator(_check_device_path)]
"""A block device path under /dev/."""


Argv = Annotated[
    tuple[str, ...],
    BeforeValidator(_check_argv),
    AfterValidator(_check_argv_items),
    WithJsonSchema({"type": "array", "items": {"type": "string"}, "minItems": 1}),
]
"""A command as an argv list whose program is an absolute path; never a shell string."""
