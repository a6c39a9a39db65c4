"""`reconciler import linuxha` as a user runs it: the manifest, the report on stderr, exit codes."""

from pathlib import Path

from click.testing import CliRunner

from reconciler.linuxha.cli import import_group
from tests.linuxha.conftest import CLUSTER, DATA, SEED_XEN

SEED_ARGS = [
    *(arg for node, path in SEED_XEN for arg in ("--xen-config", f"{node}={path}")),
    "--cluster", str(CLUSTER),
    "--lv", "lv01:8G:/virt:ext3",
    "--pv", "/dev/hda",
    "--drbd-minor-base", "0",
    "--drbd-port-base", "7789",
]  # fmt: skip


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(import_group, ["linuxha", *args])
    return result.exit_code, result.stdout, result.stderr


def test_the_seed_writes_a_valid_manifest_and_reports_on_stderr(seed_app: Path, tmp_path: Path) -> None:
    out = tmp_path / "xapache.yaml"
    code, stdout, stderr = run("--app", str(seed_app), *SEED_ARGS, "-o", str(out))
    assert code == 0, stderr
    assert stdout == ""
    assert out.read_text().startswith("# Imported by `reconciler import linuxha` from:")
    assert f"{seed_app}/appconf.xml:4: <global>/<version> not carried over: " in stderr
    assert (
        "imported xapache: 0 placeholder(s) to fill in, 4 not carried over, 1 guessed, 2 defaulted" in stderr
    )
    assert stderr.rstrip().endswith(f"`reconciler validate {CLUSTER} {out}`: valid")
    assert not list(tmp_path.glob(".xapache.yaml.*"))  # the temporary file was renamed


def test_without_output_the_manifest_goes_to_stdout(seed_app: Path) -> None:
    code, stdout, stderr = run("--app", str(seed_app))
    assert code == 0
    assert "kind: Application" in stdout and "kind: Application" not in stderr
    assert "placeholder <FILL IN: physical volume>" in stderr


def test_bad_xml_exits_1_with_file_and_line(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "appconf.xml").write_bytes((DATA / "bad/billion-laughs.xml").read_bytes())
    code, stdout, stderr = run("--app", str(app), "-o", str(tmp_path / "out.yaml"))
    assert (code, stdout) == (1, "")
    assert stderr.startswith(f"error: {app}/appconf.xml:2: <!DOCTYPE appconf> refused")
    assert not (tmp_path / "out.yaml").exists()


def test_a_node_the_cluster_does_not_know_is_refused(seed_app: Path) -> None:
    code, _, stderr = run(
        "--app", str(seed_app), "--cluster", str(CLUSTER), "--xen-config", f"other={SEED_XEN[0][1]}"
    )
    assert code == 1
    assert "error: --xen-config: 'other' is not a node of" in stderr


def test_malformed_options_are_usage_errors(seed_app: Path) -> None:
    assert run("--app", str(seed_app), "--xen-config", "no-equals-sign")[0] == 2
    assert run("--app", str(seed_app), "--lv", "a:b:c:d:e")[0] == 2
    assert run("--app", str(seed_app), "--drbd-port-base", "0")[0] == 2


def test_a_directory_without_appconf(tmp_path: Path) -> None:
    code, _, stderr = run("--app", str(tmp_path))
    assert code == 1
    assert "appconf.xml: no such file" in stderr
