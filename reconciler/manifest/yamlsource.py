"""YAML documents with the file, line and column of every value.

ruamel.yaml's round-trip loader keeps positions on every mapping and sequence; we keep its tree
beside the plain data handed to pydantic, so that an error path from validation, or a value the
diff later reports, can be traced back to `file:line:column`.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from reconciler.manifest.diagnostics import Diagnostic, Position

MANIFEST_SUFFIXES = (".yaml", ".yml")
# Anchors and aliases are allowed, but a document whose aliases expand past this many values is
# refused: validating it would take exponential time (the "billion laughs" document).
MAX_VALUES = 200_000

PathElement = str | int


@dataclass(frozen=True)
class SourceDocument:
    """One YAML document of a file: its plain data, and the ruamel tree that knows positions."""

    file: str
    index: int
    tree: Any
    data: Any
    start: Position

    def locate(self, path: Sequence[PathElement], *, key: bool = False) -> Position:
        """Where the value at `path` is declared; the nearest enclosing one when it is absent.

        Elements of `path` that are not in the tree (a union tag in a pydantic error location, a
        missing key) are passed over. With `key=True`, point at the key rather than its value.
        """
        return self.resolve(path, key=key)[0]

    def resolve(
        self, path: Sequence[PathElement], *, key: bool = False
    ) -> tuple[Position, tuple[PathElement, ...]]:
        """`locate`, and the part of `path` that exists in the document (its YAML path)."""
        node, position = self.tree, self.start
        found: list[PathElement] = []
        last = len(path) - 1
        for i, element in enumerate(path):
            if isinstance(node, CommentedMap) and element in node:
                # A mapping or list is shown at its key: "arbitration:" rather than its first child.
                at_key = (key and i == last) or isinstance(node[element], CommentedMap | CommentedSeq)
                at = node.lc.key(element) if at_key else node.lc.value(element)
                position, node = self._at(at), node[element]
            elif isinstance(node, CommentedSeq) and isinstance(element, int) and 0 <= element < len(node):
                position, node = self._at(node.lc.item(element)), node[element]
            else:
                continue
            found.append(element)
        return position, tuple(found)

    def _at(self, line_col: tuple[int, int]) -> Position:
        line, col = line_col
        return Position(file=self.file, line=line + 1, column=col + 1)


@dataclass
class ReadResult:
    documents: list[SourceDocument] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def manifest_files(paths: Sequence[Path]) -> Iterator[Path]:
    """The YAML files named, and those under the directories named, in a stable order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in MANIFEST_SUFFIXES and p.is_file())
        else:
            yield path


def read_file(path: Path, display: str) -> ReadResult:
    result = ReadResult()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        result.diagnostics.append(_file_error(display, "not-found", "no such file or directory"))
        return result
    except UnicodeDecodeError as err:
        result.diagnostics.append(_file_error(display, "not-utf8", f"not UTF-8 text ({err.reason})"))
        return result
    except OSError as err:
        result.diagnostics.append(_file_error(display, "unreadable", err.strerror or str(err)))
        return result
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        trees = list(yaml.load_all(text))
    except MarkedYAMLError as err:
        result.diagnostics.append(_yaml_error(display, err))
        return result
    except YAMLError as err:  # an error without a position still names the file
        result.diagnostics.append(_file_error(display, "yaml-syntax", str(err)))
        return result
    for index, tree in enumerate(trees):
        if tree is None:
            continue  # an empty document, e.g. after a trailing '---'
        start = _start_of(tree, display)
        try:
            data = to_plain(tree, _Budget())
        except _TooLarge:
            result.diagnostics.append(
                Diagnostic(
                    position=start,
                    code="too-large",
                    message=f"the document expands to more than {MAX_VALUES} values (aliases?)",
                )
            )
            continue
        result.documents.append(SourceDocument(file=display, index=index, tree=tree, data=data, start=start))
    return result


def _start_of(tree: Any, file: str) -> Position:
    lc = getattr(tree, "lc", None)
    if lc is None or lc.line is None:
        return Position(file=file, line=1, column=1)
    return Position(file=file, line=lc.line + 1, column=lc.col + 1)


class _TooLarge(Exception):
    pass


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_VALUES

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise _TooLarge


def to_plain(node: Any, budget: _Budget) -> Any:
    """ruamel's round-trip types to plain dict/list/str/int/float/bool for pydantic.

    ruamel's scalar subclasses (ScalarBoolean is an int, ScalarFloat a float) would otherwise fail
    pydantic's strict checks or slip through its lax ones.
    """
    budget.spend()
    if isinstance(node, dict):
        return {to_plain(k, budget): to_plain(v, budget) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v, budget) for v in node]
    if isinstance(node, bool) or type(node).__name__ == "ScalarBoolean":
        return bool(node)
    for plain in (str, int, float):
        if isinstance(node, plain):
            return plain(node)
    return node


def _file_error(file: str, code: str, message: str) -> Diagnostic:
    return Diagnostic(position=Position(file=file, line=1, column=1), code=code, message=message)


def _yaml_error(file: str, err: MarkedYAMLError) -> Diagnostic:
    mark = err.problem_mark or err.context_mark
    line = mark.line + 1 if mark is not None else 1
    column = mark.column + 1 if mark is not None else 1
    problem = err.problem or err.context or "invalid YAML"
    if isinstance(err, DuplicateKeyError):
        code, message = "duplicate-key", f"{problem}; a key may appear only once in a mapping"
    else:
        code, message = (
            "yaml-syntax",
            f"{problem} ({err.context})" if err.context and err.problem else problem,
        )
    return Diagnostic(position=Position(file=file, line=line, column=column), code=code, message=message)
