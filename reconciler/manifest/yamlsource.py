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
from ruamel.yaml.composer import Composer, ComposerError
from ruamel.yaml.constructor import ConstructorError, DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scanner import ScannerError

from reconciler.inputs import MANIFEST_BYTES, YAML_DEPTH, InputError, decode_utf8, read_regular
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
    lines: list[str] = field(default_factory=list)  # the file's text, to quote in diagnostics
    size: int = 0  # bytes read


def manifest_files(paths: Sequence[Path]) -> Iterator[Path]:
    """The YAML files named, and those under the directories named, in a stable order.

    Under a directory, every entry with a YAML suffix that is not a directory is listed, FIFOs
    and devices included: `read_file` refuses them by name rather than skipping them silently.
    """
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in MANIFEST_SUFFIXES and not p.is_dir())
        else:
            yield path


def read_file(path: Path, display: str, limit: int = MANIFEST_BYTES) -> ReadResult:
    """The YAML documents of one manifest file, or the diagnostics saying why there are none.

    The file is read through the guarded entry (regular files only, at most `limit` bytes, UTF-8);
    YAML nesting is limited to YAML_DEPTH levels and a document to MAX_VALUES values, so that no
    input can exhaust the stack, the memory or the time of the validation that follows.
    """
    result = ReadResult()
    try:
        data = read_regular(path, limit, display, "manifests")
        result.size = len(data)
        text = decode_utf8(data, display)
    except InputError as err:
        where = Position(file=display, line=err.line or 1, column=1)
        problem = Diagnostic(position=where, code=err.code, message=err.message, hint=err.hint)
        result.diagnostics.append(problem)
        return result
    result.lines = text.splitlines()
    try:
        trees = _load_all(text)
    except MarkedYAMLError as err:
        result.diagnostics.append(_yaml_error(display, err))
        return result
    except (YAMLError, RecursionError) as err:  # an error without a position still names the file
        result.diagnostics.append(_file_error(display, "yaml-syntax", str(err) or type(err).__name__))
        return result
    for index, tree in enumerate(trees):
        if tree is not None:  # None: an empty document, e.g. after a trailing '---'
            _add_document(result, display, index, tree)
    if not result.documents and not result.diagnostics:
        where = Position(file=display, line=1, column=1)
        result.diagnostics.append(
            Diagnostic(
                position=where,
                code="empty-file",
                message="the file holds no manifest document",
                hint="remove it, or write a Cluster or Application document in it",
            )
        )
    return result


def _load_all(text: str) -> list[Any]:
    """The documents of `text`. A tab after a mapping's colon is white space in YAML, but
    ruamel's scanner refuses it: such a tab is read as a space (same line and column) and the
    text parsed again, once per such tab."""
    lines = text.split("\n")
    for _ in range(text.count("\t") + 1):
        try:
            return list(_yaml().load_all("\n".join(lines)))
        except ScannerError as err:
            mark = err.problem_mark
            if (
                mark is None
                or "'\\t'" not in str(err.problem)
                or not _after_colon(lines, mark.line, mark.column)
            ):
                raise
            line = lines[mark.line]
            lines[mark.line] = line[: mark.column] + " " + line[mark.column + 1 :]
    raise AssertionError("unreachable: each retry removes one tab")


def _after_colon(lines: list[str], line: int, column: int) -> bool:
    if line >= len(lines) or column >= len(lines[line]) or lines[line][column] != "\t":
        return False
    return lines[line][:column].rstrip(" \t").endswith(":")


def _add_document(result: ReadResult, display: str, index: int, tree: Any) -> None:
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
        return
    result.documents.append(SourceDocument(file=display, index=index, tree=tree, data=data, start=start))


class _DepthLimitedComposer(Composer):
    """ruamel's composer, refusing nesting past YAML_DEPTH: its constructor recurses per level."""

    nesting = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.nesting += 1
        try:
            if self.nesting > YAML_DEPTH:
                mark = self.parser.peek_event().start_mark
                raise ComposerError(None, None, f"nested deeper than {YAML_DEPTH} levels", mark)
            return super().compose_node(parent, index)
        finally:
            self.nesting -= 1


class _CheckedConstructor(RoundTripConstructor):
    """ruamel's round-trip constructor; a value its explicit tag cannot hold (`!!int x`,
    `!!timestamp 2020-13-45`) is a positioned YAML error rather than a bare ValueError."""

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (MarkedYAMLError, RecursionError):
            raise
        except (ValueError, TypeError, KeyError, OverflowError, AttributeError) as err:
            tag = str(getattr(node, "tag", "?")).replace("tag:yaml.org,2002:", "!!")
            problem = f"the value {getattr(node, 'value', '')!r} cannot be read as {tag} ({err})"
            raise ConstructorError(None, None, problem, node.start_mark) from None


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    yaml.Composer = _DepthLimitedComposer
    yaml.Constructor = _CheckedConstructor
    return yaml


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
        return {_plain_key(k, budget): to_plain(v, budget) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v, budget) for v in node]
    if isinstance(node, bool) or type(node).__name__ == "ScalarBoolean":
        return bool(node)
    for plain in (str, int, float):
        if isinstance(node, plain):
            return plain(node)
    return node


def _plain_key(key: Any, budget: _Budget) -> Any:
    """A mapping key as plain data; a complex key (`? [a, b]`, `{a: 1}: x`) becomes its text, so
    that validation reports it as an unknown key instead of failing on an unhashable one."""
    plain = to_plain(key, budget)
    return plain if isinstance(plain, str | int | float | bool | None) else str(plain)


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
