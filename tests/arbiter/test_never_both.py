"""Never both: no application runs on the two nodes at once, whatever the links, the tie-breaker,
the fencing and the delays do (DESIGN.md, invariant 1), and the failovers that should happen do.

Two kinds of test. Over time: `twonodes.World` runs both agents' decisions step by step through
every combination of failure (partition, one-way loss, a single link down, heavy loss, flapping,
power-off), tie-breaker (none, reachable from both sides, lost by one side), fencing (none,
working, failing), message delay and healing; at every step at most one node may RUN or TAKE_OVER
each application, and at most one may be running it. At one instant: for many consistent
situations of two nodes that hear each other, both nodes decide from their own views, and at most
one of them runs the application.

What the design guarantees (see `reconciler.arbiter.decide`). Without fencing: a holder that has
lost contact stops `self_fence_margin` before its lease ends, and its lease ends at most
`lease_duration` after the peer last heard from it, while the peer starts only after
`lease_duration` of silence; so a partition with the tie-breaker reachable from both sides moves
an application (with an outage of about the margin), never doubles it, and the old holder never
takes it back while the partition lasts. With fencing: a takeover waits for the fencing command to
report the peer fenced, so the holder may keep running while it can reach its tie-breaker; the
first node to fence wins.
"""

import itertools
from dataclasses import dataclass

import pytest

from reconciler.arbiter.decide import decide
from reconciler.arbiter.lease import Lease
from reconciler.arbiter.placement import Override
from reconciler.arbiter.views import (
    Facts,
    FencingState,
    LocalApp,
    LocalView,
    PeerApp,
    PeerView,
    Settings,
    Verdict,
)
from reconciler.manifest.application import LEAST_CPU_LOAD, Failback, PlacementSpec
from tests.arbiter.twonodes import DT, RUNS, Links, World, lossy

SETTINGS = Settings(dead_time=1.0, lease_duration=3.0, self_fence_margin=0.5)
PLACEMENTS = {
    "web": PlacementSpec.model_validate({"preferredNode": "a"}),
    "db": PlacementSpec.model_validate({"preferredNode": "b"}),
}
FAIL_AT = 3.0
HEAL_AT = 9.0
STEPS = 140


def _failure(kind: str, heal: bool) -> Links:
    noisy = lossy(seed=len(kind), loss=0.7)

    def links(t: float, sender: str, receiver: str, net: str) -> bool:
        if t < FAIL_AT or (heal and t >= HEAL_AT):
            return True
        cut = {
            "none": False,
            "partition": True,
            "a-to-b lost": sender == "a",
            "b-to-a lost": sender == "b",
            "one link": net == "n1",
            "lossy": not noisy(t, sender, receiver, net),
            "flapping": int((t - FAIL_AT) / 1.7) % 2 == 0,
            "rejoin one-way": t < FAIL_AT + 5 or t >= FAIL_AT + 6 or sender == "a",
            "power a": False,
            "power b": False,
        }[kind]
        return not cut

    return links


FAILURES = (
    "rejoin one-way",
    "none",
    "partition",
    "a-to-b lost",
    "b-to-a lost",
    "one link",
    "lossy",
    "flapping",
    "power a",
    "power b",
)
TIE_BREAKERS = {"no tie-breaker": (None, None), "both reach it": (True, True), "a loses it": (False, True),
                "b loses it": (True, False)}  # fmt: skip
FENCING = {"no fencing": (FencingState.NOT_CONFIGURED, True), "fencing works": (FencingState.NOT_TRIED, True),
           "fencing fails": (FencingState.NOT_TRIED, False)}  # fmt: skip


def _run(
    failure: str,
    tie: str,
    fencing: str,
    delay: int,
    heal: bool,
    stop_steps: int = 0,
    disks: dict[str, dict[str, str]] | None = None,
) -> World:
    tie_a, tie_b = TIE_BREAKERS[tie]
    settings = SETTINGS.model_copy(update={"tie_breaker_configured": tie_a is not None})
    state, works = FENCING[fencing]
    world = World.build(
        settings,
        PLACEMENTS,
        _failure(failure, heal),
        fencing=state,
        fencing_works=works,
        delay=delay,
        stop_steps=stop_steps,
        disks=disks,
    )
    for node in world.nodes.values():
        node.tie_breaker = None if tie_a is None else True
    for index in range(STEPS):
        t = index * DT
        if abs(t - FAIL_AT) < DT / 2:
            _fail(world, failure, tie_a, tie_b)
        decisions = world.step(index)
        for app in PLACEMENTS:
            starters = [name for name, per_app in decisions.items() if per_app[app].verdict in RUNS]
            assert len(starters) <= 1, f"t={t:.1f}: {app} decided to run on {starters}: {decisions}"
            assert len(world.runners(app)) <= 1, f"t={t:.1f}: {app} runs on {world.runners(app)}"
    return world


def _fail(world: World, failure: str, tie_a: bool | None, tie_b: bool | None) -> None:
    world.nodes["a"].tie_breaker, world.nodes["b"].tie_breaker = tie_a, tie_b
    if failure.startswith("power "):
        world.power_off(failure.removeprefix("power "))


@pytest.mark.parametrize("failure", FAILURES)
@pytest.mark.parametrize("tie", TIE_BREAKERS)
@pytest.mark.parametrize("fencing", FENCING)
@pytest.mark.parametrize(("delay", "heal"), [(0, False), (3, True)])
@pytest.mark.parametrize("stop_steps", [0, 4])
def test_never_both_over_time(
    failure: str, tie: str, fencing: str, delay: int, heal: bool, stop_steps: int
) -> None:
    world = _run(failure, tie, fencing, delay, heal, stop_steps=stop_steps)
    assert all(lease.epoch >= 1 for node in world.nodes.values() for lease in node.records.values())


def _runs_at(world: World, t: float) -> dict[str, list[str]]:
    """Where each application ran after step `t` (rebuilt from the decisions)."""
    running: dict[str, set[str]] = {app: set() for app in PLACEMENTS}
    for decisions in world.history[: round(t / DT) + 1]:
        for name, per_app in decisions.items():
            for app, decision in per_app.items():
                if decision.verdict in RUNS:
                    running[app].add(name)
                elif decision.verdict in (Verdict.STOP, Verdict.SELF_FENCE):
                    running[app].discard(name)
    return {app: sorted(nodes) for app, nodes in running.items()}


def test_healthy_cluster_starts_each_application_on_its_preferred_node_and_keeps_it() -> None:
    world = _run("none", "no tie-breaker", "no fencing", 0, False)
    assert world.runners("web") == ["a"] and world.runners("db") == ["b"]
    assert _runs_at(world, 1.0) == {"web": ["a"], "db": ["b"]}
    assert world.nodes["a"].records["web"].epoch == 1  # renewed ever since, never re-acquired


def test_one_link_down_changes_nothing() -> None:
    world = _run("one link", "no tie-breaker", "no fencing", 0, False)
    verdicts = {
        d.verdict for step in world.history[20:] for per_app in step.values() for d in per_app.values()
    }
    assert verdicts <= {Verdict.RUN, Verdict.STAY_STOPPED}


def test_power_off_of_the_holder_fails_over_once_its_lease_is_over() -> None:
    world = _run("power a", "both reach it", "fencing works", 0, False)
    assert world.runners("web") == ["b"] and world.runners("db") == ["b"]
    took_over = next(i * DT for i, step in enumerate(world.history) if step["b"]["web"].verdict in RUNS)
    assert FAIL_AT + SETTINGS.lease_duration <= took_over <= FAIL_AT + SETTINGS.lease_duration + 3 * DT


def test_power_off_without_fencing_moves_its_applications_but_stops_the_survivors_own() -> None:
    """The price of safety without fencing: b cannot tell a's death from a partition, in which a
    would wait out b's lease of db and take db over; so b stops db when its lease ends, and keeps it
    stopped until a is heard again. Fencing removes that price (test above)."""
    world = _run("power a", "both reach it", "no fencing", 0, False)
    assert world.runners("web") == ["b"] and world.runners("db") == []
    last = world.history[-1]["b"]
    assert last["db"].verdict is Verdict.WAIT and "without fencing" in last["db"].reason


def test_power_off_without_an_up_to_date_disk_does_not_fail_over_unless_forced() -> None:
    disks = {"b": {"web": "Outdated", "db": "UpToDate"}}
    world = _run("power a", "no tie-breaker", "no fencing", 0, False, disks=disks)
    assert world.runners("web") == []
    assert "Outdated" in world.history[-1]["b"]["web"].reason


def test_partition_without_fencing_moves_each_application_once_and_heals() -> None:
    world = _run("partition", "both reach it", "no fencing", 0, True)
    during = _runs_at(world, HEAL_AT - DT)
    assert (
        during == {"web": ["b"], "db": []}
        or during == {"web": [], "db": ["a"]}
        or during
        == {
            "web": ["b"],
            "db": ["a"],
        }
    )
    assert all(len(world.runners(app)) == 1 for app in PLACEMENTS)  # after healing, each runs once


def test_partition_holders_self_fence_before_the_peer_takes_over() -> None:
    world = _run("partition", "both reach it", "no fencing", 0, False)
    fenced = next(i for i, step in enumerate(world.history) if step["a"]["web"].verdict is Verdict.SELF_FENCE)
    taken = next(i for i, step in enumerate(world.history) if step["b"]["web"].verdict is Verdict.TAKE_OVER)
    assert fenced < taken
    assert (taken - fenced) * DT <= SETTINGS.self_fence_margin + 2 * DT  # the outage is about the margin


def test_isolated_node_with_fencing_is_fenced_and_the_other_runs_everything() -> None:
    world = _run("partition", "a loses it", "fencing works", 0, False)
    assert not world.nodes["a"].powered
    assert world.runners("web") == ["b"] and world.runners("db") == ["b"]
    a_verdicts = [step["a"]["web"].verdict for step in world.history if "a" in step]
    assert Verdict.SELF_FENCE in a_verdicts  # it lost its links and its tie-breaker: it stopped first


# At one instant: both nodes hear each other and know the same facts; at most one runs it.

A, B = "a", "b"
NOW = 5_000.0
SYMMETRIC = Settings(dead_time=1.0, lease_duration=3.0, self_fence_margin=0.5, load_hysteresis=0.2)


@dataclass(frozen=True)
class Situation:
    """What both nodes know of one application when they hear each other."""

    running: tuple[str, ...]
    holder: str | None
    disks: dict[str, str]
    failed: tuple[str, ...]
    loads: dict[str, float]
    override: Override
    placement: PlacementSpec

    def fit(self, node: str) -> bool:
        return node not in self.failed and self.disks[node] == "UpToDate"

    def report(self, node: str) -> PeerApp:
        return PeerApp(
            running=node in self.running,
            lease_epoch=3,
            lease_holder=self.holder,
            lease_expires_in=2.0 if self.holder == node else None,
            disk=self.disks[node],
            failed=node in self.failed,
            override=self.override,
        )

    def views(self, me: str, peer: str) -> tuple[LocalView, PeerView]:
        if self.holder == me:
            lease = Lease(app="web", holder=me, epoch=3, granted_at=NOW - 1, expires_at=NOW + 2)
        else:
            lease = Lease(app="web", holder=self.holder, epoch=3)
        mine = self.report(me)
        app = LocalApp(
            lease=lease, running=mine.running, disk=mine.disk, failed=mine.failed, override=self.override
        )
        local = LocalView(node=me, now=NOW, load=self.loads[me], apps={"web": app})
        remote = PeerView(
            node=peer,
            link_ages={"n1": 0.1, "n2": 0.1},
            listening_for=60,
            echo_age=0.2,
            load=self.loads[peer],
            apps={"web": self.report(peer)},
        )
        return local, remote


def _situations() -> list[Situation]:
    placements = [
        PlacementSpec.model_validate({"preferredNode": preferred, "failback": failback, "stickiness": sticky})
        for preferred in (A, B, LEAST_CPU_LOAD)
        for failback in Failback
        for sticky in (True, False)
    ]
    overrides = [
        Override(),
        Override(serial=1, desired_node=A),
        Override(serial=1, desired_node=B),
        Override(serial=1, stopped=True),
    ]
    return [
        Situation(running, holder, {A: disk_a, B: disk_b}, failed, loads, override, placement)
        for running, holder, disk_a, disk_b, failed, loads, override, placement in itertools.product(
            [(), (A,), (B,), (A, B)],
            [None, A, B],
            ["UpToDate", "Outdated"],
            ["UpToDate", "Inconsistent"],
            [(), (A,), (B,)],
            [{A: 0.1, B: 1.0}, {A: 1.0, B: 0.1}, {A: 0.5, B: 0.55}],
            overrides,
            placements,
        )
    ]


def test_both_nodes_hearing_each_other_never_both_run_it() -> None:
    situations = _situations()
    assert len(situations) > 10_000
    for situation in situations:
        verdicts = {}
        for me, peer in ((A, B), (B, A)):
            local, remote = situation.views(me, peer)
            verdicts[me] = decide(local, remote, SYMMETRIC, Facts(), {"web": situation.placement})[
                "web"
            ].verdict
        starters = [node for node, verdict in verdicts.items() if verdict in RUNS]
        assert len(starters) <= 1, (situation, verdicts)
        if set(starters) - set(situation.running):  # a start: never while the other runs it
            assert not situation.running, (situation, verdicts)
        idle = not situation.running and not situation.override.stopped
        holder, desired = situation.holder, situation.override.desired_node
        # With a holder, another node starts it only after the holder's release (a second round).
        moved = desired is not None and desired != holder and situation.fit(desired)
        startable = holder is None or (situation.fit(holder) and not moved)
        if idle and startable and (situation.fit(A) or situation.fit(B)):
            assert len(starters) == 1, (situation, verdicts)  # and one of them does start it
