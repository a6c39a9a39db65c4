"""`reconciler observe`, `observe --parse` and `capture` as a user runs them."""

import json
from pathlib import Path

from tests.cli import run
from tests.conftest import FIXTURES


def test_parse_prints_the_facts_as_json() -> None:
    result = run(
        "observe",
        "--parse",
        "proc-drbd-83",
        str(FIXTURES / "drbd/proc-drbd-83-synctarget-progress.txt"),
    )
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    syncing = next(r for r in facts["resources"] if r["volumes"][0]["minor"] == 3)
    assert syncing["connections"][0]["connection_state"] == "SyncTarget"
    assert syncing["connections"][0]["peer_volumes"][0]["resync"]["percent"] == 34.9


def test_parse_reads_standard_input() -> None:
    result = run("observe", "--parse", "drbdadm-role", "-", stdin="Primary/Secondary\n")
    assert result.returncode == 0
    assert json.loads(result.stdout)["role"] == "Primary"


def test_parse_error_names_the_kind_the_line_and_what_was_unexpected() -> None:
    result = run(
        "observe", "--parse", "xl-list", "-", stdin="Name ID Mem VCPUs State Time(s)\nthis is not a row\n"
    )
    assert result.returncode == 1
    assert "xl-list" in result.stderr and "line 2" in result.stderr and "this is not a row" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_kind_suggests_the_nearest() -> None:
    result = run("observe", "--parse", "lvs-jsn", "-", stdin="")
    assert result.returncode == 1  # a usage error exits 1, as every error (2 is "drift")
    assert "did you mean 'lvs-json'?" in result.stderr


def test_capture_then_observe_the_bundle_offline(tmp_path: Path) -> None:
    bundle = tmp_path / "node.tar.gz"
    made = run("capture", "-o", str(bundle))
    assert made.returncode == 0, made.stderr
    assert f"wrote {bundle}" in made.stdout
    live = json.loads(run("observe", "--observed", str(bundle), "--format", "json").stdout)
    assert live["node"] and live["commands"]
    assert set(live) >= {"lvm", "drbd", "domains", "interfaces", "mounts", "host", "errors"}
    text = run("observe", "--observed", str(bundle))
    assert text.returncode == 0 and text.stdout.startswith(f"node {live['node']}")
