"""Errors about manifests: where (file, line, column), what, and how to fix it.

A diagnostic is data; the renderers below turn a list of them into the text a person reads or the
JSON a CI bot reads. The JSON shape is stable: bots match on `code`.
"""

import json
from collections.abc import Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class DiagnosticSeverity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Position(BaseModel):
    model_config = ConfigDict(frozen=True)

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Diagnostic(BaseModel):
    model_config = ConfigDict(frozen=True)

    position: Position
    code: str
    message: str
    hint: str | None = None
    severity: DiagnosticSeverity = DiagnosticSeverity.ERROR

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.position.file, self.position.line, self.position.column, self.code)


def render_text(diagnostics: Sequence[Diagnostic], sources: dict[str, list[str]]) -> str:
    """`file:line:col: error[code]: message`, the source line with a caret, and the hint."""
    blocks = []
    for d in sorted(diagnostics, key=Diagnostic.sort_key):
        lines = [f"{d.position}: {d.severity.value}[{d.code}]: {d.message}"]
        source = sources.get(d.position.file, [])
        if 0 < d.position.line <= len(source):
            number = str(d.position.line)
            text, column = _window(source[d.position.line - 1].rstrip(), d.position.column)
            lines.append(f"  {number} | {text}")
            lines.append(f"  {' ' * len(number)} | {' ' * (column - 1)}^")
        if d.hint:
            lines.append(f"  hint: {d.hint}")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def _window(text: str, column: int, width: int = 100) -> tuple[str, int]:
    """The part of a long source line around `column`, and the column within it."""
    if len(text) <= width:
        return text, column
    start = max(0, min(column - 1 - width // 2, len(text) - width))
    after = "..." if start + width < len(text) else ""
    shown = ("..." if start else "") + text[start : start + width] + after
    return shown, column - start + (3 if start else 0)


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    """A stable list: {file, line, column, severity, code, message, hint}, sorted by position."""
    rows = [
        {
            "file": d.position.file,
            "line": d.position.line,
            "column": d.position.column,
            "severity": d.severity.value,
            "code": d.code,
            "message": d.message,
            "hint": d.hint,
        }
        for d in sorted(diagnostics, key=Diagnostic.sort_key)
    ]
    return json.dumps(
        {"valid": not any(d.severity is DiagnosticSeverity.ERROR for d in diagnostics), "errors": rows},
        indent=2,
    )
