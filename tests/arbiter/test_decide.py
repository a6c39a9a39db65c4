"""The decision rules, one case per row: the local view, the peer's view, the expected verdict, a
fragment of the reason, and the lease to write. The node deciding is alpha unless a row says beta.
Times: lease duration 4 s, dead time 1 s, self-fencing margin 1 s. Properties over many views and
over time (never both) are in test_never_both.py.
"""

from dataclasses import dataclass, field
from typing import Any

import pytest

from reconciler.arbiter.decide import decide
from reconciler.arbiter.lease import Lease
from reconciler.arbiter.placement import Override
from reconciler.arbiter.views import (
    Decision,
    Facts,
    FencingState,
    LocalApp,
    LocalView,
    PeerApp,
    PeerView,
    Settings,
    Verdict,
)
from reconciler.manifest.application import PlacementSpec

A, B = "alpha", "beta"
NOW = 10_000.0
ECHO = 0.3
SETTINGS = Settings(dead_time=1.0, lease_duration=4.0, self_fence_margin=1.0)
WITH_TIE = SETTINGS.model_copy(update={"tie_breaker_configured": True})
NOTHING = "nothing"  # the decision writes no lease
OPEN = "open"  # an open-ended lease


@dataclass(frozen=True)
class Here:
    running: bool = False
    holder: str | None = None
    epoch: int = 3
    left: float | None = 3.0  # seconds left on our own lease; None: open-ended
    disk: str | None = "UpToDate"
    failed: bool = False
    maintenance: bool = False
    override: Override = field(default_factory=Override)
    load: float | None = None


@dataclass(frozen=True)
class There:
    silence: float = 0.1
    echo: float | None = ECHO
    report: bool = True
    running: bool = False
    holder: str | None = None
    epoch: int = 3
    expires_in: float | None = 3.0
    disk: str | None = "UpToDate"
    failed: bool = False
    maintenance: bool = False
    override: Override = field(default_factory=Override)
    load: float | None = None


@dataclass(frozen=True)
class Case:
    name: str
    here: Here
    there: There
    expect: Verdict
    says: str
    writes: Any = None  # None: not checked; NOTHING; or (holder, epoch, expires_at | OPEN)
    me: str = A
    settings: Settings = SETTINGS
    facts: Facts = field(default_factory=Facts)
    placement: dict[str, Any] = field(default_factory=dict)


def _views(case: Case) -> tuple[LocalView, PeerView]:
    me, peer = case.me, (B if case.me == A else A)
    here, there = case.here, case.there
    if here.holder == me:
        expires = None if here.left is None else NOW + here.left
        lease = Lease(app="web", holder=me, epoch=here.epoch, granted_at=NOW - 1, expires_at=expires)
    else:
        lease = Lease(app="web", holder=here.holder, epoch=here.epoch)
    app = LocalApp(
        lease=lease,
        running=here.running,
        disk=here.disk,
        failed=here.failed,
        maintenance=here.maintenance,
        override=here.override,
    )
    local = LocalView(node=me, now=NOW, load=here.load, apps={"web": app})
    report = PeerApp(
        running=there.running,
        lease_epoch=there.epoch,
        lease_holder=there.holder,
        lease_expires_in=there.expires_in if there.holder == peer else None,
        disk=there.disk,
        failed=there.failed,
        maintenance=there.maintenance,
        override=there.override,
    )
    remote = PeerView(
        node=peer,
        link_ages={"n1": there.silence, "n2": there.silence + 0.5},
        listening_for=60.0,
        echo_age=there.echo,
        load=there.load,
        apps={"web": report} if there.report else {},
    )
    return local, remote


def _decide(case: Case) -> Decision:
    local, remote = _views(case)
    placement = PlacementSpec.model_validate(case.placement)
    return decide(local, remote, case.settings, case.facts, {"web": placement})["web"]


RENEWED = NOW + SETTINGS.lease_duration - ECHO
SILENT = There(silence=5.0, echo=5.3, running=True, holder=B)  # powered off 5 s ago, holding it
ISOLATED = There(silence=5.0, echo=5.3, holder=A)  # we hold it, the peer is silent
RUNNING_OURS = Here(running=True, holder=A)
NOT_TRIED = Facts(fencing=FencingState.NOT_TRIED)

CASES = [
    # Both nodes hear each other.
    Case("the holder keeps it and renews from the echo", Here(running=True, holder=A, left=2.0),
         There(holder=A), Verdict.RUN, "where it runs", (A, 3, RENEWED)),
    Case("cold start: the first node by name takes it", Here(), There(), Verdict.TAKE_OVER,
         "first node by name", (A, 4, RENEWED)),
    Case("cold start seen from the other node", Here(), There(), Verdict.STAY_STOPPED, "starts on alpha",
         NOTHING, me=B),
    Case("stickiness: it stays where it runs", Here(holder=B), There(running=True, holder=B),
         Verdict.STAY_STOPPED, "stays on beta", placement={"preferredNode": A}),
    Case("failback: the preferred node waits for the other to stop", Here(holder=B),
         There(running=True, holder=B), Verdict.WAIT, "once beta has stopped it",
         placement={"preferredNode": A, "failback": "preferred"}),
    Case("failback: the other stops and releases", Here(running=True, holder=A), There(holder=A),
         Verdict.STOP, "moves to beta", (None, 3, None),
         placement={"preferredNode": B, "failback": "preferred"}),
    Case("failback: no move to a preferred node without an UpToDate disk", Here(running=True, holder=A),
         There(holder=A, disk="Inconsistent"), Verdict.RUN, "stays on alpha",
         placement={"preferredNode": B, "failback": "preferred"}),
    Case("handover: acquire once the peer stopped and released", Here(), There(epoch=5),
         Verdict.TAKE_OVER, "", (A, 6, RENEWED), placement={"preferredNode": A}),
    Case("handover: not while the peer holds the lease",
         Here(holder=B, override=Override(serial=1, desired_node=A)), There(holder=B), Verdict.WAIT,
         "released its lease"),
    Case("least load: the less loaded node starts it", Here(load=0.9), There(load=0.1),
         Verdict.STAY_STOPPED, "less loaded node"),
    Case("least load: loads within the hysteresis go by name", Here(load=0.5), There(load=0.6),
         Verdict.TAKE_OVER, "first node by name"),
    Case("least load without stickiness moves it", Here(running=True, holder=A, load=0.9),
         There(holder=A, load=0.1), Verdict.STOP, "moves to beta", placement={"stickiness": False}),
    Case("least load with stickiness keeps it", Here(running=True, holder=A, load=0.9),
         There(holder=A, load=0.1), Verdict.RUN, "stays on alpha"),
    Case("the operator moves it away",
         Here(running=True, holder=A, override=Override(serial=1, desired_node=B)), There(holder=A),
         Verdict.STOP, "operator wants it on beta", (None, 3, None)),
    Case("the newer override wins, wherever it was given",
         Here(running=True, holder=A, override=Override(serial=1, desired_node=A)),
         There(holder=A, override=Override(serial=2, desired_node=B)), Verdict.STOP,
         "operator wants it on beta"),
    Case("the operator's node cannot run it: placement decides", Here(running=True, holder=A),
         There(holder=A, disk="Outdated", override=Override(serial=1, desired_node=B)), Verdict.RUN,
         "but the disk on beta is Outdated"),
    Case("the operator stops it", Here(running=True, holder=A, override=Override(serial=1, stopped=True)),
         There(holder=A), Verdict.STOP, "stopped by the operator", (None, 3, None)),
    Case("no start without two-way contact", Here(), There(echo=None), Verdict.WAIT, "acknowledges"),
    Case("no start while the peer does not report it", Here(), There(report=False), Verdict.WAIT,
         "reports it"),
    Case("both run it: the holder keeps it", Here(running=True, holder=A), There(running=True, holder=A),
         Verdict.RUN, "alpha keeps it"),
    Case("both run it: the other stops", Here(running=True, holder=A), There(running=True, holder=A),
         Verdict.STOP, "alpha keeps it", me=B),
    Case("a higher epoch from the peer is adopted", Here(holder=A), There(running=True, holder=B, epoch=7),
         Verdict.STAY_STOPPED, "stays on beta", (B, 7, None)),
    Case("silent for less than the dead time: no takeover", Here(holder=B),
         There(silence=0.9, echo=1.2, running=True, holder=B), Verdict.STAY_STOPPED, "stays on beta"),
    # The peer is dead (silent on every link for the dead time).
    Case("power-off of the peer: takeover once its lease is over", Here(holder=B), SILENT, Verdict.TAKE_OVER,
         "silent on every link for 5.0 s", (A, 4, OPEN)),
    Case("silent, but its lease may still run", Here(holder=B), There(silence=2.0, echo=2.3, running=True,
         holder=B), Verdict.WAIT, "may last to 4.0 s of silence"),
    Case("local disk Outdated: no takeover", Here(holder=B, disk="Outdated"), SILENT, Verdict.WAIT,
         "the local disk is Outdated"),
    Case("local disk Outdated, takeover forced", Here(holder=B, disk="Outdated"), SILENT, Verdict.TAKE_OVER,
         "forced onto a Outdated disk", placement={"takeover": "force"}),
    Case("tie-breaker lost: no takeover", Here(holder=B), SILENT, Verdict.WAIT, "tie-breaker does not answer",
         settings=WITH_TIE, facts=Facts(tie_breaker_ok=False)),
    Case("tie-breaker answers: takeover", Here(holder=B), SILENT, Verdict.TAKE_OVER, "silent",
         settings=WITH_TIE, facts=Facts(tie_breaker_ok=True)),
    Case("fencing not tried", Here(holder=B), SILENT, Verdict.NEED_FENCING, "must be fenced",
         facts=NOT_TRIED),
    Case("fencing failed", Here(holder=B), SILENT, Verdict.WAIT, "fencing beta failed",
         facts=Facts(fencing=FencingState.FAILED)),
    Case("fencing succeeded", Here(holder=B), SILENT, Verdict.TAKE_OVER, "fenced", (A, 4, OPEN),
         facts=Facts(fencing=FencingState.SUCCEEDED)),
    Case("fencing first, even when the peer was never heard", Here(),
         There(silence=60, echo=None, report=False), Verdict.NEED_FENCING, "", facts=NOT_TRIED),
    Case("never heard since start, no fencing: no takeover", Here(holder=B),
         There(silence=60, echo=None, report=False), Verdict.WAIT,
         "has not reported it since this agent started"),
    Case("after self-fencing, no taking back", Here(), ISOLATED, Verdict.WAIT, "alpha held it"),
    Case("nobody held it: nobody starts it in a partition", Here(), There(silence=5.0, echo=5.3),
         Verdict.WAIT, "no node held it"),
    Case("the peer took it over in silence: never waited out", Here(holder=B),
         There(silence=9.0, echo=20.0, running=True, holder=B, expires_in=None), Verdict.WAIT,
         "no end to wait out"),
    Case("running here, the peer took it over meanwhile", Here(running=True, holder=A),
         There(silence=5.0, echo=9.0, running=True, holder=B, epoch=4, expires_in=None), Verdict.STOP,
         "took this over (epoch 4)", (B, 4, None)),
    Case("stopped by the operator: no takeover", Here(holder=B, override=Override(serial=1, stopped=True)),
         SILENT, Verdict.STAY_STOPPED, "stopped by the operator"),
    Case("autostart off and held by nobody: not started", Here(), There(silence=60, echo=None, report=False),
         Verdict.STAY_STOPPED, "autostart is off", facts=NOT_TRIED, placement={"autostart": False}),
    # Self-fencing: running without contact.
    Case("isolated holder runs on its lease, without renewing", Here(running=True, holder=A, left=2.5),
         ISOLATED, Verdict.RUN, "self-fencing in 1.5 s", NOTHING, settings=WITH_TIE,
         facts=Facts(tie_breaker_ok=False)),
    Case("isolated holder, tie-breaker lost, self-fences before expiry",
         Here(running=True, holder=A, left=0.8), ISOLATED, Verdict.SELF_FENCE, "nor its tie-breaker",
         (None, 3, None), settings=WITH_TIE,
         facts=Facts(tie_breaker_ok=False)),
    Case("isolated holder, no tie-breaker, self-fences", Here(running=True, holder=A, left=0.8), ISOLATED,
         Verdict.SELF_FENCE, "0.8 s left", (None, 3, None)),
    Case("isolated holder, tie-breaker answering, no fencing: self-fences all the same",
         Here(running=True, holder=A, left=0.8), ISOLATED, Verdict.SELF_FENCE, "its tie-breaker answers",
         settings=WITH_TIE, facts=Facts(tie_breaker_ok=True)),
    Case("isolated holder with fencing and tie-breaker keeps it", Here(running=True, holder=A, left=0.2),
         ISOLATED, Verdict.RUN, "must fence this node", NOTHING, settings=WITH_TIE,
         facts=Facts(tie_breaker_ok=True, fencing=FencingState.NOT_TRIED)),
    Case("isolated holder with fencing, tie-breaker lost: self-fences",
         Here(running=True, holder=A, left=0.2), ISOLATED, Verdict.SELF_FENCE, "", settings=WITH_TIE,
         facts=Facts(tie_breaker_ok=False, fencing=FencingState.NOT_TRIED)),
    Case("one-way contact: heard, but no echo, so no renewal", Here(running=True, holder=A, left=0.5),
         There(silence=0.1, echo=3.5, holder=A), Verdict.SELF_FENCE, "no contact"),
    Case("an open-ended lease is kept in silence", Here(running=True, holder=A, left=None), ISOLATED,
         Verdict.RUN, "open-ended", NOTHING),
    Case("an open-ended lease becomes a renewed one on contact", Here(running=True, holder=A, left=None),
         There(holder=A), Verdict.RUN, "", (A, 3, RENEWED)),
    # Maintenance.
    Case("maintenance here: no action", Here(running=True, holder=A, left=0.1, maintenance=True), ISOLATED,
         Verdict.HOLD, "in maintenance on alpha", NOTHING),
    Case("maintenance on the peer: no action", Here(holder=B), There(holder=B, epoch=9, maintenance=True),
         Verdict.HOLD, "in maintenance on beta", NOTHING),
    # Monitor-driven failover.
    Case("failed here: stop and release, the peer takes it", Here(running=True, holder=A, failed=True),
         There(holder=A), Verdict.STOP, "beta takes it over", (None, 3, None)),
    Case("failed here, the peer's disk is Outdated", Here(running=True, holder=A, failed=True),
         There(holder=A, disk="Outdated"), Verdict.STOP,
         "beta cannot take it over: the disk on beta is Outdated"),
    Case("failed on both nodes", Here(running=True, holder=A, failed=True), There(holder=A, failed=True),
         Verdict.STOP, "the monitor on beta asked for a failover"),
    Case("failed here, the peer silent", Here(running=True, holder=A, failed=True), ISOLATED, Verdict.STOP,
         "no node can take it"),
    Case("failed on the peer, which released it: take it over", Here(), There(failed=True, epoch=4),
         Verdict.TAKE_OVER, "", (A, 5, RENEWED), placement={"preferredNode": B}),
    Case("failed on the peer, local disk Outdated: nobody can", Here(disk="Outdated"), There(failed=True),
         Verdict.STAY_STOPPED, "no node can run it: the disk on alpha is Outdated"),
    Case("failed on the peer, still running there: wait for its stop", Here(), There(running=True, holder=B,
         failed=True), Verdict.WAIT, "once beta has stopped it"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_rule(case: Case) -> None:
    decision = _decide(case)
    assert decision.verdict is case.expect, decision.reason
    assert case.says in decision.reason
    if case.writes == NOTHING:
        assert decision.lease is None
    elif case.writes is not None:
        assert decision.lease is not None
        holder, epoch, expires = case.writes
        assert (decision.lease.holder, decision.lease.epoch) == (holder, epoch)
        if expires == OPEN:
            assert decision.lease.open_ended
        else:
            assert decision.lease.expires_at == pytest.approx(expires)


def test_every_verdict_is_exercised() -> None:
    assert {case.expect for case in CASES} == set(Verdict)


def test_a_renewal_never_outlasts_the_last_proven_contact() -> None:
    """The renewed lease ends lease_duration after the echoed heartbeat was sent, not after now."""
    for echo in (0.1, 1.0, 2.5):
        case = Case("", Here(running=True, holder=A), There(holder=A, echo=echo), Verdict.RUN, "")
        lease = _decide(case).lease
        assert lease is not None and lease.expires_at == pytest.approx(NOW - echo + SETTINGS.lease_duration)
    stale = Case("", Here(running=True, holder=A, left=2.0), There(holder=A, echo=3.2), Verdict.RUN, "")
    assert _decide(stale).lease is None  # 0.8 s would be within the margin: no renewal


def test_self_fencing_comes_before_the_lease_ends() -> None:
    """Counting down without contact: RUN while more than the margin is left, then SELF_FENCE."""
    verdicts = []
    for tenth in range(30, -1, -1):
        left = tenth / 10
        case = Case("", Here(running=True, holder=A, left=left), ISOLATED, Verdict.RUN, "")
        verdicts.append((left, _decide(case).verdict))
    fence_from = max(left for left, verdict in verdicts if verdict is Verdict.SELF_FENCE)
    assert fence_from == SETTINGS.self_fence_margin
    assert all(verdict is Verdict.RUN for left, verdict in verdicts if left > fence_from)


def test_decisions_cover_every_local_application_in_order() -> None:
    local, remote = _views(Case("", Here(), There(), Verdict.RUN, ""))
    db = LocalApp(lease=Lease(app="db"), running=False, disk="UpToDate")
    local = local.model_copy(update={"apps": {"web": local.apps["web"], "db": db}})
    decisions = decide(local, remote, SETTINGS, Facts(), {})
    assert list(decisions) == ["db", "web"]
    assert decisions["db"].verdict is Verdict.WAIT  # the peer does not report db


def test_inconsistent_inputs_are_refused() -> None:
    local, remote = _views(Case("", Here(), There(), Verdict.RUN, ""))
    with pytest.raises(ValueError, match="cannot be this node"):
        decide(local, remote.model_copy(update={"node": A}), SETTINGS, Facts(), {})
    with pytest.raises(ValueError, match="lease of db"):
        LocalView(node=A, now=NOW, apps={"web": LocalApp(lease=Lease(app="db"), running=False, disk=None)})
    with pytest.raises(ValueError, match="margin"):
        Settings(dead_time=1, lease_duration=2, self_fence_margin=2)


def test_silence_is_the_freshest_link_and_never_heard_counts_from_listening() -> None:
    view = PeerView(node=B, link_ages={"n1": 4.0, "n2": 0.5}, listening_for=9.0, echo_age=None)
    assert view.silence == 0.5
    view = PeerView(node=B, link_ages={"n1": None, "n2": None}, listening_for=2.0, echo_age=None)
    assert view.silence == 2.0
