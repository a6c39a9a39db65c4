"""The command line's last resort and its exit codes: an unexpected exception is one line (what,
where, a hint) and exit 1, `--debug` shows the traceback; a usage error exits 1 for every command."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from reconciler.cli import main
from tests.conftest import REPO
from tests.hostile.corpus import good_bundle_members, tar_gz


@pytest.fixture
def broken() -> Iterator[str]:
    """A command that fails as a bug would, added to the real group for one test."""

    @click.command("broken-for-test")
    def command() -> None:
        raise ValueError("something inside\nwent wrong")

    main.add_command(command)
    try:
        yield "broken-for-test"
    finally:
        main.commands.pop("broken-for-test")


def test_an_unexpected_exception_is_one_line_and_exit_1(broken: str) -> None:
    result = CliRunner().invoke(main, [broken])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"error: reconciler {broken}: ValueError: something inside went wrong at ")
    assert "test_cli_errors.py:" in line and "hint:" in line and "--debug" in line
    assert "Traceback" not in result.output


def test_debug_shows_the_traceback(broken: str) -> None:
    result = CliRunner().invoke(main, ["--debug", broken])
    assert isinstance(result.exception, ValueError)


@pytest.mark.parametrize(
    "argv",
    [
        ["nosuch"],
        ["--nosuch"],
        ["validate", "--bogus"],
        ["validate", "--format", "xml"],
        ["plan", "--bogus"],
        ["plan", "--active", "no-equals-sign"],
        ["drift", "--bogus"],
        ["diff", "--bogus"],
        ["apply", "--bogus"],
        ["observe", "--parse", "no-such-kind", "-"],
        ["observe", "--parse", "lvs-json"],
        ["observe", "extra-file"],
        ["capture", "--bogus"],
        ["schema", "--bogus"],
        ["import", "linuxha"],
        ["import", "nosuch"],
        ["lab", "nosuch"],
        ["lab", "fault", "--zz"],
        ["status", "--bogus"],
        ["move"],
        ["describe", "--bogus"],
    ],
)
def test_a_usage_error_exits_1_never_2(argv: list[str]) -> None:
    result = CliRunner().invoke(main, argv, input="")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output


def test_plan_out_into_a_missing_directory_is_a_clean_error(tmp_path: Path) -> None:
    index, members = good_bundle_members()
    bundle = tmp_path / "b.tar.gz"
    bundle.write_bytes(tar_gz({"bundle.json": json.dumps(index).encode(), **members}))
    result = CliRunner().invoke(
        main,
        ["plan", str(REPO / "manifests"), "--observed", str(bundle), "--node", "centos5s1",
         "--active", "xapache=centos5s1", "--out", str(tmp_path / "no" / "plan.json")],
    )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "no/plan.json" in result.output


def test_as_a_real_process_bad_input_never_prints_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_bytes(b"\xff" + b"[" * 100_000)
    (tmp_path / "app.yaml").write_text("apiVersion: reconciler/v1\nkind: [Application]\n")
    commands = (["observe", "--parse", "lvs-json", "bad.json"], ["validate", "app.yaml"], ["plan", "--bogus"])
    for argv in commands:
        result = subprocess.run(
            [sys.executable, "-m", "reconciler", *argv],
            capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
        )
        assert result.returncode == 1, (argv, result.stderr)
        assert "Traceback" not in result.stdout + result.stderr
