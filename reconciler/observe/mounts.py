"""Parser of /proc/<pid>/mountinfo, the kernel's mount table (see proc(5), "mountinfo").

One line per mount:

    36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
    (1)(2) (3)   (4)   (5)      (6)      (7)   (8) (9)    (10)         (11)

mount ID, parent ID, major:minor, root, mount point, per-mount options, zero or more optional
fields, a lone "-", filesystem type, source, per-superblock options. The kernel escapes space,
tab, newline and backslash in paths and in the source as \\040, \\011, \\012, \\134 (and in option
values commas too, as \\054), so a field never holds a raw space; they are decoded here.
"""

import re
from collections.abc import Callable

from reconciler.observe.errors import ParseError
from reconciler.observe.facts import Fact, Unrecognised

KIND = "mountinfo"

_OCTAL = re.compile(rb"\\([0-3][0-7]{2})")
_DEVICE = re.compile(r"(\d+):(\d+)")
_RW = re.compile(r"r[ow](?:,|$)")
_TAGGED = re.compile(r"(shared|master|propagate_from):(\d+)")


class Mount(Fact):
    """One mount. `root` is the path inside the filesystem that is mounted at `mount_point`
    (not "/" for bind mounts of a subdirectory). Propagation: `shared` is the peer group this
    mount shares events with, `master` the peer group it receives them from (a slave),
    `propagate_from` the nearest dominant peer group, `unbindable` whether it refuses bind mounts.
    """

    mount_id: int
    parent_id: int
    major: int
    minor: int
    root: str
    mount_point: str
    options: tuple[str, ...]
    fstype: str
    source: str
    super_options: tuple[str, ...]
    shared: int | None = None
    master: int | None = None
    propagate_from: int | None = None
    unbindable: bool = False


class MountTable(Fact):
    """Every mount, in the kernel's order (a parent before its children)."""

    mounts: tuple[Mount, ...]
    unrecognised: tuple[Unrecognised, ...] = ()


def unescape(field: str) -> str:
    """Undo the kernel's octal escapes (\\040 -> space), byte-wise so UTF-8 names survive."""
    raw = field.encode("utf-8", "surrogateescape")
    return _OCTAL.sub(lambda m: bytes([int(m.group(1), 8)]), raw).decode("utf-8", "surrogateescape")


def _options(field: str) -> tuple[str, ...]:
    # Split before decoding: an escaped comma (\054) is part of a value, not a separator.
    return tuple(unescape(option) for option in field.split(",") if option)


def _propagation(lineno: int, fields: list[str], found: list[Unrecognised]) -> dict[str, int | bool]:
    result: dict[str, int | bool] = {}
    for tag in fields:
        m = _TAGGED.fullmatch(tag)
        if m is not None:
            result[m.group(1)] = int(m.group(2))
        elif tag == "unbindable":
            result["unbindable"] = True
        else:
            # proc(5) says new optional fields may appear: keep them visible, do not fail.
            found.append(Unrecognised(line=lineno, field="optional_fields", value=tag))
    return result


def _well_formed(fields: list[str], separator: int) -> bool:
    # The kernel starts both option lists with rw or ro, and mount points are absolute: a line
    # that breaks this has lost its field boundaries (an unescaped space, say).
    return (
        len(fields) == separator + 4
        and fields[0].isdigit()
        and fields[1].isdigit()
        and fields[4].startswith("/")
        and _RW.match(fields[5]) is not None
        and _RW.match(fields[separator + 3]) is not None
    )


def _mount(lineno: int, line: str, found: list[Unrecognised]) -> Mount:
    fields = line.split(" ")
    try:
        separator = fields.index("-", 6)
    except ValueError:
        raise ParseError(KIND, 'no " - " separator after the sixth field', line=lineno, text=line) from None
    device = _DEVICE.fullmatch(fields[2])
    if device is None or not _well_formed(fields, separator):
        raise ParseError(KIND, "not a mountinfo line", line=lineno, text=line)
    return Mount(
        mount_id=int(fields[0]),
        parent_id=int(fields[1]),
        major=int(device.group(1)),
        minor=int(device.group(2)),
        root=unescape(fields[3]),
        mount_point=unescape(fields[4]),
        options=_options(fields[5]),
        fstype=unescape(fields[separator + 1]),
        source=unescape(fields[separator + 2]),
        super_options=_options(fields[separator + 3]),
        **_propagation(lineno, fields[6:separator], found),
    )


def parse_mountinfo(text: str) -> MountTable:
    """The text of /proc/self/mountinfo -> every mount, with paths decoded."""
    found: list[Unrecognised] = []
    mounts = tuple(
        _mount(lineno, line, found) for lineno, line in enumerate(text.splitlines(), start=1) if line
    )
    return MountTable(mounts=mounts, unrecognised=tuple(found))


KINDS: dict[str, Callable[[str], Fact]] = {KIND: parse_mountinfo}
