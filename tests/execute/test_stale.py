"""A plan is stale when the manifests or the node changed since it was made; the error says which."""

import pytest

from reconciler.core.plan.model import Revision
from reconciler.execute import StalePlan, check_fresh
from tests.execute.fakes import plan

PLANNED = Revision(commit="abc123" + "0" * 34, dirty=False, content_hash="1" * 64)


def test_fresh_plan_passes() -> None:
    check_fresh(plan(revision=PLANNED), PLANNED, "d1gest")
    # A commit recorded differently but the same content is the same revision.
    check_fresh(plan(revision=PLANNED), Revision(commit=None, content_hash="1" * 64), "d1gest")


def test_changed_manifests() -> None:
    now = Revision(commit="def456" + "0" * 34, dirty=True, content_hash="2" * 64)
    with pytest.raises(StalePlan) as caught:
        check_fresh(plan(revision=PLANNED), now, "d1gest")
    assert caught.value.reasons == (
        "the manifests changed since the plan was made "
        "(plan: git abc123000000, now: git def456000000 with uncommitted changes)",
    )
    assert str(caught.value).startswith("the plan is stale: the manifests changed")


def test_same_commit_other_uncommitted_changes() -> None:
    then = PLANNED.model_copy(update={"dirty": True})
    now = PLANNED.model_copy(update={"dirty": True, "content_hash": "2" * 64})
    with pytest.raises(StalePlan) as caught:
        check_fresh(plan(revision=then), now, "d1gest")
    assert caught.value.reasons == (
        "the manifests changed since the plan was made (plan: git abc123000000 with uncommitted changes, "
        "content 111111111111, now: git abc123000000 with uncommitted changes, content 222222222222)",
    )


def test_outside_git_the_content_is_named() -> None:
    with pytest.raises(StalePlan, match=r"plan: content 333333333333, now: content 444444444444"):
        check_fresh(plan(revision=Revision(content_hash="3" * 64)), Revision(content_hash="4" * 64), "d1gest")


def test_changed_node_and_both() -> None:
    with pytest.raises(StalePlan) as caught:
        check_fresh(plan(revision=PLANNED), PLANNED, "e" * 64)
    assert caught.value.reasons == (
        "the node changed since the plan was made (observation digest d1gest, now eeeeeeeeeeee)",
    )
    with pytest.raises(StalePlan) as caught:
        check_fresh(plan(revision=PLANNED), Revision(content_hash="9" * 64), "e" * 64, node="beta")
    assert [r.split(" ")[1] for r in caught.value.reasons] == ["plan", "manifests", "node"]
    assert caught.value.reasons[0] == "the plan was made for node alpha, this is beta"
