"""`make deb`'s package, checked with dpkg-deb (--info, --contents, -x into a temporary directory) and
apt-get's simulation; nothing is installed on this machine. The package is built once for the module."""

import gzip
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

PROGRAMS = ("reconciler", "clstat", "clstartapp", "clhaltapp", "clbuildapp")
VENDOR = "usr/lib/reconciler/python"
# What Debian 12 has (debian/control); the rest is bundled in VENDOR (debian/vendor-requirements.txt).
DEBIAN_DEPENDS = {
    "python3-click": ">= 8.1",
    "python3-psutil": ">= 5.9",
    "python3-tenacity": ">= 8.2",
    "python3-defusedxml": ">= 0.7",
    "python3-anyio": ">= 3",
}
BUNDLED = ("pydantic", "pydantic_core", "annotated_types", "typing_inspection", "typing_extensions.py",
           "ruamel/yaml", "watchfiles")


def _unavailable() -> str | None:
    """Why the package cannot be built here, or None."""
    if shutil.which("dpkg-buildpackage") is None:
        return "not a Debian machine (no dpkg-buildpackage)"
    proc = subprocess.run(["dpkg-checkbuilddeps"], cwd=REPO, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        missing = proc.stderr.strip()
        return f"build dependencies missing (scripts/install-system-deps installs them): {missing}"
    return None


@pytest.fixture(scope="module")
def deb() -> Path:
    reason = _unavailable()
    if reason is not None:
        pytest.fail(reason)  # `make test` installs the build tools: their absence is a failure
    started = time.monotonic()
    proc = subprocess.run(
        [str(REPO / "scripts" / "build-deb"), sys.executable],
        cwd=REPO, capture_output=True, text=True, timeout=900, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True)
    path = REPO / "build" / "deb" / f"reconciler_{_version()}_{arch.stdout.strip()}.deb"
    assert path.is_file(), proc.stdout[-2000:]
    print(f"\nscripts/build-deb took {time.monotonic() - started:.0f} s")
    return path


def _version() -> str:
    return subprocess.run(
        ["dpkg-parsechangelog", "-S", "Version"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()


def _dpkg_deb(*args: str) -> str:
    return subprocess.run(["dpkg-deb", *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def info(deb: Path) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in _dpkg_deb("--field", str(deb)).splitlines():
        if line[:1] not in (" ", "\t") and ":" in line:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


@pytest.fixture(scope="module")
def contents(deb: Path) -> dict[str, str]:
    """Path (without the leading '.') to its mode string."""
    entries = {}
    for line in _dpkg_deb("--contents", str(deb)).splitlines():
        mode, *_, name = line.split()
        entries[name.removeprefix(".").rstrip("/") or "/"] = mode
    return entries


@pytest.fixture(scope="module")
def unpacked(deb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("deb-root")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


def test_the_package_is_named_versioned_and_for_this_architecture(info: dict[str, str]) -> None:
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True)
    assert (info["Package"], info["Version"], info["Architecture"]) == (
        "reconciler", _version(), arch.stdout.strip()
    )


def test_it_depends_on_debians_python_libraries_where_debian_has_them(info: dict[str, str]) -> None:
    depends = {m[1]: (m[2] or "") for m in re.finditer(r"([\w.+:-]+)(?: \(([^)]*)\))?", info["Depends"])}
    for name, version in DEBIAN_DEPENDS.items():
        assert depends.get(name) == version, (name, info["Depends"])
    assert "python3.11" in depends or any(name.startswith("python3") and v for name, v in depends.items())
    # Debian 12 lacks these at the versions needed: they are bundled, never asked of apt.
    bundled = ("python3-pydantic", "python3-ruamel.yaml", "python3-watchfiles", "python3-typing-extensions")
    for name in bundled:
        assert name not in depends, info["Depends"]


def test_the_commands_are_in_usr_bin(contents: dict[str, str]) -> None:
    for prog in PROGRAMS:
        assert contents.get(f"/usr/bin/{prog}", "").startswith("-rwxr-xr-x"), prog


def test_the_package_and_its_bundled_libraries_are_installed(contents: dict[str, str]) -> None:
    assert "/usr/lib/python3/dist-packages/reconciler/cli.py" in contents
    assert "/usr/lib/python3/dist-packages/reconciler/agent/reconciler-agent.service" in contents
    for name in BUNDLED:
        assert any(path.startswith(f"/{VENDOR}/{name}") for path in contents), name
    assert not any(path.endswith(".pyc") for path in contents)  # compiled on install (dh_python3)


def test_the_agents_unit_is_installed(contents: dict[str, str], unpacked: Path) -> None:
    assert "/lib/systemd/system/reconciler-agent.service" in contents
    unit = (unpacked / "lib/systemd/system/reconciler-agent.service").read_text()
    assert "\nExecStart=/usr/bin/reconciler agent\n" in unit
    assert "\nEnvironmentFile=-/etc/default/reconciler\n" in unit
    assert "/usr/local" not in unit
    source = (REPO / "reconciler/agent/reconciler-agent.service").read_text()
    for line in source.splitlines():
        if line.startswith(("KillMode=", "Restart=", "StateDirectory=", "WantedBy=")):
            assert f"\n{line}\n" in unit, line


def test_the_unit_is_installed_disabled(deb: Path, tmp_path: Path) -> None:
    subprocess.run(["dpkg-deb", "-e", str(deb), str(tmp_path / "control")], check=True)
    postinst = (tmp_path / "control" / "postinst").read_text()
    assert "deb-systemd-helper update-state 'reconciler-agent.service'" in postinst
    assert "deb-systemd-helper enable 'reconciler-agent.service'" in postinst  # only if it was enabled
    assert "deb-systemd-invoke start" not in postinst and "systemctl --system daemon-reload" not in postinst


def test_etc_holds_the_defaults_as_conffiles(deb: Path, contents: dict[str, str], unpacked: Path) -> None:
    conffiles = set(_dpkg_deb("--info", str(deb), "conffiles").split())
    assert conffiles == {"/etc/default/reconciler", "/etc/reconciler/manifests/README"}
    assert "/etc/reconciler/manifests" in contents
    default = (unpacked / "etc/default/reconciler").read_text()
    assert all(line == "" or line.startswith("#") for line in default.splitlines())
    assert "RECONCILER_MANIFESTS" in default


def test_the_man_pages_are_installed_and_read_by_groff(contents: dict[str, str], unpacked: Path) -> None:
    for prog in PROGRAMS:
        assert f"/usr/share/man/man1/{prog}.1.gz" in contents, prog
    page = gzip.decompress((unpacked / "usr/share/man/man1/reconciler.1.gz").read_bytes()).decode()
    assert page.startswith(".TH RECONCILER 1 ")
    assert '.SS "reconciler lab fault"' in page
    if shutil.which("groff"):
        proc = subprocess.run(
            ["groff", "-man", "-Tutf8", "-ww", "-z"], input=page, capture_output=True, text=True, check=False
        )
        assert (proc.returncode, proc.stderr) == (0, "")


def test_bash_and_zsh_completions_are_installed(contents: dict[str, str], unpacked: Path) -> None:
    for prog in PROGRAMS:
        bash = unpacked / f"usr/share/bash-completion/completions/{prog}"
        zsh = unpacked / f"usr/share/zsh/vendor-completions/_{prog}"
        assert bash.is_file() and zsh.is_file(), prog
        var = f"_{prog.upper()}_COMPLETE"
        assert f"{var}=bash_complete" in bash.read_text(), prog
        assert zsh.read_text().startswith(f"#compdef {prog}\n"), prog
        assert f"{var}=zsh_complete" in zsh.read_text(), prog
        subprocess.run(["bash", "-n", str(bash)], check=True)


def _run_unpacked(unpacked: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A command of the unpacked package with Debian's python3, its libraries where it installs them."""
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONPATH": f"{unpacked / VENDOR}:{unpacked / 'usr/lib/python3/dist-packages'}",
    }
    return subprocess.run(
        ["/usr/bin/python3", *args], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )


def test_the_commands_run_with_debians_python(unpacked: Path) -> None:
    proc = _run_unpacked(unpacked, str(unpacked / "usr/bin/reconciler"), "--version")
    assert (proc.returncode, proc.stdout.strip()) == (0, f"reconciler, version {_version()}"), proc.stderr
    proc = _run_unpacked(unpacked, str(unpacked / "usr/bin/reconciler"), "validate", "manifests")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for prog in PROGRAMS[1:]:
        proc = _run_unpacked(unpacked, str(unpacked / "usr/bin" / prog), "--help")
        assert proc.returncode == 0 and proc.stdout.startswith(f"Usage: {prog}"), proc.stderr


def test_the_commands_use_the_bundled_libraries(unpacked: Path) -> None:
    wrapper = (unpacked / "usr/bin/reconciler").read_text()
    assert wrapper.startswith("#!/usr/bin/python3\n")
    assert f"sys.path.insert(0, '/{VENDOR}')" in wrapper
    assert "PYTHONPATH" not in wrapper  # what the agent runs (monitors, fencing) must not inherit it
    # The wrapper's preamble, pointed at the unpacked tree, then what the package imports.
    preamble = wrapper.split("from reconciler")[0].replace(f"'/{VENDOR}'", repr(str(unpacked / VENDOR)))
    code = preamble + "import pydantic, ruamel.yaml, watchfiles\nprint(pydantic.VERSION, pydantic.__file__)\n"
    proc = _run_unpacked(unpacked, "-c", code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("2.") and str(unpacked / VENDOR) in proc.stdout


def test_apt_would_install_it_on_this_debian(deb: Path) -> None:
    """apt-get's simulation (-s): every Depends resolves from this machine's archives; nothing changes."""
    proc = subprocess.run(
        ["apt-get", "install", "-s", "--no-install-recommends", str(deb)],
        capture_output=True, text=True, check=False, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert re.search(r"^Inst reconciler ", proc.stdout, re.MULTILINE), proc.stdout[-2000:]
