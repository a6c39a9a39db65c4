"""`reconciler validate`, `describe` and `schema` as a user runs them: exit codes and output."""

import json
from pathlib import Path

from tests.cli import run

CASES = Path(__file__).parent / "cases"


def test_validate_valid_exits_0() -> None:
    result = run("validate", "manifests")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid: 2 file(s), cluster centos5, 1 application(s)" in result.stdout


def test_validate_invalid_exits_1_with_every_error_and_the_source_line() -> None:
    bad = [
        str(CASES / "_base/cluster.yaml"),
        str(CASES / "bad/size-bad-unit.yaml"),
        str(CASES / "bad/unknown-key-suggestion.yaml"),
    ]
    result = run("validate", *bad)
    assert result.returncode == 1
    assert "size-bad-unit.yaml:13:15: error[invalid-value]" in result.stdout
    assert "        size: 1X" in result.stdout
    assert "hint: did you mean 'fsck'?" in result.stdout
    assert "2 error(s); nothing was changed." in result.stderr


def test_validate_json_is_stable_and_machine_readable() -> None:
    result = run(
        "validate",
        "--format",
        "json",
        str(CASES / "_base/cluster.yaml"),
        str(CASES / "bad/port-out-of-range.yaml"),
    )
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    (error,) = report["errors"]
    assert set(error) == {"file", "line", "column", "severity", "code", "message", "hint"}
    assert (error["line"], error["code"], error["severity"]) == (14, "invalid-value", "error")
    ok = json.loads(run("validate", "--format", "json", "manifests").stdout)
    assert ok == {"valid": True, "errors": []}


def test_validate_missing_path_is_an_error_not_a_crash() -> None:
    result = run("validate", "/nonexistent/manifests.yaml")
    assert result.returncode == 1
    assert "not-found" in result.stdout
    assert "Traceback" not in result.stderr


def test_describe_summarises_the_seed_example() -> None:
    result = run("describe", "manifests")
    assert result.returncode == 0
    assert (
        "lv01 8G: DRBD xapache-lv01 /dev/drbd0 port 7789 protocol C at 10M/s, ext3 on /virt" in result.stdout
    )
    assert "apache (xm), config inline; centos5s2 overrides vif" in result.stdout


def test_schema_writes_the_three_schemas(tmp_path: Path) -> None:
    result = run("schema", "--out", str(tmp_path))
    assert result.returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "application.schema.json",
        "cluster.schema.json",
        "drift-report.schema.json",
        "manifest.schema.json",
        "plan-report.schema.json",
        "plan.schema.json",
    ]


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("validate", "describe", "schema"):
        assert command in result.stdout
