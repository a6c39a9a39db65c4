"""linuxha.net's XML files, read safely and with the line of every element.

The files come from a host being migrated and are read with defusedxml's SAX reader: a DTD is
refused outright (linuxha.net's files have none, and a DTD is where entity bombs and external
entities are declared), and so are entity declarations and external references should one slip
past. SAX rather than ElementTree, because its locator gives the line of each start tag, which
every "not carried over" report quotes.

Each element remembers what the importer took from it, so that `untaken()` lists afterwards
everything that nobody read: nothing in the input is dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesImpl, Locator

import defusedxml.sax
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from reconciler.inputs import CONFIG_FILE_BYTES, XML_DEPTH, InputError, check_json_depth, read_regular
from reconciler.linuxha.report import LinuxhaError, Report, Source

# The inputs are configuration files of a few kilobytes; a much larger one is not one of them.
MAX_BYTES = CONFIG_FILE_BYTES


@dataclass
class Element:
    """One XML element: tag, attributes, text, children, the line of its start tag, and its path
    below the root (`<global>/<version>`), the way the report names it."""

    tag: str
    attrs: dict[str, str]
    line: int
    path: str
    text: str = ""
    children: list[Element] = field(default_factory=list)
    taken: bool = False
    taken_attrs: set[str] = field(default_factory=set)

    def take(self) -> str:
        """The element's text, stripped; the element counts as read."""
        self.taken = True
        return self.text.strip()

    def all(self, tag: str) -> list[Element]:
        return [child for child in self.children if child.tag == tag]

    def attr(self, name: str) -> str | None:
        if name in self.attrs:
            self.taken_attrs.add(name)
            return self.attrs[name]
        return None

    def drop(self) -> None:
        """Count the element and all it holds as read: the caller has reported it whole."""
        for element in self.walk():
            element.taken = True
            element.taken_attrs.update(element.attrs)

    def walk(self) -> Iterator[Element]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class Value:
    """The text of an element, where it was, and how the report names it (`<global>/<name>`)."""

    text: str
    source: Source
    what: str


def first(parent: Element | None, tag: str, file: str, report: Report) -> Element | None:
    """The first `<tag>` under `parent`, counted as read; a later one is reported and left out."""
    if parent is None:
        return None
    found = parent.all(tag)
    for extra in found[1:]:
        extra.drop()
        why = f"<{tag}> given again: only the one at line {found[0].line} is carried over"
        report.dropped(Source(file, extra.line), extra.path, why)
    if found:
        found[0].taken = True
    return found[0] if found else None


def value(parent: Element | None, tag: str, file: str, report: Report) -> Value | None:
    """The text of the first `<tag>` under `parent`, as `first` finds it."""
    element = first(parent, tag, file, report)
    if element is None:
        return None
    return Value(element.take(), Source(file, element.line), element.path)


@dataclass(frozen=True)
class Untaken:
    """A piece of the input that no part of the import read."""

    line: int
    what: str


def untaken(root: Element) -> list[Untaken]:
    """Every element, attribute and stray text that the import did not read, in document order.

    A container counts as read when its children are accounted for one by one; a leaf only when
    something took its text.
    """
    out: list[Untaken] = []
    for element in root.walk():
        if not element.taken and not element.children:
            out.append(Untaken(element.line, element.path))
            continue
        out.extend(
            Untaken(element.line, f"{element.path} attribute {name}={value!r}")
            for name, value in element.attrs.items()
            if name not in element.taken_attrs
        )
        if element.children and element.text.strip():
            out.append(Untaken(element.line, f"text {element.text.strip()!r} in {element.path}"))
    return out


class _TooDeep(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


class _Builder(ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.locator: Locator | None = None
        self.stack: list[Element] = []
        self.root: Element | None = None
        self.instructions: list[Untaken] = []

    def setDocumentLocator(self, locator: Locator) -> None:
        self.locator = locator

    def line(self) -> int:
        line = self.locator.getLineNumber() if self.locator is not None else None
        return line or 0

    def startElement(self, name: str, attrs: AttributesImpl) -> None:
        if len(self.stack) >= XML_DEPTH:
            # linuxha.net's files nest three levels; the element tree is walked recursively.
            raise _TooDeep(self.line())
        parent = self.stack[-1] if self.stack else None
        # The root is left out of paths: the report says `<global>/<version>`, as the guide does.
        below_root = parent is not None and parent is not self.root
        path = f"{parent.path}/<{name}>" if below_root and parent else f"<{name}>"
        element = Element(tag=name, attrs=dict(attrs), line=self.line(), path=path)
        if parent is None:
            self.root = element
        else:
            parent.children.append(element)
        self.stack.append(element)

    def endElement(self, name: str) -> None:
        self.stack.pop()

    def characters(self, content: str) -> None:
        if self.stack:
            self.stack[-1].text += content

    def processingInstruction(self, target: str, data: str) -> None:
        self.instructions.append(Untaken(self.line(), f"processing instruction <?{target} {data}?>"))


def read_limited(path: Path, display: str) -> bytes:
    """The bytes of an input file: a regular file, much smaller than MAX_BYTES (docs/limits.md)."""
    try:
        return read_regular(path, MAX_BYTES, display, "configuration files")
    except InputError as err:
        raise LinuxhaError(display, err.line, f"cannot read: {err.message}") from None


def read_text(path: Path, display: str) -> str:
    """The UTF-8 text of an input file; brackets nested past any configuration's are refused."""
    try:
        text = read_limited(path, display).decode("utf-8")
        check_json_depth(text, display)
    except UnicodeDecodeError as err:
        raise LinuxhaError(display, None, f"not UTF-8 text ({err.reason})") from None
    except InputError as err:
        raise LinuxhaError(display, err.line, err.message) from None
    return text


def read_xml(path: Path, display: str) -> tuple[Element, list[Untaken]]:
    """The element tree of the file, and its processing instructions (never carried over)."""
    return parse_xml(read_limited(path, display), display)


def parse_xml(data: bytes, display: str) -> tuple[Element, list[Untaken]]:
    builder = _Builder()
    try:
        defusedxml.sax.parseString(data, builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except _TooDeep as err:
        raise LinuxhaError(display, err.line, f"elements nested deeper than {XML_DEPTH} levels") from None
    except SAXParseException as err:
        message = f"not well-formed XML: {err.getMessage()} (column {(err.getColumnNumber() or 0) + 1})"
        raise LinuxhaError(display, err.getLineNumber(), message) from None
    except DTDForbidden as err:
        message = (
            f"<!DOCTYPE {err.name}> refused: linuxha.net's files have no DTD, and a DTD declares the "
            "entities that expand without bound (billion laughs) or read other files"
        )
        raise LinuxhaError(display, builder.line(), message) from None
    except EntitiesForbidden as err:
        message = f"entity {err.name!r} refused: entities are never expanded"
        raise LinuxhaError(display, builder.line(), message) from None
    except ExternalReferenceForbidden as err:
        message = f"external reference {err.sysid!r} refused: no other file is read"
        raise LinuxhaError(display, builder.line(), message) from None
    if builder.root is None:
        raise LinuxhaError(display, None, "no root element")
    return builder.root, builder.instructions
