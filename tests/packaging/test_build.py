"""`python -m build`: the sdist is the whole source tree, and the wheel built from it holds the package,
the agent's unit file and the console scripts."""

import configparser
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
NAME = f"reconciler-{PYPROJECT['project']['version']}"


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One `python -m build` (sdist, then the wheel from the unpacked sdist) for the module."""
    pytest.importorskip("build", reason="`build` is in the [dev] extra: make install")
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(REPO)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return {"wheel": out / f"{NAME}-py3-none-any.whl", "sdist": out / f"{NAME}.tar.gz"}


@pytest.fixture(scope="module")
def wheel_names(dists: dict[str, Path]) -> set[str]:
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        return set(wheel.namelist())


@pytest.fixture(scope="module")
def sdist_names(dists: dict[str, Path]) -> set[str]:
    with tarfile.open(dists["sdist"]) as sdist:
        return {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}


def test_the_wheel_holds_every_module_of_the_package(wheel_names: set[str]) -> None:
    modules = {str(p.relative_to(REPO)) for p in (REPO / "reconciler").rglob("*.py")}
    assert modules - wheel_names == set()
    assert "reconciler/manpage.py" in wheel_names


def test_the_wheel_holds_the_agents_unit_file(wheel_names: set[str]) -> None:
    assert "reconciler/agent/reconciler-agent.service" in wheel_names


def test_the_wheel_holds_no_tests_and_no_bytecode(wheel_names: set[str]) -> None:
    assert [n for n in wheel_names if n.startswith("tests/") or n.endswith(".pyc")] == []


def test_the_wheels_entry_points_are_pyprojects_scripts(dists: dict[str, Path]) -> None:
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        text = wheel.read(f"{NAME}.dist-info/entry_points.txt").decode()
    entry_points = configparser.ConfigParser()
    entry_points.read_string(text)
    assert dict(entry_points["console_scripts"]) == PYPROJECT["project"]["scripts"]
    assert set(PYPROJECT["project"]["scripts"]) == {
        "reconciler", "clstat", "clstartapp", "clhaltapp", "clbuildapp"
    }


def test_the_wheels_metadata_requires_pyprojects_dependencies(dists: dict[str, Path]) -> None:
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        metadata = wheel.read(f"{NAME}.dist-info/METADATA").decode()
    requires = {
        line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")
    }
    for dependency in PYPROJECT["project"]["dependencies"]:
        name = dependency.split(">")[0].split("<")[0].split("=")[0]
        assert any(r.startswith(name) for r in requires), dependency


def _files(*folders: str) -> set[str]:
    return {
        str(p.relative_to(REPO))
        for folder in folders
        for p in (REPO / folder).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


def test_the_sdist_holds_the_tests_with_their_fixtures_and_the_docs(sdist_names: set[str]) -> None:
    wanted = _files("tests/fixtures", "tests/packaging", "docs")
    assert "tests/fixtures/SOURCES.md" in wanted
    assert "docs/packaging.md" in wanted
    assert wanted - sdist_names == set()


def test_the_sdist_builds_everything_the_repo_builds(sdist_names: set[str]) -> None:
    needed = {
        "pyproject.toml", "MANIFEST.in", "Makefile", "README.md", "tests/conftest.py",
        "scripts/install-system-deps", "scripts/build-deb",
        "debian/control", "debian/rules", "debian/changelog", "debian/copyright",
        "manifests/cluster.yaml", "schemas/manifest.schema.json",
    }
    assert needed - sdist_names == set()


def test_the_sdist_holds_no_build_artifacts(sdist_names: set[str]) -> None:
    junk = [
        n for n in sdist_names
        if n.startswith((".venv/", "build/", ".git/", "debian/wheels/", "debian/reconciler/"))
        or "__pycache__" in n or n.endswith(".pyc")
    ]
    assert junk == []
