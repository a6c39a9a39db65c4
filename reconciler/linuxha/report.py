"""What the import did with each piece of its input: carried over, defaulted, guessed, left as a
placeholder, or not carried over, each with the file and line it came from.

The report is data: the command prints it on stderr, and the emitter writes the same findings
into the manifest as comments, beside the value they concern when there is one.
"""

from dataclasses import dataclass, field
from enum import StrEnum

YamlPath = tuple[str | int, ...]

# A placeholder fails every manifest type it can stand in for (names, sizes, paths, numbers,
# argv lists), so `reconciler validate` refuses a manifest until each one is filled in.
PLACEHOLDER_PREFIX = "<FILL IN: "


def placeholder(what: str) -> str:
    return f"{PLACEHOLDER_PREFIX}{what}>"


class Kind(StrEnum):
    CARRIED = "carried over"
    DEFAULTED = "defaulted"
    GUESSED = "guessed"
    PLACEHOLDER = "placeholder"
    NOT_CARRIED = "not carried over"


class LinuxhaError(Exception):
    """An input that cannot be imported at all, with the file and line to look at."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {printable(self.message)}"


@dataclass(frozen=True)
class Source:
    """Where a value was read: a file, and a line when the format has lines."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Finding:
    kind: Kind
    source: Source | None
    what: str
    why: str = ""
    at: YamlPath | None = None  # where the value went in the manifest, for the YAML comment

    def location(self) -> str:
        """The input's file:line, else the place in the manifest (`spec.storage.volumeGroup.name`)."""
        if self.source is not None:
            return str(self.source)
        return dotted(self.at) if self.at else ""

    def __str__(self) -> str:
        where = f"{self.location()}: " if self.location() else ""
        why = f": {self.why}" if self.why else ""
        if self.kind is Kind.PLACEHOLDER:
            return printable(f"{where}placeholder {placeholder(self.what)}{why}")
        return printable(f"{where}{self.what} {self.kind.value}{why}")

    def comment(self) -> str:
        """The text of the comment beside the value in the manifest (which says where it is)."""
        origin = f"{self.source} {self.what}" if self.source else ""
        if self.kind is Kind.CARRIED:
            return printable(f"{origin}: {self.why}" if self.why and origin else origin or self.why)
        text = f"{self.kind.value.upper()}: {self.why}" if self.why else self.kind.value.upper()
        return printable(f"{text} ({origin})" if origin else text)


def dotted(path: YamlPath) -> str:
    """`("spec", "monitors", 0, "name")` as `spec.monitors[0].name`, the way validate names it."""
    out = ""
    for element in path:
        out += f"[{element}]" if isinstance(element, int) else f".{element}" if out else element
    return out


def printable(text: str) -> str:
    """`text` with control characters escaped.

    Input values end up in YAML comments and on a terminal: a newline would end the comment and
    start YAML that nobody wrote, an escape sequence would rewrite the operator's screen.
    """
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    def add(
        self, kind: Kind, source: Source | None, what: str, why: str = "", at: YamlPath | None = None
    ) -> None:
        self.findings.append(Finding(kind, source, what, why, at))

    def carried(self, source: Source | None, what: str, at: YamlPath, why: str = "") -> None:
        self.add(Kind.CARRIED, source, what, why, at)

    def dropped(self, source: Source | None, what: str, why: str) -> None:
        self.add(Kind.NOT_CARRIED, source, what, why)

    def placeholder(self, at: YamlPath, what: str, why: str) -> str:
        """Record a placeholder at `at` and return its text."""
        self.add(Kind.PLACEHOLDER, None, what, why, at)
        return placeholder(what)

    def notable(self) -> list[Finding]:
        """Everything but plain carrying over: what the operator must read before applying."""
        return [f for f in self.findings if f.kind is not Kind.CARRIED]

    def count(self, kind: Kind) -> int:
        return sum(1 for f in self.findings if f.kind is kind)
