"""The man pages are click's help as roff: every program, every subcommand, every option."""

import subprocess
from pathlib import Path

import click
import pytest

from reconciler import manpage


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return {prog: manpage.render(prog, command, "2026-01-01") for prog, command in manpage.programs().items()}


def test_one_page_per_installed_program(pages: dict[str, str]) -> None:
    assert set(pages) == {"reconciler", "clstat", "clstartapp", "clhaltapp", "clbuildapp"}
    for prog, page in pages.items():
        assert page.startswith(f'.TH {prog.upper()} 1 "2026-01-01" "reconciler ')
        for section in (".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH OPTIONS", ".SH SEE ALSO"):
            assert section in page, (prog, section)


def test_the_reconciler_page_has_every_subcommand_and_its_options(pages: dict[str, str]) -> None:
    main = manpage.programs()["reconciler"]
    ctx = click.Context(main, info_name="reconciler")
    paths = [sub_ctx.command_path for _, sub_ctx in manpage.walk(main, ctx)]
    assert {"reconciler validate", "reconciler lab", "reconciler lab fault", "reconciler agent"} <= set(paths)
    for path in paths:
        assert f'.SS "{manpage.escape(path)}"' in pages["reconciler"], path
    assert "\\fB\\-\\-allow\\-destructive\\fR" in pages["reconciler"]
    assert "\\fB\\-\\-format\\fR" in pages["reconciler"]


def test_a_cl_page_has_its_linuxha_options(pages: dict[str, str]) -> None:
    assert "\\fB\\-A\\fR" in pages["clbuildapp"]
    assert "\\fB\\-sync\\fR" in pages["clbuildapp"]


def test_text_is_escaped_for_roff() -> None:
    assert manpage.escape("a-b \\ c") == "a\\-b \\e c"
    assert manpage.escape(".not a request\n'nor this") == "\\&.not a request\n\\&'nor this"
    help_text = "one\ntwo\n\n\b\nkeep\n  lines\n\f hidden"
    assert manpage.paragraphs(help_text) == ["one two", ".nf\nkeep\n  lines\n.fi"]


def test_the_date_is_source_date_epochs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert manpage.page_date() == "2023-11-14"


def test_write_pages_writes_every_page(tmp_path: Path) -> None:
    written = manpage.write_pages(tmp_path / "man", "2026-01-01")
    assert sorted(p.name for p in written) == sorted(f"{p}.1" for p in manpage.programs())
    assert manpage.main(["--out", str(tmp_path / "again")]) == 0
    assert len(list((tmp_path / "again").glob("*.1"))) == 5


def test_groff_reads_every_page_without_a_warning(tmp_path: Path) -> None:
    for path in manpage.write_pages(tmp_path, "2026-01-01"):
        proc = subprocess.run(
            ["groff", "-man", "-Tutf8", "-ww", "-z", str(path)], capture_output=True, text=True, check=False
        )
        assert (proc.returncode, proc.stderr) == (0, ""), path.name
