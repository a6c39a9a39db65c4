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

from reconciler.observe.facts import Fact, Unrecognised
from reconciler.observe.xen_devices import (
    KIND,
    DiskSpec,
    VifSpec,
    config_error,
    parse_disk_spec,
    parse_vif_spec,
)

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
                raise config_error(f"not an octal number: 0{digits.string}", zero.start[0], lines)
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
    raise config_error(f"not a literal value: {ast.unparse(node)}", node.lineno, lines)


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
        raise config_error("only `key = value` assignments are allowed", statement.lineno, lines)
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
                raise config_error("`+=` appends a string to a string or a list to a list", entry.line, lines)
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
            raise config_error(f"{key} must be a string", entry.line, self.lines)
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
        raise config_error(f"{key} must be an integer", entry.line, self.lines)

    def strings(self, key: str) -> list[tuple[str, int]]:
        entry = self.resolved.get(key)
        if entry is None:
            return []
        if not isinstance(entry.value, tuple) or not all(isinstance(v, str) for v in entry.value):
            raise config_error(f"{key} must be a list of strings", entry.line, self.lines)
        return [(str(item), entry.line) for item in entry.value]

    def action(self, key: str) -> ShutdownAction | None:
        value = self.text(key)
        if value is None:
            return None
        if value in _ACTIONS:
            return ShutdownAction(value)
        self.unrecognised.append(Unrecognised(line=self.resolved[key].line, field=key, value=value))
        return ShutdownAction.UNRECOGNISED


def parse_xen_config(text: str) -> XenConfig:
    lines = text.splitlines()
    try:
        tree = ast.parse(_xl_octal_as_python(text, lines))
    except SyntaxError as error:
        raise config_error(error.msg, error.lineno or 0, lines) from None
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
