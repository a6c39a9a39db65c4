"""The agent's pure `step(state, event) -> (state, effects)`: no threads, no sleeps, simulated time.

The seed's cluster (centos5s1, centos5s2; deadTime 1 s: leases of 1 s, self-fencing with 0.4 s
left) and its application xapache, seen from centos5s1.
"""

import signal
from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from reconciler.agent.control import Request
from reconciler.agent.converge import Snapshot
from reconciler.agent.effects import (
    Answer,
    Effect,
    Exit,
    Fence,
    HardStop,
    Log,
    ProbeTieBreaker,
    Publish,
    Reply,
    ResetMonitors,
    RunPass,
    SaveFailed,
    SaveOverrides,
    Wake,
    WriteLease,
)
from reconciler.agent.events import (
    Crashed,
    DrbdChanged,
    FencingDone,
    HardStopDone,
    LeaseRefused,
    ManifestsLoaded,
    MonitorResult,
    OperatorRequest,
    PassDone,
    Sensed,
    Signalled,
    Tick,
    TieBreakerAnswered,
)
from reconciler.agent.loop import Agent
from reconciler.agent.overrides import Overrides
from reconciler.agent.state import AgentState, initial
from reconciler.agent.step import step
from reconciler.arbiter.lease import Lease
from reconciler.arbiter.views import FencingState, PeerApp, PeerView, Verdict
from reconciler.core.diff import Probed
from reconciler.core.facts import AppFacts, Presence
from reconciler.manifest import ManifestSet, load_manifests
from reconciler.manifest.cluster import Fencing, PingTieBreaker
from reconciler.monitor.policy import VerdictKind
from reconciler.observe.state import Observed
from tests.conftest import REPO

ME, PEER, APP = "centos5s1", "centos5s2", "xapache"
NOW = 1000.0  # monotonic
STEADY = 5000.0  # SteadyClock: the scale of the leases


@pytest.fixture(scope="module")
def manifests() -> ManifestSet:
    return load_manifests([REPO / "manifests"])


def snapshot(running: bool) -> Snapshot:
    observed = Observed.model_construct(node=ME, taken_at=datetime.now(UTC))
    presence = Presence.RUNNING if running else Presence.STOPPED
    return Snapshot(observed=observed, probed=Probed(), apps={APP: AppFacts(presence, "UpToDate")})


def held(expires_in: float) -> Lease:
    return Lease(app=APP, holder=ME, epoch=3, granted_at=STEADY - 0.5, expires_at=STEADY + expires_in)


def running_here(manifests: ManifestSet, expires_in: float = 1.0) -> AgentState:
    lease = held(expires_in)
    state = initial(manifests, ME, PEER, 2.0, {APP: lease}, Overrides(), frozenset())
    return replace(state, snapshot=snapshot(True), next_pass=NOW + 100)


def sensed(silence: float, echo_age: float | None, at: float = 0.0) -> Sensed:
    peer_app = PeerApp(running=False, lease_epoch=3, lease_holder=ME, lease_expires_in=None, disk="UpToDate")
    peer = PeerView(
        node=PEER,
        link_ages={"public": silence, "private": silence},
        listening_for=600.0,
        echo_age=echo_age,
        apps={APP: peer_app},
    )
    return Sensed(now=NOW + at, steady=STEADY + at, peer=peer)


def of(effects: list[Effect], kind: type) -> list[Effect]:
    return [e for e in effects if isinstance(e, kind)]


def test_a_tick_with_contact_renews_in_memory_and_publishes(manifests: ManifestSet) -> None:
    state, effects = step(running_here(manifests), Tick(sensed(0.1, 0.2)))
    assert state.decisions[APP].verdict is Verdict.RUN
    assert state.lease(APP).expires_at == pytest.approx(STEADY + 0.8)  # 1 s from the echoed heartbeat
    assert not of(effects, WriteLease)  # a renewal stays in memory
    assert of(effects, Publish) and not of(effects, HardStop)


def test_a_silent_peer_past_the_margin_yields_a_hard_stop_with_a_deadline(manifests: ManifestSet) -> None:
    state = running_here(manifests, expires_in=1.0)
    # 0.5 s of silence: the lease is renewed to 1 s after the echoed heartbeat (sent 0.5 s ago),
    # 0.5 s left, more than the margin (0.4 s): keep running.
    state, effects = step(state, Tick(sensed(0.5, 0.5)))
    assert state.decisions[APP].verdict is Verdict.RUN
    assert not of(effects, HardStop)
    # 0.7 s: 0.3 s left, under the margin: a hard stop, with the lease's end as its deadline.
    state, effects = step(state, Tick(sensed(0.7, 0.7, at=0.7)))
    assert state.decisions[APP].verdict is Verdict.SELF_FENCE
    stops = of(effects, HardStop)
    assert len(stops) == 1
    stop = stops[0]
    assert isinstance(stop, HardStop) and stop.app == APP and stop.deadline == STEADY + 0.5
    assert state.hard_stopping == {APP}
    assert APP in state.pending_release  # released once the observation shows it stopped
    # Asked once: the next tick does not start another.
    state, effects = step(state, Tick(sensed(0.8, 0.8, at=0.8)))
    assert not of(effects, HardStop)


def test_a_self_fence_due_before_the_next_tick_asks_for_a_wake_at_that_moment(
    manifests: ManifestSet,
) -> None:
    # No contact to renew (the echo is 0.65 s old), 0.5 s left: running for 0.1 s more, then
    # within the margin (0.4 s), which is before the next tick (0.2 s).
    state, effects = step(running_here(manifests, expires_in=0.5), Tick(sensed(0.65, 0.65)))
    assert state.decisions[APP].verdict is Verdict.RUN
    wakes = of(effects, Wake)
    assert len(wakes) == 1 and isinstance(wakes[0], Wake)
    assert wakes[0].after == pytest.approx(0.1, abs=0.01)
    state, effects = step(state, Tick(sensed(0.75, 0.75, at=wakes[0].after)))
    assert of(effects, HardStop)


def test_a_hard_stop_does_not_wait_for_the_running_pass(manifests: ManifestSet) -> None:
    state = replace(running_here(manifests, expires_in=0.2), passing=True)
    state, effects = step(state, Tick(sensed(0.8, 0.8)))
    assert of(effects, HardStop)
    assert not of(effects, RunPass)  # the pass in progress goes on; the hard stop runs beside it
    assert state.pass_wanted and state.passing


def test_the_hard_stop_s_result_releases_the_lease_and_asks_for_a_pass(manifests: ManifestSet) -> None:
    state = running_here(manifests, expires_in=0.2)
    state, _ = step(state, Tick(sensed(0.8, 0.8)))
    state = replace(state, passing=True)
    state, effects = step(state, HardStopDone(APP, True, "destroy: succeeded", snapshot(False)))
    assert state.hard_stopping == frozenset() and not state.running_here(APP)
    assert any(isinstance(e, Log) and e.decision.what == "hard-stop" for e in effects)
    state, effects = step(state, Tick(sensed(0.9, 0.9, at=0.1)))
    writes = of(effects, WriteLease)
    assert writes and isinstance(writes[0], WriteLease) and writes[0].lease.holder is None


def test_a_hard_stop_runs_once_per_self_fence(manifests: ManifestSet) -> None:
    state = running_here(manifests, expires_in=0.2)
    state, _ = step(state, Tick(sensed(0.8, 0.8)))
    # Still seen running (an observation that cannot tell): the passes do the rest, not another
    # hard stop at every tick.
    state, _ = step(state, HardStopDone(APP, False, "unmount: failed", snapshot(True)))
    state, effects = step(state, Tick(sensed(0.9, 0.9, at=0.1)))
    assert state.decisions[APP].verdict is Verdict.SELF_FENCE
    assert not of(effects, HardStop)


def test_a_pass_result_updates_state(manifests: ManifestSet) -> None:
    state = replace(running_here(manifests), passing=True, restarting=frozenset({APP}))
    state, effects = step(state, PassDone("converged", "xapache/...: succeeded", snapshot(False), NOW + 3))
    assert not state.running_here(APP) and state.next_pass == NOW + 3 + 2.0
    whats = [e.decision.what for e in effects if isinstance(e, Log)]
    assert whats == ["converged", "restart"]
    assert APP not in state.restarting
    assert of(effects, RunPass) and state.passing  # stopped for the restart: the next pass starts it


def test_a_deferred_pass_is_logged_as_a_change_not_a_failure(manifests: ManifestSet) -> None:
    state = replace(running_here(manifests), passing=True)
    state, effects = step(state, PassDone("deferred", "another apply is running (pid 7)", None, NOW))
    logs = of(effects, Log)
    assert len(logs) == 1 and isinstance(logs[0], Log) and logs[0].changed
    assert logs[0].decision.what == "pass-deferred" and state.exit_code is None and not state.passing


def test_passes_run_one_at_a_time(manifests: ManifestSet) -> None:
    state, effects = step(running_here(manifests), DrbdChanged("change resource name:r0 role:Primary"))
    assert of(effects, RunPass) and state.passing
    state, effects = step(state, DrbdChanged("change device name:r0 disk:UpToDate"))
    assert not of(effects, RunPass) and state.pass_wanted
    state, effects = step(state, PassDone("observed", "", snapshot(True), NOW))
    assert of(effects, RunPass) and state.passing and not state.pass_wanted


def test_a_timed_pass_comes_with_a_tick(manifests: ManifestSet) -> None:
    state = replace(running_here(manifests), next_pass=NOW)
    state, effects = step(state, Tick(sensed(0.1, 0.2)))
    passes = of(effects, RunPass)
    assert passes and isinstance(passes[0], RunPass) and dict(passes[0].placement) == {APP: ME}


def test_an_operator_command_yields_a_reply_and_saves_the_override(manifests: ManifestSet) -> None:
    event = OperatorRequest(Request(command="stop", app=APP))
    state, effects = step(running_here(manifests), event)
    assert state.overrides.of(APP).stopped
    assert of(effects, SaveOverrides) and of(effects, RunPass)
    replies = of(effects, Reply)
    assert len(replies) == 1 and isinstance(replies[0], Reply) and replies[0].response.ok
    assert replies[0].to is event.reply


def test_an_operator_query_is_answered_by_the_loop_and_a_bad_one_refused(manifests: ManifestSet) -> None:
    state = running_here(manifests)
    _, effects = step(state, OperatorRequest(Request(command="status")))
    assert [type(e) for e in effects] == [Answer]
    _, effects = step(state, OperatorRequest(Request(command="move", app="nosuch", node=PEER)))
    replies = of(effects, Reply)
    assert isinstance(replies[0], Reply) and not replies[0].response.ok
    assert "no application 'nosuch'" in (replies[0].response.error or "")


def test_start_clears_a_monitor_failover(manifests: ManifestSet) -> None:
    state = replace(running_here(manifests), failed=frozenset({APP}))
    state, effects = step(state, OperatorRequest(Request(command="start", app=APP)))
    assert APP not in state.failed
    assert of(effects, SaveFailed) and of(effects, ResetMonitors) and of(effects, Reply)


def test_a_monitor_failover_is_kept_on_disk_and_asks_for_a_pass(manifests: ManifestSet) -> None:
    event = MonitorResult(APP, "health", VerdictKind.FAILOVER, "3 failures", rc=1, detail="down")
    state, effects = step(running_here(manifests), event)
    assert APP in state.failed and of(effects, SaveFailed) and of(effects, RunPass)
    assert any(isinstance(e, Log) and e.decision.what == "monitor-failover" for e in effects)


def test_a_manifest_change_replaces_the_manifests_and_schedules_a_pass(manifests: ManifestSet) -> None:
    edited = replace(manifests, applications=())
    state, effects = step(running_here(manifests), ManifestsLoaded(edited))
    assert state.manifests is edited
    passes = of(effects, RunPass)
    assert passes and isinstance(passes[0], RunPass) and passes[0].manifests is edited
    assert any(isinstance(e, Log) and e.decision.what == "manifests-reloaded" for e in effects)


def arbitrated(manifests: ManifestSet, **change: object) -> ManifestSet:
    """The manifests with the cluster's arbitration settings changed."""
    cluster = manifests.cluster
    spec = cluster.document.spec
    arbitration = spec.arbitration.model_copy(update=change)
    document = cluster.document.model_copy(
        update={"spec": spec.model_copy(update={"arbitration": arbitration})}
    )
    return replace(manifests, cluster=replace(cluster, document=document))


def test_a_silent_peer_with_a_tie_breaker_is_probed_once_at_a_time(manifests: ManifestSet) -> None:
    breaker = PingTieBreaker.model_validate({"type": "ping", "address": "10.99.0.32"})
    tied = arbitrated(manifests, tie_breaker=breaker)
    state = replace(running_here(tied), snapshot=snapshot(False))
    state, effects = step(state, Tick(sensed(0.6, 0.6)))
    assert of(effects, ProbeTieBreaker) and state.probing
    state, effects = step(state, Tick(sensed(0.7, 0.7, at=0.1)))
    assert not of(effects, ProbeTieBreaker)
    state, _ = step(state, TieBreakerAnswered(NOW + 0.1, True))
    assert state.tie_breaker == (NOW + 0.1, True) and not state.probing


def dead_peer_holding_it(manifests: ManifestSet) -> AgentState:
    fenced = arbitrated(manifests, fencing=Fencing.model_validate({"command": ["/usr/sbin/fence-peer"]}))
    lease = Lease(app=APP, holder=PEER, epoch=3)
    state = initial(fenced, ME, PEER, 2.0, {APP: lease}, Overrides(), frozenset())
    return replace(state, snapshot=snapshot(False), next_pass=NOW + 100)


def peer_running(silence: float, at: float = 0.0) -> Sensed:
    peer_app = PeerApp(running=True, lease_epoch=3, lease_holder=PEER, lease_expires_in=None, disk="UpToDate")
    peer = PeerView(
        node=PEER,
        link_ages={"public": silence, "private": silence},
        listening_for=600.0,
        echo_age=silence + 0.1,
        apps={APP: peer_app},
    )
    return Sensed(now=NOW + at, steady=STEADY + at, peer=peer)


def test_fencing_runs_beside_the_loop_and_its_success_lets_the_takeover_through(
    manifests: ManifestSet,
) -> None:
    state, effects = step(dead_peer_holding_it(manifests), Tick(peer_running(1.5)))
    assert state.decisions[APP].verdict is Verdict.NEED_FENCING
    fences = of(effects, Fence)
    assert len(fences) == 1 and isinstance(fences[0], Fence) and fences[0].argv[-1] == PEER
    state, effects = step(state, Tick(peer_running(1.7, at=0.2)))
    assert not of(effects, Fence)  # one at a time
    state, effects = step(state, FencingDone(True, "exited 0", fences[0].round))
    assert state.fencing is FencingState.SUCCEEDED
    state, effects = step(state, Tick(peer_running(1.9, at=0.4)))
    assert state.decisions[APP].verdict is Verdict.TAKE_OVER
    writes = of(effects, WriteLease)
    assert writes and isinstance(writes[0], WriteLease) and writes[0].lease.holder == ME


def test_a_fencing_result_after_contact_came_back_is_stale(manifests: ManifestSet) -> None:
    state, effects = step(dead_peer_holding_it(manifests), Tick(peer_running(1.5)))
    fence = of(effects, Fence)[0]
    assert isinstance(fence, Fence)
    state, _ = step(state, Tick(peer_running(0.1, at=0.2)))  # heard again
    state, effects = step(state, FencingDone(True, "exited 0", fence.round))
    assert state.fencing is FencingState.NOT_TRIED
    assert any(isinstance(e, Log) and e.decision.what == "fencing-stale" for e in effects)


def test_a_refused_lease_write_takes_the_record_on_disk(manifests: ManifestSet) -> None:
    state = replace(running_here(manifests), snapshot=snapshot(False))
    on_disk = Lease(app=APP, holder=PEER, epoch=9)
    state, effects = step(state, LeaseRefused(APP, "epoch 9 on disk", on_disk))
    assert state.lease(APP) == on_disk and state.on_disk[APP] == on_disk
    assert any(isinstance(e, Log) and e.decision.what == "lease-refused" for e in effects)


def test_a_signal_yields_shutdown_effects(manifests: ManifestSet) -> None:
    state, effects = step(running_here(manifests), Signalled(signal.SIGTERM))
    assert isinstance(effects[-1], Exit) and effects[-1].code == 0
    assert any(isinstance(e, Log) and e.decision.what == "stop" for e in effects)
    assert step(state, DrbdChanged("change resource name:r0"))[1] == []  # ending: nothing new starts


def test_an_effect_failure_event_ends_the_loop_non_zero(manifests: ManifestSet) -> None:
    state, effects = step(running_here(manifests), Crashed("pass", "OSError('disk full')"))
    assert state.exit_code == 1
    assert isinstance(effects[-1], Exit) and effects[-1].code == 1
    assert any(isinstance(e, Log) and e.decision.what == "crash" for e in effects)


class _Queue:
    def __init__(self, *events: object) -> None:
        self.items = list(events)

    def get(self) -> object:
        return self.items.pop(0)

    def put(self, event: object) -> None:
        self.items.append(event)


class _Raising:
    def run(self, effect: Effect, state: AgentState) -> list[object]:
        if isinstance(effect, SaveOverrides):
            raise OSError("disk full")
        return []


def test_an_effect_that_raises_ends_the_loop_with_exit_status_1(manifests: ManifestSet) -> None:
    fake = SimpleNamespace(
        events=_Queue(OperatorRequest(Request(command="stop", app=APP))),
        state=running_here(manifests),
        performer=_Raising(),
    )
    assert Agent.loop(fake) == 1  # type: ignore[arg-type]
    assert fake.state.exit_code == 1
