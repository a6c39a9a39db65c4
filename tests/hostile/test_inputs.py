"""The guarded entry for inputs (reconciler/inputs.py, docs/limits.md): each traceback or hang
found by the fuzzer, now a clean error, and each limit, checked at its edge."""

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.inputs import (
    MANIFEST_BYTES,
    MANIFEST_FILES,
    MANIFEST_SET_BYTES,
    TOOL_OUTPUT_BYTES,
    InputError,
    json_depth,
    read_regular,
)
from reconciler.linuxha.report import LinuxhaError
from reconciler.linuxha.safexml import parse_xml
from reconciler.manifest import ManifestError, load_manifests
from reconciler.observe import KINDS, parse
from reconciler.observe.bundle import BundleError, read_bundle
from reconciler.observe.runner import MAX_OUTPUT
from tests.conftest import FIXTURES, REPO
from tests.hostile.corpus import MANIFESTS, good_bundle_members, tar_gz

CLUSTER = MANIFESTS / "cluster.yaml"


def _codes(paths: list[Path]) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        load_manifests(paths)
    return [d.code for d in caught.value.diagnostics]


def _run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: bytes | None = None
) -> tuple[int, str]:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, list(argv), input=stdin)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.output


def test_the_tool_output_limit_is_what_the_runner_keeps() -> None:
    assert TOOL_OUTPUT_BYTES == MAX_OUTPUT


# ---------------------------------------------------------------- manifests


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("[Application]", "wrong-type"),
        ("{a: 1}", "wrong-type"),
        ("7", "wrong-type"),
    ],
)
def test_a_kind_that_is_not_text_is_wrong_type(tmp_path: Path, value: str, code: str) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(f"apiVersion: reconciler/v1\nkind: {value}\nmetadata: {{name: x}}\n")
    assert code in _codes([CLUSTER, path])


@pytest.mark.parametrize("tagged", ["!!int x", "!!float x", "!!bool x", "!!timestamp 2020-13-45"])
def test_a_value_its_explicit_tag_cannot_hold_is_an_error_at_its_line(tmp_path: Path, tagged: str) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(f"apiVersion: reconciler/v1\nkind: Application\nmetadata:\n  name: {tagged}\n")
    with pytest.raises(ManifestError) as caught:
        load_manifests([CLUSTER, path])
    (problem,) = caught.value.diagnostics
    assert problem.code == "yaml-syntax" and problem.position.line == 4
    assert tagged.split()[0] in problem.message


@pytest.mark.parametrize("depth", [65, 300, 100_000])
@pytest.mark.parametrize("style", ["flow", "block"])
def test_nesting_past_the_limit_is_refused(tmp_path: Path, depth: int, style: str) -> None:
    path = tmp_path / "deep.yaml"
    if style == "flow":
        path.write_text("kind: Cluster\nspec: " + "[" * depth + "]" * depth + "\n")
    else:
        levels = min(depth, 500)  # block nesting costs indentation: 500 levels are 250 KB
        lines = "".join("  " * (i + 1) + f"k{i}:\n" for i in range(levels))
        path.write_text("kind: Cluster\nspec:\n" + lines)
    with pytest.raises(ManifestError) as caught:
        load_manifests([path])
    assert any("nested deeper than 64 levels" in d.message for d in caught.value.diagnostics)


def test_a_fifo_manifest_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "x.yaml"
    os.mkfifo(fifo)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", str(fifo)],
        capture_output=True, text=True, timeout=60, cwd=REPO, check=False,
    )
    assert time.monotonic() - started < 30
    assert result.returncode == 1 and "a FIFO, not a regular file" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_fifo_in_a_manifest_directory_is_reported_not_skipped(tmp_path: Path) -> None:
    (tmp_path / "cluster.yaml").write_bytes(CLUSTER.read_bytes())
    os.mkfifo(tmp_path / "x.yaml")
    assert _codes([tmp_path]) == ["not-a-file"]


def test_a_character_device_manifest_is_refused(tmp_path: Path) -> None:
    assert os.geteuid() == 0, "making a device node needs root (CI runs as root)"
    zero = tmp_path / "zero.yaml"
    os.mknod(zero, 0o666 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero's numbers, our own node
    assert _codes([zero]) == ["not-a-file"]


def test_a_huge_manifest_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as stream:
        stream.truncate(52 * 2**20)  # sparse: refused from its size, never read
    started = time.monotonic()
    assert _codes([big]) == ["too-large"]
    assert time.monotonic() - started < 2


def test_the_manifest_set_is_limited_in_all(tmp_path: Path) -> None:
    chunk = "# " + "x" * (MANIFEST_BYTES - 100) + "\n"
    count = MANIFEST_SET_BYTES // len(chunk) + 1
    for i in range(count):
        (tmp_path / f"m{i:02d}.yaml").write_text(chunk)
    with pytest.raises(ManifestError) as caught:
        load_manifests([tmp_path])
    assert any("the manifest set is limited" in d.message for d in caught.value.diagnostics)


def test_the_number_of_manifest_files_is_limited(tmp_path: Path) -> None:
    for i in range(MANIFEST_FILES + 1):
        (tmp_path / f"m{i:04d}.yaml").write_text("")
    assert _codes([tmp_path]) == ["too-large"]


def test_a_manifest_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_bytes(b"kind: Application\nmetadata:\n  name: caf\xe9\n")
    with pytest.raises(ManifestError) as caught:
        load_manifests([path])
    (problem,) = caught.value.diagnostics
    assert problem.code == "not-utf8" and problem.position.line == 3 and "0xe9" in problem.message


def test_read_regular_refuses_a_fifo_from_its_stat(tmp_path: Path) -> None:
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="a FIFO"):
        read_regular(fifo, 100, "f", "manifests")


# ---------------------------------------------------------------- observe --parse


@pytest.mark.parametrize("kind", sorted(k for k in KINDS if k.endswith("-json")))
def test_deep_json_is_refused_for_every_json_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    (tmp_path / "deep.json").write_text('{"report": ' + "[" * 50_000 + "]" * 50_000 + "}")
    code, output = _run(tmp_path, monkeypatch, "observe", "--parse", kind, "deep.json")
    assert code == 1 and "JSON nested deeper than 64 levels" in output


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_any_non_utf8_byte_is_a_clean_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    (tmp_path / "out").write_bytes(b"ok line\n\x80\xff\n")
    code, output = _run(tmp_path, monkeypatch, "observe", "--parse", kind, "out")
    assert code == 1 and "not UTF-8 text: byte 0x80" in output and "out:2" in output


def test_parse_reads_standard_input_and_pipes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (FIXTURES / "xen" / "xl-list-four-domains.txt").read_bytes()
    code, output = _run(tmp_path, monkeypatch, "observe", "--parse", "xl-list", "-", stdin=text)
    assert code == 0 and json.loads(output)


def test_brackets_too_deep_for_pythons_parser_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 199 brackets: under the tokenizer's limit of 200, past the parser's stack (a MemoryError).
    (tmp_path / "domain.cfg").write_bytes(b"[" * 199 + (FIXTURES / "xen" / "xmexample1.cfg").read_bytes())
    code, output = _run(tmp_path, monkeypatch, "observe", "--parse", "xen-config", "domain.cfg")
    assert code == 1 and "brackets nested deeper than 64 levels" in output


def test_json_depth_skips_strings() -> None:
    assert json_depth('{"a": "[[[[[[", "b": [[1]]}', 100) == (3, 1)
    assert json_depth("[" * 10 + '"\\"[[[' + "]" * 10, 100)[0] == 10


def test_drbdsetup_show_84_parses_in_linear_time() -> None:
    text = (FIXTURES / "drbd" / "drbdsetup-show-84.txt").read_text()
    big = text * (400_000 // len(text))
    started = time.monotonic()
    parse("drbdsetup-show-84", big)
    assert time.monotonic() - started < 5  # was 30 s: each token counted the lines before it


# ---------------------------------------------------------------- bundles


def _bundle(tmp_path: Path, index: object, members: dict[str, bytes]) -> Path:
    path = tmp_path / "b.tar.gz"
    path.write_bytes(tar_gz({"bundle.json": json.dumps(index).encode(), **members}))
    return path


def test_a_bundle_whose_index_is_a_list_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match=r"bundle\.json is list, not an object"):
        read_bundle(_bundle(tmp_path, [1, 2], {}))


def test_a_bundle_entry_without_argv_is_refused(tmp_path: Path) -> None:
    index, members = good_bundle_members()
    del index["results"][0]["argv"]  # type: ignore[index]
    with pytest.raises(BundleError, match=r"results\.0\.argv: Field required"):
        read_bundle(_bundle(tmp_path, index, members))


def test_a_gzip_bomb_stops_at_the_unpacked_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("reconciler.observe.bundle.BUNDLE_UNPACKED_BYTES", 1 << 20)
    index, members = good_bundle_members()
    members["padding"] = b"\0" * (4 << 20)
    with pytest.raises(BundleError, match="unpacks to more than"):
        read_bundle(_bundle(tmp_path, index, members))


def test_a_fifo_bundle_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "b.tar.gz")
    with pytest.raises(BundleError, match="a FIFO"):
        read_bundle(tmp_path / "b.tar.gz")


# ---------------------------------------------------------------- linuxha.net XML


def test_deeply_nested_xml_is_refused() -> None:
    with pytest.raises(LinuxhaError, match="nested deeper than 32 levels"):
        parse_xml(b"<a>" * 100_000 + b"</a>" * 100_000, "appconf.xml")


def test_xml_at_the_nesting_limit_is_read() -> None:
    root, _ = parse_xml(b"<a>" * 32 + b"</a>" * 32, "appconf.xml")
    assert root.tag == "a"
