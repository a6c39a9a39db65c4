"""The core's case corpus, as Pacemaker's scheduler regression tests: a node's observation in,
the planned pass out, compared with a stored answer (tests/core/cases/README.md).

Each directory of tests/core/cases is one case. The runner replays its recorded outputs through
`ReplayRunner` (nothing runs on this machine), calls `reconcile` plan-only and compares the plan,
the drift and the pass status with `expected-plan.json`. `UPDATE_CASES=1` rewrites the answers of
the cases that are not marked `xfail` (a hand-written answer to a known bug is never overwritten).
"""

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from reconciler.core.placement import Placement, PlacementSource, StaticPlacement
from reconciler.core.plan.model import Revision
from reconciler.core.reconcile import PassContext, PassOptions, PassResult, reconcile
from reconciler.execute import NullJournal, ReadOnlyHost
from reconciler.manifest import ManifestSet, load_manifests
from reconciler.observe.node import HostFiles, observe_node
from reconciler.observe.runner import CommandResult, Outcome, ReplayRunner

CASES = Path(__file__).resolve().parent / "cases"
INDEX = "commands.json"
EXPECTED = "expected-plan.json"
# The observation's time and the manifests' revision are fixed: nothing in a case depends on the clock.
TAKEN_AT = datetime(2026, 1, 1, tzinfo=UTC)
REVISION = Revision(content_hash="case")
CASE_KEYS = {
    "description",
    "node",
    "placement",
    "allowDestructive",
    "allowInitialSync",
    "expectStatus",
    "xfail",
}
STATUSES = {"converged", "requeue", "refused", "failed"}
UPDATE = os.environ.get("UPDATE_CASES") == "1"


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    description: str
    node: str
    placement: Mapping[str, str]
    allow_destructive: bool
    expect_status: str | None
    xfail: str | None
    allow_initial_sync: bool = False


def load_case(path: Path) -> Case:
    doc = YAML(typ="safe").load((path / "case.yaml").read_text())
    unknown = set(doc) - CASE_KEYS
    assert not unknown, f"{path.name}/case.yaml: unknown keys {sorted(unknown)}"
    status = doc.get("expectStatus")
    assert status is None or status in STATUSES, f"{path.name}: expectStatus {status!r}"
    return Case(
        name=path.name,
        path=path,
        description=" ".join(str(doc["description"]).split()),
        node=str(doc["node"]),
        placement={str(k): str(v) for k, v in (doc.get("placement") or {}).items()},
        allow_destructive=bool(doc.get("allowDestructive", False)),
        expect_status=status,
        xfail=doc.get("xfail"),
        allow_initial_sync=bool(doc.get("allowInitialSync", False)),
    )


def load_results(observed: Path) -> list[CommandResult]:
    """`observed/commands.json`: one entry per command run (or file read) in the pass, in order;
    `stdout_file` names the file beside it that holds what it printed (null: nothing)."""
    out = []
    for entry in json.loads((observed / INDEX).read_text()):
        stdout_file = entry.get("stdout_file")
        out.append(
            CommandResult(
                argv=tuple(entry["argv"]),
                outcome=Outcome(entry["outcome"]),
                returncode=entry.get("returncode"),
                stdout=(observed / stdout_file).read_text() if stdout_file else "",
                stderr=entry.get("stderr", ""),
                seconds=entry.get("seconds", 0.0),
            )
        )
    return out


@dataclass(frozen=True)
class HeldPlacement:
    """The case's placement as it is: an application it leaves out is held (StaticPlacement
    would give it its preferred node)."""

    active: Mapping[str, str]

    def placement(self, manifests: ManifestSet) -> Placement:
        return Placement(active=dict(self.active), source="case")


def placement_source(case: Case, manifests: ManifestSet) -> PlacementSource:
    if {a.name for a in manifests.applications} <= set(case.placement):
        return StaticPlacement(case.placement)
    return HeldPlacement(case.placement)


def run_case(case: Case, act: bool = False) -> tuple[PassResult, ReplayRunner]:
    manifests = load_manifests([case.path / "manifests"])
    results = load_results(case.path / "observed")
    runner = ReplayRunner(results)
    observed = observe_node(runner, HostFiles(), now=TAKEN_AT)
    ctx = PassContext(
        manifests=manifests,
        revision=REVISION,
        node=case.node,
        host=ReadOnlyHost(runner),
        placement=placement_source(case, manifests),
        journal=NullJournal(),
        options=PassOptions(
            act=act, allow_destructive=case.allow_destructive, allow_initial_sync=case.allow_initial_sync
        ),
        observed=observed,
        clock=lambda: TAKEN_AT,
    )
    return reconcile(ctx), runner


def _action(action: Any) -> dict[str, Any]:
    data: dict[str, Any] = action.model_dump(mode="json", exclude_defaults=True)
    if action.write is not None:
        # The generated file, line by line, so that a reviewer can read it in the JSON.
        data["write"] = {
            "path": action.write.path,
            "mode": oct(action.write.mode),
            "content": action.write.content.splitlines(),
        }
    for key in ("id", "kind", "target", "depends_on", "destructive"):
        data.setdefault(key, action.model_dump(mode="json")[key])
    return data


def answer(result: PassResult) -> dict[str, Any]:
    """What a case compares: the pass status, the plan without its volatile fields, the drift."""
    plan = result.plan
    return {
        "status": result.status.value,
        "applyable": plan.applyable,
        "allow_destructive": plan.allow_destructive,
        "errors": list(plan.errors),
        "drift": sorted(
            (
                {
                    "code": d.code.value,
                    "severity": d.severity.value,
                    "app": d.app,
                    "resource": str(d.resource),
                    "field": d.field,
                    "desired": d.desired,
                    "observed": d.observed,
                }
                for d in result.drift
            ),
            key=lambda d: (d["app"], d["resource"], d["code"], d["field"]),
        ),
        "actions": [_action(a) for a in plan.actions],
    }


def audit(case: Case, result: PassResult) -> None:
    """What holds of every plan, whatever its answer file says."""
    plan = result.plan
    seen: set[str] = set()
    for action in plan.actions:
        assert set(action.depends_on) <= seen, f"{action.id} depends on an action after it"
        seen.add(action.id)
        assert not action.destructive or case.allow_destructive, f"{action.id} is destructive, unasked"
    held = set(a.name for a in result.round.desired.apps) - set(case.placement)
    assert not held and not {a.app for a in plan.actions} - set(case.placement), "a held app is planned"
    if not plan.applyable:
        # A blind pass is shown, never carried out: the same pass allowed to act does nothing.
        acted, _ = run_case(case, act=True)
        assert acted.report is None and acted.status.value == "refused", "a blind pass acted"


def dump(value: Any, indent: str = "") -> str:
    """JSON as `json.dumps(indent=2)` writes it, but a list of strings or numbers on one line
    (an argv reads as a command)."""
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k)}: {dump(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and value and any(isinstance(v, dict | list) for v in value):
        return "[\n" + ",\n".join(inner + dump(v, inner) for v in value) + "\n" + indent + "]"
    return json.dumps(value)


def case_dirs() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if (p / "case.yaml").is_file())


def _param(path: Path) -> Any:
    reason = load_case(path).xfail
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(path, id=path.name, marks=marks)


@pytest.mark.parametrize("path", [_param(p) for p in case_dirs()])
def test_case(path: Path) -> None:
    case = load_case(path)
    result, runner = run_case(case)
    unrecorded = [c for c in runner.calls if c not in {r.argv for r in load_results(path / "observed")}]
    assert not unrecorded, f"the pass asked for what the case does not record: {unrecorded}"
    audit(case, result)
    got = answer(result)
    if case.expect_status is not None:
        assert got["status"] == case.expect_status, f"{case.name}: {case.description}"
    expected_file = path / EXPECTED
    if UPDATE and not case.xfail:
        expected_file.write_text(dump(got) + "\n")
        return
    assert expected_file.exists(), f"{case.name}: no {EXPECTED}; run UPDATE_CASES=1 and review it"
    expected = json.loads(expected_file.read_text())
    assert got == expected


def test_every_case_is_complete() -> None:
    paths = case_dirs()
    assert len(paths) >= 60
    for path in paths:
        case = load_case(path)
        assert case.description, f"{path.name}: no description"
        assert (path / "manifests").is_dir() and (path / "observed" / INDEX).is_file(), path.name
        # An xfail case fails on its answer, never on a missing one.
        assert (path / EXPECTED).is_file(), f"{path.name}: no {EXPECTED}"
        names = {e.get("stdout_file") for e in json.loads((path / "observed" / INDEX).read_text())}
        files = {str(p.relative_to(path / "observed")) for p in (path / "observed").rglob("*") if p.is_file()}
        assert files - {INDEX} == names - {None}, f"{path.name}: files and index differ"
