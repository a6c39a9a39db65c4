"""Xen domain configuration files (/etc/xen/NAME), for xm and xl, read without executing them.

xm executed these files as Python; xl reads the same `key = value` lines with its own small
grammar (libxlu_cfg_y.y). Both are parsed here with `ast` and only assignments of literals are
accepted: a call, an expression or an import is a ParseError naming the line. Two things xl
accepts that Python does not read the same way are handled explicitly: `key += value` (xl
appends to the earlier value) and numbers with a leading zero, which xl reads as octal
(`010` is 8) and Python refuses.
"""

import ast
import io
import itertools
import keyword
import tokenize
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Literal

from typing_extensions import TypeAliasType

from reconciler.observe.errors import ParseError
from reconciler.observe.facts import Fact, Unrecognised

KIND = "xen-config"
MIB = 1024 * 1024

ConfigValue = TypeAliasType("ConfigValue", "str | int | float | bool | tuple[ConfigValue, ...]")


class ConfigEntry(Fact):
    """One assignment, in file order; `line` is 0 for an entry that was not read from a file."""

    key: str
    value: ConfigValue
    line: int = 0
    op: Literal["=", "+="] = "="


class ShutdownAction(StrEnum):
    """What Xen does when the domain powers off, reboots or crashes (xl.cfg spelling)."""

    DESTROY = "destroy"
    RESTART = "restart"
    PRESERVE = "preserve"
    RENAME_RESTART = "rename-restart"
    COREDUMP_DESTROY = "coredump-destroy"
    COREDUMP_RESTART = "coredump-restart"
    SOFT_RESET = "soft-reset"
    UNRECOGNISED = "?"


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


class XenConfig(Fact):
    """The entries as written, and the settings the reconciler reads from them (the last
    assignment of a key wins, `+=` appends). Sizes are bytes (the file says MiB)."""

    entries: tuple[ConfigEntry, ...]
    name: str | None
    uuid: str | None
    memory: int | None
    maxmem: int | None
    vcpus: int | None
    bootloader: str | None
    kernel: str | None
    on_poweroff: ShutdownAction | None
    on_reboot: ShutdownAction | None
    on_crash: ShutdownAction | None
    disks: tuple[DiskSpec, ...]
    vifs: tuple[VifSpec, ...]
    unrecognised: tuple[Unrecognised, ...] = ()


# --- reading the file ----------------------------------------------------------------------


def _error(message: str, line: int, lines: list[str]) -> ParseError:
    text = lines[line - 1] if 0 < line <= len(lines) else None
    return ParseError(KIND, message, line=line, text=text)


def _xl_octal_as_python(text: str, lines: list[str]) -> str:
    """Rewrite xl's octal `010` as Python's `0o10`; Python's tokenizer splits it in two."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return text  # ast.parse reports the same problem with its line
    edits: list[tuple[int, int, int, str]] = []
    for zero, digits in itertools.pairwise(tokens):
        adjacent = zero.type == digits.type == tokenize.NUMBER and zero.end == digits.start
        if adjacent and zero.string == "0" and digits.string.isdigit():
            if set(digits.string) - set("01234567"):
                raise _error(f"not an octal number: 0{digits.string}", zero.start[0], lines)
            edits.append((zero.start[0], zero.start[1], digits.end[1], "0o" + digits.string))
    rows = text.splitlines(keepends=True)
    for row, start, end, replacement in reversed(edits):
        rows[row - 1] = rows[row - 1][:start] + replacement + rows[row - 1][end:]
    return "".join(rows)


def _literal(node: ast.expr, lines: list[str]) -> ConfigValue:
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float):
        return node.value  # bool is an int; bytes, None and complex are not accepted
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _literal(node.operand, lines)
        if isinstance(operand, int | float) and not isinstance(operand, bool):
            return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.List | ast.Tuple):
        return tuple(_literal(item, lines) for item in node.elts)
    raise _error(f"not a literal value: {ast.unparse(node)}", node.lineno, lines)


def _entry(statement: ast.stmt, lines: list[str]) -> ConfigEntry:
    op: Literal["=", "+="]
    if (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
    ):
        key, op = statement.targets[0].id, "="
    elif (
        isinstance(statement, ast.AugAssign)
        and isinstance(statement.op, ast.Add)
        and isinstance(statement.target, ast.Name)
    ):
        key, op = statement.target.id, "+="
    else:
        raise _error("only `key = value` assignments are allowed", statement.lineno, lines)
    value = _literal(statement.value, lines)
    return ConfigEntry(key=key, value=value, line=statement.lineno, op=op)


def _join(before: ConfigValue, after: ConfigValue) -> ConfigValue | None:
    if isinstance(before, str) and isinstance(after, str):
        return before + after
    if isinstance(before, tuple) and isinstance(after, tuple):
        return before + after
    return None


def _resolve(entries: Iterable[ConfigEntry], lines: list[str]) -> dict[str, ConfigEntry]:
    """The effective value of each key: a later `=` replaces, `+=` appends as xl does."""
    resolved: dict[str, ConfigEntry] = {}
    for entry in entries:
        before = resolved.get(entry.key)
        if entry.op == "=" or before is None:
            resolved[entry.key] = entry
        else:
            joined = _join(before.value, entry.value)
            if joined is None:
                raise _error("`+=` appends a string to a string or a list to a list", entry.line, lines)
            resolved[entry.key] = entry.model_copy(update={"value": joined})
    return resolved


# --- the settings the reconciler reads ------------------------------------------------------


_ACTIONS = frozenset(action.value for action in ShutdownAction) - {ShutdownAction.UNRECOGNISED.value}


class _Settings:
    def __init__(self, resolved: dict[str, ConfigEntry], lines: list[str]) -> None:
        self.resolved = resolved
        self.lines = lines
        self.unrecognised: list[Unrecognised] = []

    def text(self, key: str) -> str | None:
        entry = self.resolved.get(key)
        if entry is None:
            return None
        if not isinstance(entry.value, str):
            raise _error(f"{key} must be a string", entry.line, self.lines)
        return entry.value

    def number(self, key: str) -> int | None:
        """An integer; xl also takes it quoted ("512") and in C notation (0x200, 01000)."""
        entry = self.resolved.get(key)
        if entry is None:
            return None
        value = entry.value
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            digits = value.strip()
            octal = len(digits) > 1 and digits.startswith("0") and digits.isdigit()
            try:
                return int(digits, 8) if octal else int(digits, 0)
            except ValueError:
                pass
        raise _error(f"{key} must be an integer", entry.line, self.lines)

    def strings(self, key: str) -> list[tuple[str, int]]:
        entry = self.resolved.get(key)
        if entry is None:
            return []
        if not isinstance(entry.value, tuple) or not all(isinstance(v, str) for v in entry.value):
            raise _error(f"{key} must be a list of strings", entry.line, self.lines)
        return [(str(item), entry.line) for item in entry.value]

    def action(self, key: str) -> ShutdownAction | None:
        value = self.text(key)
        if value is None:
            return None
        if value in _ACTIONS:
            return ShutdownAction(value)
        self.unrecognised.append(Unrecognised(line=self.resolved[key].line, field=key, value=value))
        return ShutdownAction.UNRECOGNISED


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
                raise _error(f"disk {spec!r}: {problem}", line, lines or [])
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
            raise _error(f"vif {spec!r}: {item!r} is not key=value", line, lines or [])
        options[key.strip()] = value.strip()
    return VifSpec(spec=spec, mac=options.get("mac"), bridge=options.get("bridge"), options=options)


def parse_xen_config(text: str) -> XenConfig:
    lines = text.splitlines()
    try:
        tree = ast.parse(_xl_octal_as_python(text, lines))
    except SyntaxError as error:
        raise _error(error.msg, error.lineno or 0, lines) from None
    entries = tuple(_entry(statement, lines) for statement in tree.body)
    settings = _Settings(_resolve(entries, lines), lines)
    memory, maxmem = settings.number("memory"), settings.number("maxmem")
    return XenConfig(
        entries=entries,
        name=settings.text("name"),
        uuid=settings.text("uuid"),
        memory=memory * MIB if memory is not None else None,
        maxmem=maxmem * MIB if maxmem is not None else None,
        vcpus=settings.number("vcpus"),
        bootloader=settings.text("bootloader"),
        kernel=settings.text("kernel"),
        on_poweroff=settings.action("on_poweroff"),
        on_reboot=settings.action("on_reboot"),
        on_crash=settings.action("on_crash"),
        disks=tuple(parse_disk_spec(spec, line, lines) for spec, line in settings.strings("disk")),
        vifs=tuple(parse_vif_spec(spec, line, lines) for spec, line in settings.strings("vif")),
        unrecognised=tuple(settings.unrecognised),
    )


# --- writing it back ------------------------------------------------------------------------

_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\t": "\\t",
    "\r": "\\r",
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\v": "\\v",
}
# Both xl's lexer and Python read these escapes back; other control characters go as \xHH.
_QUOTING = {ord(char): escape for char, escape in _ESCAPES.items()} | {
    code: f"\\x{code:02x}" for code in [*range(0x20), 0x7F] if chr(code) not in _ESCAPES
}


def _quote(text: str) -> str:
    return '"' + text.translate(_QUOTING) + '"'


def _render_value(value: ConfigValue) -> str:
    if isinstance(value, bool):
        return repr(value)  # xm only: xl has no booleans, write 0/1 for a file xl will read
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _quote(value)
    if not value:
        return "[]"
    return "[ " + ", ".join(_render_value(item) for item in value) + " ]"


def render_xen_config(entries: Iterable[ConfigEntry | tuple[str, ConfigValue]]) -> str:
    """The canonical text of `entries`: one `key = value` per line, in order, no comments."""
    out = []
    for entry in entries:
        item = entry if isinstance(entry, ConfigEntry) else ConfigEntry(key=entry[0], value=entry[1])
        if not item.key.isidentifier() or keyword.iskeyword(item.key):
            raise ValueError(f"not a configuration key: {item.key!r}")
        out.append(f"{item.key} {item.op} {_render_value(item.value)}\n")
    return "".join(out)


KINDS: dict[str, Callable[[str], Fact]] = {KIND: parse_xen_config}
