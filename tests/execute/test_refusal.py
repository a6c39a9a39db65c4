"""A plan that may not be applied is refused whole, before anything runs."""

import pytest

from reconciler.core.plan.model import ActionKind, FileWrite, Plan
from reconciler.execute import NullJournal, PlanRefused, execute
from reconciler.execute.journal import PlanRecord
from reconciler.execute.report import RunResult
from tests.execute.fakes import FAST, ScriptedHost, action, ok, plan, probe


def refused(p: Plan) -> tuple[PlanRefused, ScriptedHost, NullJournal]:
    host = ScriptedHost({("do", "a"): [ok()], ("do", "b"): [ok()]})
    journal = NullJournal()
    with pytest.raises(PlanRefused) as caught:
        execute(p, host, journal, settings=FAST)
    assert host.calls == [], "a refused plan runs nothing"
    [record] = journal.records
    assert isinstance(record, PlanRecord) and record.result is RunResult.REFUSED
    return caught.value, host, journal


def test_not_applyable_plan_is_refused() -> None:
    error, _, _ = refused(plan(action("a"), applyable=False, errors=("web: r0 is Primary on the peer",)))
    assert error.reasons == ("the plan is not applyable (web: r0 is Primary on the peer)",)


def test_destructive_action_without_allow_is_refused() -> None:
    p = plan(action("a"), action("b", destructive=True, kind=ActionKind.MKFS))
    error, _, _ = refused(p)
    assert error.reasons == ("the plan destroys data (b) but was not made with allow_destructive",)
    assert str(error).startswith("the plan was refused, nothing was run: the plan destroys data")


def test_destructive_action_with_allow_runs() -> None:
    host = ScriptedHost({("do", "b"): [ok()]})
    report = execute(
        plan(action("b", destructive=True), allow_destructive=True), host, NullJournal(), settings=FAST
    )
    assert report.ok and host.runs == [("do", "b")]


def test_unknown_dependency_is_refused() -> None:
    error, _, _ = refused(plan(action("a"), action("b", "a", "ghost")))
    assert error.reasons == ("b depends on 'ghost', which is not in the plan",)


def test_cycle_and_duplicate_ids_are_refused() -> None:
    assert refused(plan(action("a", "b"), action("b", "a")))[0].reasons == (
        "the dependencies of these actions form a cycle: a, b",
    )
    assert refused(plan(action("a"), action("a")))[0].reasons == ("more than one action has the id 'a'",)


def test_malformed_actions_are_refused() -> None:
    write = FileWrite(path="/x", content="")
    p = plan(
        action("both", write=write),
        action("none", do=None),
        action("wait", do=None, wait=True),
        action("regex", check=probe("x", stdout="matches", text="(")),
    )
    reasons = refused(p)[0].reasons
    assert reasons[0] == "both: has do and write; an action does one of them"
    assert reasons[1] == "none: has neither do, write nor wait"
    assert reasons[2] == "wait: a wait needs a verify probe to poll"
    assert reasons[3].startswith("regex: its check probe: '(' is not a valid regular expression")


def test_every_reason_is_given_at_once() -> None:
    p = plan(action("a", destructive=True), action("b", "ghost"), applyable=False)
    assert len(refused(p)[0].reasons) == 3
