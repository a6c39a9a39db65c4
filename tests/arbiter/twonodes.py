"""A two-node world in discrete time, to run `decide` on both nodes as the agents would.

Every step (DT seconds) each powered node sends a heartbeat on each link that is up in that
direction (delivered `delay` steps later, or dropped), then each powered node decides from its own
view only, then the decisions are applied. The heartbeat echoes the newest sequence number the
sender has received from the receiver, which the receiver turns into `echo_age`. Wall clocks of
the two nodes differ by a large offset, so a comparison of one node's times with the other's
would show. A start is instantaneous; a stop takes `stop_steps` steps, during which the
application still counts as running (here and in the heartbeats) and its released lease is
written only once it is done: the self-fencing margin must cover that time.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from reconciler.arbiter.decide import decide
from reconciler.arbiter.lease import Lease
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

DT = 0.1
NETS = ("n1", "n2")
RUNS = frozenset({Verdict.RUN, Verdict.TAKE_OVER})
UP_TO_DATE = "UpToDate"

# Link filter: (time, sender, receiver, network) -> whether a heartbeat sent then gets through.
Links = Callable[[float, str, str, str], bool]


@dataclass
class Message:
    seq: int
    echo: int | None
    apps: dict[str, PeerApp]


@dataclass
class Node:
    name: str
    offset: float
    disks: dict[str, str]
    fencing: FencingState
    tie_breaker: bool | None = None
    powered: bool = True
    running: dict[str, bool] = field(default_factory=dict)
    records: dict[str, Lease] = field(default_factory=dict)
    heard: dict[str, float] = field(default_factory=dict)
    latest: Message | None = None
    stopping: dict[str, tuple[int, Lease | None]] = field(default_factory=dict)  # app: (done at, lease)

    def now(self, t: float) -> float:
        return t + self.offset


@dataclass
class World:
    settings: Settings
    placements: dict[str, PlacementSpec]
    nodes: dict[str, Node]
    links: Links
    delay: int = 0
    fencing_works: bool = True
    stop_steps: int = 0
    inbox: list[tuple[int, str, str, Message]] = field(default_factory=list)
    history: list[dict[str, dict[str, Decision]]] = field(default_factory=list)
    _index: int = 0

    @classmethod
    def build(
        cls,
        settings: Settings,
        placements: dict[str, PlacementSpec],
        links: Links,
        *,
        fencing: FencingState = FencingState.NOT_CONFIGURED,
        fencing_works: bool = True,
        delay: int = 0,
        stop_steps: int = 0,
        disks: dict[str, dict[str, str]] | None = None,
    ) -> "World":
        nodes = {}
        for name, offset in (("a", 0.0), ("b", 12_345.678)):
            node_disks = (disks or {}).get(name, dict.fromkeys(placements, UP_TO_DATE))
            node = Node(name=name, offset=offset, disks=node_disks, fencing=fencing)
            node.running = dict.fromkeys(placements, False)
            node.records = {app: Lease(app=app) for app in placements}
            nodes[name] = node
        return cls(
            settings,
            placements,
            nodes,
            links,
            delay=delay,
            fencing_works=fencing_works,
            stop_steps=stop_steps,
        )

    def other(self, name: str) -> Node:
        return self.nodes["b" if name == "a" else "a"]

    def step(self, index: int) -> dict[str, dict[str, Decision]]:
        t = index * DT
        self._finish_stops(index)
        self._send(index, t)
        self._deliver(index, t)
        decisions = {
            name: decide(
                self._local(node, t), self._peer(node, t), self.settings, self._facts(node), self.placements
            )
            for name, node in self.nodes.items()
            if node.powered
        }
        self.history.append(decisions)
        self._index = index
        self._apply(decisions)
        return decisions

    def _report(self, node: Node, t: float) -> dict[str, PeerApp]:
        report = {}
        for app, lease in node.records.items():
            expires_in = None if lease.expires_at is None else lease.expires_at - node.now(t)
            report[app] = PeerApp(
                running=node.running[app],
                lease_epoch=lease.epoch,
                lease_holder=lease.holder,
                lease_expires_in=expires_in if lease.holder == node.name else None,
                disk=node.disks[app],
            )
        return report

    def _send(self, index: int, t: float) -> None:
        for node in self.nodes.values():
            if not node.powered:
                continue
            peer = self.other(node.name)
            message = Message(index, node.latest.seq if node.latest else None, self._report(node, t))
            for net in NETS:
                if self.links(t, node.name, peer.name, net):
                    self.inbox.append((index + self.delay, peer.name, net, message))

    def _deliver(self, index: int, t: float) -> None:
        due = [item for item in self.inbox if item[0] <= index]
        self.inbox = [item for item in self.inbox if item[0] > index]
        for _, receiver, net, message in due:
            node = self.nodes[receiver]
            if not node.powered:
                continue
            node.heard[net] = t
            if node.latest is None or message.seq > node.latest.seq:
                node.latest = message

    def _local(self, node: Node, t: float) -> LocalView:
        apps = {
            app: LocalApp(lease=node.records[app], running=node.running[app], disk=node.disks[app])
            for app in self.placements
        }
        return LocalView(node=node.name, now=node.now(t), apps=apps)

    def _peer(self, node: Node, t: float) -> PeerView:
        latest = node.latest
        echo_age = None if latest is None or latest.echo is None else t - latest.echo * DT
        return PeerView(
            node=self.other(node.name).name,
            link_ages={net: (t - node.heard[net]) if net in node.heard else None for net in NETS},
            listening_for=t,
            echo_age=echo_age,
            apps=latest.apps if latest else {},
        )

    def _facts(self, node: Node) -> Facts:
        return Facts(tie_breaker_ok=node.tie_breaker, fencing=node.fencing)

    def _apply(self, decisions: dict[str, dict[str, Decision]]) -> None:
        for name, per_app in decisions.items():
            node = self.nodes[name]
            if not node.powered:  # fenced by the peer earlier in this step
                continue
            for app, decision in per_app.items():
                self._apply_one(node, app, decision)

    def _finish_stops(self, index: int) -> None:
        for node in self.nodes.values():
            for app, (done_at, lease) in list(node.stopping.items()):
                if index >= done_at:
                    node.running[app] = False
                    if lease is not None:
                        node.records[app] = lease
                    del node.stopping[app]

    def _apply_one(self, node: Node, app: str, decision: Decision) -> None:
        if app in node.stopping:  # the agent is busy stopping it
            return
        if decision.verdict in (Verdict.STOP, Verdict.SELF_FENCE) and self.stop_steps:
            node.stopping[app] = (self._index + self.stop_steps, decision.lease)
            return
        if decision.lease is not None:
            assert decision.lease.epoch >= node.records[app].epoch, "an epoch went down"
            node.records[app] = decision.lease
        if decision.verdict in RUNS:
            node.running[app] = True
        elif decision.verdict in (Verdict.STOP, Verdict.SELF_FENCE):
            node.running[app] = False
        elif decision.verdict is Verdict.NEED_FENCING:
            self._fence(node)

    def _fence(self, node: Node) -> None:
        if not self.fencing_works:
            node.fencing = FencingState.FAILED
            return
        victim = self.other(node.name)
        victim.powered = False
        victim.running = dict.fromkeys(victim.running, False)
        victim.stopping.clear()
        node.fencing = FencingState.SUCCEEDED

    def power_off(self, name: str) -> None:
        node = self.nodes[name]
        node.powered = False
        node.running = dict.fromkeys(node.running, False)
        node.stopping.clear()

    def runners(self, app: str) -> list[str]:
        return [name for name, node in self.nodes.items() if node.powered and node.running[app]]


def lossy(seed: float, loss: float) -> Links:
    """Each heartbeat dropped with probability `loss`, independently, reproducibly."""

    def links(t: float, sender: str, receiver: str, net: str) -> bool:
        draw = random.Random(f"{seed}/{t:.1f}/{sender}/{net}").random()
        return draw >= loss

    return links
