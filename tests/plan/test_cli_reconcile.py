"""`plan`, `drift` and `apply FILE` as a user runs them, offline against bundles of simulated nodes."""

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from reconciler.core.reconcile import probe_apps
from reconciler.lab.sim import Cluster, SimHost, lab_cluster
from reconciler.lab.sim.model import GIB
from reconciler.manifest import ManifestSet
from reconciler.observe.bundle import capture, write_bundle
from reconciler.observe.node import HostFiles
from reconciler.observe.runner import Runner
from tests.cli import run
from tests.conftest import REPO
from tests.plan.seed import ON_S1, converge, new_cluster, seed_manifests

SCHEMAS = REPO / "schemas"
ROUND = ["--node", "centos5s1", "--active", "xapache=centos5s1"]


def bundle_of(cluster: Cluster, manifests: ManifestSet, path: Path) -> Path:
    def also(runner: Runner) -> object:
        return probe_apps(runner, manifests, "centos5s1", ON_S1)

    _, bundle = capture(SimHost(cluster, "centos5s1"), HostFiles(), also)
    write_bundle(bundle, path)
    return path


@pytest.fixture(scope="module")
def manifests() -> ManifestSet:
    return seed_manifests()


@pytest.fixture(scope="module")
def empty(manifests: ManifestSet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bundle_of(new_cluster(manifests), manifests, tmp_path_factory.mktemp("b") / "empty.tar.gz")


@pytest.fixture(scope="module")
def converged(manifests: ManifestSet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cluster = new_cluster(manifests)
    converge(cluster, manifests, ON_S1)
    return bundle_of(cluster, manifests, tmp_path_factory.mktemp("b") / "converged.tar.gz")


def test_plan_of_an_empty_node_exits_2_and_says_what_it_will_do(empty: Path) -> None:
    result = run("plan", "manifests", "--observed", str(empty), *ROUND)
    assert result.returncode == 2, result.stderr
    assert "+ xapache/vg:virtvg/create-vg" in result.stdout
    assert "vgcreate virtvg /dev/hda" in result.stdout
    assert "Plan: 4 to start, 2 to change, 0 to stop." in result.stdout


def test_plan_json_follows_the_schema(empty: Path) -> None:
    result = run("plan", "manifests", "--observed", str(empty), *ROUND, "--format", "json")
    assert result.returncode == 2
    jsonschema.validate(
        json.loads(result.stdout), json.loads((SCHEMAS / "plan-report.schema.json").read_text())
    )


def test_plan_markdown_is_a_table_for_a_merge_request(empty: Path) -> None:
    result = run("plan", "manifests", "--observed", str(empty), *ROUND, "--format", "markdown")
    assert result.returncode == 2
    assert "| + | `xapache/vg:virtvg/create-vg` | `vgcreate virtvg /dev/hda` |" in result.stdout


def test_plan_of_a_converged_node_exits_0(converged: Path) -> None:
    result = run("plan", "manifests", "--observed", str(converged), *ROUND)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes: the node is as declared." in result.stdout


def test_plan_that_cannot_see_the_whole_node_exits_1(manifests: ManifestSet, tmp_path: Path) -> None:
    blind = lab_cluster(manifests.cluster.document, disks={"/dev/hda": 20 * GIB}, toolstack=None)
    bundle = bundle_of(blind, manifests, tmp_path / "blind.tar.gz")
    result = run("plan", "manifests", "--observed", str(bundle), *ROUND)
    assert result.returncode == 1
    assert "neither xl nor xm is installed" in result.stdout
    assert "This plan cannot be applied" in result.stdout


def test_drift_reports_what_differs_since_when_in_three_formats(empty: Path, converged: Path) -> None:
    result = run("drift", "manifests", "--observed", str(empty), *ROUND, "--format", "json")
    assert result.returncode == 2
    report = json.loads(result.stdout)
    jsonschema.validate(report, json.loads((SCHEMAS / "drift-report.schema.json").read_text()))
    codes = {e["drift"]["code"] for e in report["entries"]}
    assert {"VG_MISSING", "APP_DOWN"} <= codes
    assert all(e["first_seen"] for e in report["entries"])
    text = run("drift", "manifests", "--observed", str(empty), *ROUND)
    assert "VG_MISSING" in text.stdout and "(since " in text.stdout and "xapache.yaml:" in text.stdout
    markdown = run("drift", "manifests", "--observed", str(empty), *ROUND, "--format", "markdown")
    assert "| severity | code | resource |" in markdown.stdout
    clean = run("drift", "manifests", "--observed", str(converged), *ROUND)
    assert clean.returncode == 0 and "in sync" in clean.stdout


def test_drift_remembers_when_each_difference_was_first_seen(tmp_path: Path) -> None:
    """On a live node (this machine, whatever it has), the second report keeps the first date."""
    first = run("drift", "manifests", *ROUND, "--state-dir", str(tmp_path), "--format", "json")
    second = run("drift", "manifests", *ROUND, "--state-dir", str(tmp_path), "--format", "json")
    assert first.returncode in (1, 2) and second.returncode == first.returncode
    seen = {
        e["drift"]["code"] + e["drift"]["resource"]: e["first_seen"]
        for e in json.loads(first.stdout)["entries"]
    }
    again = {
        e["drift"]["code"] + e["drift"]["resource"]: e["first_seen"]
        for e in json.loads(second.stdout)["entries"]
    }
    assert seen and seen == again
    assert (tmp_path / "drift-seen.json").exists()


def test_a_saved_plan_is_refused_when_the_manifests_changed(empty: Path, tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    shutil.copytree(REPO / "manifests", manifests)
    plan = tmp_path / "plan.json"
    made = run("plan", str(manifests), "--observed", str(empty), *ROUND, "--out", str(plan))
    assert made.returncode == 2 and plan.exists()
    app = manifests / "xapache.yaml"
    app.write_text(
        app.read_text().replace("timeout: 600s                     # <maxstoptime>", "timeout: 300s")
    )
    state = tmp_path / "state"
    result = run("apply", str(plan), str(manifests), *ROUND, "--state-dir", str(state))
    assert result.returncode == 1
    assert "the plan is stale" in result.stderr and "manifests changed" in result.stderr
    journal = state / "journal.jsonl"
    assert not journal.exists() or '"phase": "do"' not in journal.read_text()


def test_apply_refuses_a_bundle(empty: Path) -> None:
    result = run("apply", "manifests", "--observed", str(empty), *ROUND)
    assert result.returncode == 1 and "--observed is for plan and drift" in result.stderr


def test_the_initial_sync_progress_runs_at_the_declared_rate(capsys: pytest.CaptureFixture[str]) -> None:
    from reconciler.commands.applying import _show
    from reconciler.core.plan.model import ActionKind
    from reconciler.execute import EventKind, ProgressEvent

    # 8 GiB at 10 MiB/s is 819.2 s: after 205 s a quarter is done.
    event = ProgressEvent(
        event=EventKind.WAITING,
        action="xapache/drbd:xapache-lv01/wait-sync",
        app="xapache",
        kind=ActionKind.WAIT_SYNC,
        target="drbd:xapache-lv01",
        index=3,
        total=5,
        elapsed=205,
        timeout=1698,
        stdout="Inconsistent/UpToDate",
    )
    _show(event, 8 * 1024 / 10)
    out = capsys.readouterr().out
    assert "[#######                       ] 25% at the declared rate, ~614s left" in out
    assert "disk Inconsistent/UpToDate" in out
