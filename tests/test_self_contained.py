"""The repository stands on its own: a plain clone has everything its tests and docs refer to."""

import subprocess

from tests.conftest import FIXTURES, REPO

# Spelled in parts so that this file does not match itself.
OUTSIDE = ("../" + "shared", "/work/" + "shared")


def tracked_text_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True, text=True
    ).stdout
    return [name for name in out.split("\0") if name and not name.startswith("tests/fixtures/")]


def test_no_tracked_file_refers_to_a_directory_beside_the_checkout() -> None:
    offenders = []
    for name in tracked_text_files():
        path = REPO / name
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if any(needle in text for needle in OUTSIDE):
            offenders.append(name)
    assert offenders == [], f"these files refer to a directory outside the repository: {offenders}"


def test_every_captured_fixture_is_listed_in_sources() -> None:
    sources = (FIXTURES / "SOURCES.md").read_text(encoding="utf-8")
    files = sorted(
        str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*") if p.is_file() and p.name != "SOURCES.md"
    )
    assert files, "no captured fixtures in tests/fixtures"
    unlisted = [name for name in files if f"| {name} |" not in sources]
    assert unlisted == [], f"captured fixtures without a source line in SOURCES.md: {unlisted}"
