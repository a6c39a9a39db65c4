"""The `disk` and `vif` entries of a Xen domain configuration file, read as xl reads them.

Part of the reader in `xen_config`; a spec xl would refuse is a ParseError of that kind, quoting
the file's line.
"""

from reconciler.observe.errors import ParseError
from reconciler.observe.facts import Fact

KIND = "xen-config"


def config_error(message: str, line: int, lines: list[str]) -> ParseError:
    text = lines[line - 1] if 0 < line <= len(lines) else None
    return ParseError(KIND, message, line=line, text=text)


class DiskSpec(Fact):
    """One `disk` entry, read as xl reads it (docs/misc/xl-disk-configuration.txt), old xm
    form included: `phy:/dev/vg/lv,xvda,w` gives prefixes ("phy",), target, vdev and access."""

    spec: str
    target: str | None
    format: str | None
    vdev: str | None
    access: str | None
    devtype: str | None
    backendtype: str | None
    script: str | None
    prefixes: tuple[str, ...]
    flags: tuple[str, ...]
    options: dict[str, str]
    writable: bool


class VifSpec(Fact):
    """One `vif` entry: `mac=...,bridge=...` settings; `''` is a vif with every default."""

    spec: str
    mac: str | None
    bridge: str | None
    options: dict[str, str]


_DISK_FORMAT_PREFIXES = frozenset({"raw", "qcow", "qcow2", "vhd"})
_DISK_SCRIPT_PREFIXES = frozenset({"iscsi", "nbd", "enbd", "drbd"})
_DISK_IGNORED_PREFIXES = frozenset({"tapdisk", "tap", "tap2", "aio", "ioemu", "file", "phy"})
_DISK_PREFIXES = _DISK_FORMAT_PREFIXES | _DISK_SCRIPT_PREFIXES | _DISK_IGNORED_PREFIXES
_DISK_FLAGS = frozenset(
    {"direct-io-safe", "discard", "no-discard", "colo", "no-colo", "trusted", "untrusted"}
)
_DISK_KEYS = frozenset({"format", "access", "vdev", "devtype", "backendtype", "script", "target"})


def _disk_positional(item: str, fields: dict[str, str], had_prefix: bool) -> str | None:
    """Assign a positional parameter as libxlu_disk_l.l does; returns an error or None."""
    if "target" not in fields:
        fields["target"] = item
    elif not had_prefix and "format" not in fields:
        if fields["target"] == "" and ":" in item:  # xend's empty cdrom: ",hdc:cdrom,r"
            fields["vdev"], _, fields["devtype"] = item.rpartition(":")
        else:
            fields["format"] = item
    elif "vdev" not in fields:
        vdev, colon, devtype = item.rpartition(":")
        fields.update({"vdev": vdev, "devtype": devtype} if colon else {"vdev": item})
    elif "access" not in fields:
        fields["access"] = item
    else:
        return f"too many positional parameters at {item!r}"
    return None


def _strip_disk_prefixes(item: str, fields: dict[str, str], prefixes: list[str]) -> str:
    """Remove xend's prefixes (`phy:`, `tap:aio:`, `raw:`...); some of them set a field."""
    while True:
        prefix, colon, rest = item.partition(":")
        if not colon or prefix not in _DISK_PREFIXES:
            return item
        prefixes.append(prefix)
        if prefix in _DISK_FORMAT_PREFIXES:
            fields["format"] = prefix
        elif prefix in _DISK_SCRIPT_PREFIXES:
            fields["script"] = "block-" + prefix
        item = rest


def parse_disk_spec(spec: str, line: int = 0, lines: list[str] | None = None) -> DiskSpec:
    """One disk spec, parameter by parameter as libxlu_disk_l.l reads it; `line` is quoted
    in the ParseError of a spec xl would refuse."""
    fields: dict[str, str] = {}
    options: dict[str, str] = {}
    flags: list[str] = []
    prefixes: list[str] = []
    rest = spec
    while rest:
        rest = rest.lstrip(" \t\n")
        if not rest:
            break
        if rest.startswith("target="):  # consumes the rest of the spec, commas included
            fields["target"] = rest.removeprefix("target=").removesuffix(",")
            break
        item, _, rest = rest.partition(",")
        key, equals, value = item.partition("=")
        if equals:
            (fields if key in _DISK_KEYS else options)[key] = value
        elif item == "cdrom":
            fields["devtype"] = "cdrom"
        elif item in _DISK_FLAGS:
            flags.append(item)
        else:
            item = _strip_disk_prefixes(item, fields, prefixes)
            problem = _disk_positional(item, fields, bool(prefixes))
            if problem is not None:
                raise config_error(f"disk {spec!r}: {problem}", line, lines or [])
    access, devtype = fields.get("access") or None, fields.get("devtype") or None
    return DiskSpec(
        spec=spec,
        target=fields.get("target"),
        format=fields.get("format") or None,
        vdev=fields.get("vdev") or None,
        access=access,
        devtype=devtype,
        backendtype=fields.get("backendtype") or None,
        script=fields.get("script") or None,
        prefixes=tuple(prefixes),
        flags=tuple(flags),
        options=options,
        writable=access not in ("r", "ro") if access is not None else devtype != "cdrom",
    )


def parse_vif_spec(spec: str, line: int = 0, lines: list[str] | None = None) -> VifSpec:
    """Comma-separated key=value settings (docs/misc/xl-network-configuration)."""
    options: dict[str, str] = {}
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        key, equals, value = item.partition("=")
        if not equals:
            raise config_error(f"vif {spec!r}: {item!r} is not key=value", line, lines or [])
        options[key.strip()] = value.strip()
    return VifSpec(spec=spec, mac=options.get("mac"), bridge=options.get("bridge"), options=options)
