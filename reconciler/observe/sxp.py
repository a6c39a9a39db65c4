"""A reader for the S-expressions of xend (`xm list --long`, `xl list -l` up to Xen 4.1).

The syntax follows xend's own reader (tools/python/xen/xend/sxp.py): lists in parentheses,
atoms separated by whitespace or parentheses, strings quoted with ' or " and C-like escapes,
and `#` comments up to the end of the line. The result is a generic tree that keeps the line
of every node, so that the code extracting facts from it can quote where a value came from.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from reconciler.observe.errors import ParseError

_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "n": "\n",
    "v": "\v",
    "f": "\f",
    "r": "\r",
    "\\": "\\",
    "'": "'",
    '"': '"',
}
_ATOM_END = frozenset(" \t\n\v\f\r()#")
_OCTAL = frozenset("01234567")
_HEX = frozenset("0123456789abcdefABCDEF")


@dataclass(frozen=True)
class Atom:
    """A bare or quoted atom; `quoted` tells `'6'` from `6` when it matters."""

    text: str
    line: int
    quoted: bool = False


@dataclass(frozen=True)
class SList:
    """A parenthesised list; `line` is the line of its opening parenthesis."""

    items: "tuple[Node, ...]"
    line: int

    @property
    def head(self) -> str | None:
        """The leading atom, which names the form: `domain` in `(domain ...)`."""
        if self.items and isinstance(self.items[0], Atom):
            return self.items[0].text
        return None

    @property
    def args(self) -> "tuple[Node, ...]":
        return self.items[1:]

    def children(self, name: str) -> Iterator["SList"]:
        """Every sub-list named `name`, in order: `(device ...)` appears once per device."""
        for item in self.args:
            if isinstance(item, SList) and item.head == name:
                yield item

    def child(self, name: str) -> "SList | None":
        return next(self.children(name), None)

    def value(self, name: str) -> Atom | None:
        """The atom of `(name atom)`; None when the form is absent or empty, as in `(bootloader )`."""
        found = self.child(name)
        if found is None or not found.args or not isinstance(found.args[0], Atom):
            return None
        return found.args[0]


Node = Atom | SList


class _SxpReader:
    """One pass over the text; `pos` and `line` always describe the next unread character."""

    def __init__(self, text: str, kind: str) -> None:
        self.text = text
        self.kind = kind
        self.pos = 0
        self.line = 1

    def error(self, message: str, line: int) -> ParseError:
        lines = self.text.splitlines()
        quoted = lines[line - 1] if 0 < line <= len(lines) else None
        return ParseError(self.kind, message, line=line, text=quoted)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self) -> str:
        char = self.text[self.pos]
        self.pos += 1
        if char == "\n":
            self.line += 1
        return char

    def read_all(self) -> tuple[Node, ...]:
        stack: list[tuple[int, list[Node]]] = [(0, [])]
        while True:
            char = self.peek()
            if char == "":
                break
            if char in " \t\n\v\f\r":
                self.take()
            elif char == "#":
                while self.peek() not in ("", "\n"):
                    self.take()
            elif char == "(":
                stack.append((self.line, []))
                self.take()
            elif char == ")":
                if len(stack) == 1:
                    raise self.error("unbalanced ')'", self.line)
                self.take()
                opened, items = stack.pop()
                stack[-1][1].append(SList(tuple(items), opened))
            elif char in "'\"":
                stack[-1][1].append(self.read_string())
            else:
                stack[-1][1].append(self.read_atom())
        if len(stack) > 1:
            raise self.error("'(' never closed", stack[-1][0])
        return tuple(stack[0][1])

    def read_atom(self) -> Atom:
        line, start = self.line, self.pos
        while self.peek() not in _ATOM_END and self.peek() != "":
            self.take()
        return Atom(self.text[start : self.pos], line)

    def read_string(self) -> Atom:
        line = self.line
        delimiter = self.take()
        chars: list[str] = []
        while True:
            char = self.peek()
            if char == "":
                raise self.error("string never closed", line)
            self.take()
            if char == delimiter:
                return Atom("".join(chars), line, quoted=True)
            chars.append(self.read_escape() if char == "\\" else char)

    def read_escape(self) -> str:
        char = self.peek()
        if char == "":
            return "\\"
        if char in _ESCAPES:
            self.take()
            return _ESCAPES[char]
        if char == "x":
            self.take()
            return chr(int(self.read_digits(_HEX, 2, "hex escape"), 16))
        if char in _OCTAL:
            return chr(int(self.read_digits(_OCTAL, 3, "octal escape"), 8))
        # xend drops an unknown escape's character; keeping both loses nothing.
        return "\\"

    def read_digits(self, allowed: frozenset[str], most: int, what: str) -> str:
        digits = ""
        while len(digits) < most and self.peek() in allowed and self.peek() != "":
            digits += self.take()
        if not digits:
            raise self.error(f"{what} without digits", self.line)
        if int(digits, 16 if allowed is _HEX else 8) > 0xFF:
            raise self.error(f"{what} out of range: {digits}", self.line)
        return digits


def read_sxp(text: str, kind: str = "xen-sxp") -> tuple[Node, ...]:
    """Every top-level node of `text`; `kind` names the format in the ParseError raised."""
    return _SxpReader(text, kind).read_all()
