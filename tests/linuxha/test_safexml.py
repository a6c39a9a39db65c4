"""XML is read with defusedxml: DTDs, entities and external references are refused, bad XML is an
error with its line, and every element keeps its line."""

import time
from pathlib import Path

import pytest

from reconciler.linuxha.report import LinuxhaError
from reconciler.linuxha.safexml import parse_xml, read_xml, untaken
from tests.linuxha.conftest import DATA

BAD = DATA / "bad"


def _error(name: str) -> LinuxhaError:
    with pytest.raises(LinuxhaError) as raised:
        read_xml(BAD / name, name)
    return raised.value


def test_malformed_xml_is_an_error_with_its_line() -> None:
    error = _error("malformed.xml")
    assert (error.file, error.line) == ("malformed.xml", 5)
    assert str(error) == "malformed.xml:5: not well-formed XML: mismatched tag (column 5)"


def test_billion_laughs_is_refused_before_any_expansion() -> None:
    started = time.monotonic()
    error = _error("billion-laughs.xml")
    assert time.monotonic() - started < 1
    assert error.line == 2
    assert "<!DOCTYPE appconf> refused" in str(error) and "billion laughs" in str(error)


def test_an_external_entity_is_refused_and_nothing_is_read() -> None:
    error = _error("external-entity.xml")
    assert error.line == 2
    assert "<!DOCTYPE appconf> refused" in str(error)


def test_an_undeclared_entity_is_an_error() -> None:
    error = _error("undeclared-entity.xml")
    assert error.line == 3
    assert "undefined entity" in str(error)


def test_a_doctype_without_entities_is_refused_too() -> None:
    with pytest.raises(LinuxhaError, match="DOCTYPE appconf"):
        parse_xml(b'<?xml version="1.0"?>\n<!DOCTYPE appconf SYSTEM "appconf.dtd">\n<appconf/>\n', "x.xml")


def test_elements_keep_their_lines_and_paths() -> None:
    root, instructions = parse_xml(
        b"<?xml version='1.0'?>\n<a>\n  <b\n    x='1'>t</b>\n<?pi data?>\n</a>\n", "x"
    )
    (b,) = root.children
    assert (root.path, b.path, b.line, b.attrs) == ("<a>", "<b>", 3, {"x": "1"})
    assert [(u.line, u.what) for u in instructions] == [(5, "processing instruction <?pi data?>")]
    assert [(u.line, u.what) for u in untaken(root)] == [(3, "<b>")]
    assert b.take() == "t"
    assert [(u.line, u.what) for u in untaken(root)] == [(3, "<b> attribute x='1'")]


def test_a_file_too_large_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "appconf.xml"
    big.write_bytes(b"<appconf>" + b" " * (2 << 20) + b"</appconf>")
    with pytest.raises(LinuxhaError, match="larger than"):
        read_xml(big, "appconf.xml")
