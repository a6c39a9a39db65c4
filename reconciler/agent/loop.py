"""`reconciler agent`: keep this node converged, agree with the peer on who runs what, fail over.

One loop over one queue of typed events (`events`), in drbd-reactor's shape: the loop takes an
event, hands it to the pure `step(state, event) -> (state, effects)` and runs the effects
(`perform`): the quick ones at once, in order, the slow ones in workers that answer with events.
The producers, each in a thread of its own:
- heartbeat (`PeerLink`): our heartbeats out, the peer's in; a change that matters is a Tick;
- ticker: a Tick every heartbeat interval, with the peer's view, the load and the clocks;
- monitors: checks at their intervals, verdicts as events;
- manifests: watchfiles on the manifest paths; a valid edit is loaded, an invalid one reported;
- DRBD: a long-running `drbdsetup events2`, whose lines wake the loop for a pass;
- control: the root-only Unix socket; a request waits for its reply (or is answered "busy");
- signals (SIGTERM, SIGINT): on the same queue.
No lock is shared: the state belongs to the loop. A pass runs in a worker (one at a time, under
the node's apply lock), so the loop keeps deciding while it runs; a self-fence's hard stop runs
at once in a worker of its own, whatever the pass is doing. A thread or effect that raises ends
the agent with exit status 1 (systemd restarts it; the watchdog covers the gap).
Every decision is one JSON line (`decisions`).
"""

import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType

from reconciler.agent import converge
from reconciler.agent.control import ControlServer, socket_path
from reconciler.agent.decisions import DecisionLog
from reconciler.agent.decisions import DecisionRecord as Logged
from reconciler.agent.effects import Exit
from reconciler.agent.events import Event, MonitorResult, Sensed, Signalled, Tick
from reconciler.agent.monitoring import Monitors
from reconciler.agent.operator import Queries
from reconciler.agent.overrides import FailedStore, OverrideStore
from reconciler.agent.peer import PeerLink
from reconciler.agent.perform import Performer, crash_report, guarded
from reconciler.agent.producers import Events2Reader, ask, tick, watch_manifests
from reconciler.agent.state import AgentState, initial
from reconciler.agent.step import step
from reconciler.agent.work import Worker
from reconciler.arbiter.keyfile import load_key
from reconciler.arbiter.lease import LeaseStore, SteadyClock
from reconciler.arbiter.links import HeartbeatLinks
from reconciler.execute import node_lock
from reconciler.manifest import load_manifests
from reconciler.manifest.monitor import MonitorBase
from reconciler.monitor.judge import CheckResult
from reconciler.monitor.policy import MonitorVerdict
from reconciler.monitor.store import MonitorStore
from reconciler.observe.host import read_host
from reconciler.observe.runner import SubprocessRunner

DECISIONS = "decisions.jsonl"
AGENT_LOCK = "agent.lock"  # one agent per node; each pass takes the apply lock besides


@dataclass(frozen=True)
class AgentConfig:
    manifests: tuple[Path, ...]
    state_dir: Path | None = None
    socket: Path | None = None
    pass_interval: float = 5.0
    wait_cap: float = 0.5  # seconds a pass looks at a wait (a resync) before going on


class Agent:
    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.runner = SubprocessRunner()
        self.manifests = load_manifests(list(config.manifests))
        cluster = self.manifests.cluster.document
        spec = cluster.spec
        self.node = os.uname().nodename
        names = [n.name for n in spec.nodes]
        if self.node not in names:
            raise SystemExit(
                f"agent: this host is {self.node!r}, not a node of cluster {cluster.metadata.name} {names}"
            )
        self.peer = next(n for n in names if n != self.node)
        self.state_dir = config.state_dir or Path(os.environ.get("RECONCILER_STATE_DIR", spec.state_dir))
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.events: queue.SimpleQueue[Event] = queue.SimpleQueue()  # put() is safe in a signal handler
        self.log = DecisionLog(self.state_dir / DECISIONS, sys.stdout)
        self.leases = LeaseStore(self.state_dir / "leases")
        self.overrides_store = OverrideStore(self.state_dir)
        self.failed_store = FailedStore(self.state_dir)
        self.state = initial(
            self.manifests,
            self.node,
            self.peer,
            config.pass_interval,
            {a.name: self.leases.load(a.name) for a in self.manifests.applications},
            self.overrides_store.load(),
            frozenset(self.failed_store.load()),
        )
        self.clock = SteadyClock()
        self._stop = threading.Event()
        self.interval = spec.arbitration.heartbeat_interval.total_seconds()
        self._wire(HeartbeatLinks(cluster, self.node, load_key(spec.arbitration.key_file)))

    def _wire(self, links: HeartbeatLinks) -> None:
        """The producers and the effects' runner, around the one queue."""
        config, spec = self.config, self.manifests.cluster.document.spec
        self.peer_link = PeerLink(
            links, self.interval, spec.arbitration.dead_time.total_seconds(), self._peer_changed, self._thread
        )
        self.monitors = Monitors(
            self.runner,
            MonitorStore(self.state_dir / "monitors"),
            self._monitor_verdict,
            lambda: self.state.manifests,
            lambda: self.state.snapshot.observed if self.state.snapshot is not None else None,
            self._running_here,
            self._thread,
        )
        self.events2 = Events2Reader(self.events.put)
        queries = Queries(self.monitors, self.log, self.peer_link.view_now, lambda: links.rejected)
        worker = Worker(
            self.runner, self.node, self.peer, self.state_dir, config.manifests[0], config.wait_cap
        )
        stores = (self.overrides_store, self.failed_store, self.leases)
        self.performer = Performer(
            worker, self.log, self.peer_link, stores, self.monitors, queries, self.events.put, self.sense
        )
        self.control = ControlServer(
            config.socket or socket_path(), lambda request: ask(self.events.put, request), self._thread
        )

    def _thread(self, name: str, target: Callable[[], object]) -> threading.Thread:
        return guarded(name, target, self.events.put)

    # --- the producers' side ---------------------------------------------------------------

    def sense(self) -> Sensed:
        now = time.monotonic()
        return Sensed(
            now=now,
            steady=self.clock.now(),
            peer=self.peer_link.view(now),
            peer_overrides=self.peer_link.overrides(),
            load=read_host().load_per_cpu,
        )

    def _running_here(self, app: str) -> bool:
        return self.state.running_here(app)  # the state of the moment: the loop replaces it

    def _peer_changed(self) -> None:
        self.events.put(Tick(self.sense()))

    def _monitor_verdict(
        self, app: str, monitor: MonitorBase, result: CheckResult, verdict: MonitorVerdict
    ) -> None:
        event = MonitorResult(app, monitor.name, verdict.kind, verdict.reason, result.rc, result.detail)
        self.events.put(event)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.events.put(Signalled(signum))

    # --- the loop ----------------------------------------------------------------------------

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        self.log.record(Logged(node=self.node, what="start", why=f"agent of {self.node}, peer {self.peer}"))
        with node_lock(self.state_dir, name=AGENT_LOCK):
            snapshot = converge.observe(self.runner, self.manifests, self.node, self.peer)
            self.state = _with_snapshot(self.state, snapshot)
            self._start()
            try:
                code = self.loop()
            finally:
                self._stop.set()
                self.events2.stop()
                self.monitors.stop()
                self.peer_link.stop()
                self.control.close()
        return code

    def _start(self) -> None:
        self.peer_link.start()
        self.control.start()
        self.monitors.start()
        threads = [
            self._thread("ticker", lambda: tick(self.sense, self.events.put, self.interval, self._stop)),
            self._thread(
                "manifests",
                lambda: watch_manifests(self.config.manifests, self.leases, self.events.put, self._stop),
            ),
            self._thread("drbd-events2", self.events2.run),
        ]
        for thread in threads:
            thread.start()

    def loop(self) -> int:
        """Step every event, run every effect; the exit status when an effect says so."""
        while True:
            pending: list[Event] = [self.events.get()]
            while pending:
                self.state, effects = step(self.state, pending.pop(0))
                for effect in effects:
                    if isinstance(effect, Exit):
                        return effect.code
                    try:
                        pending += self.performer.run(effect, self.state)
                    except Exception as err:
                        pending.append(crash_report(type(effect).__name__, err))


def _with_snapshot(state: AgentState, snapshot: converge.Snapshot) -> AgentState:
    return replace(state, snapshot=snapshot)
