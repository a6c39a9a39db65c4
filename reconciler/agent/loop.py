"""`reconciler agent`: keep this node converged, agree with the peer on who runs what, fail over.

Threads, each with one job, sharing the agent's state under one lock:
- heartbeat (`PeerLink`): our heartbeats out, the peer's in; wakes the arbiter on a change;
- arbiter (`tick`, every heartbeat interval or when woken): decides per application from the
  latest observation, keeps the leases, tells the peer; wakes the converger when the placement
  of an application changes or a decision asks for action;
- converger (the main thread): observe, plan for the placement, execute; at least every
  `pass_interval`, at once when woken;
- monitors: checks at their intervals, verdicts turned into desired state (`_monitor_verdict`);
- manifests: watchfiles on the manifest paths; a valid edit replaces the manifests in force,
  an invalid one is logged and ignored;
- control: the root-only Unix socket for `status`, `move`, `stop`, `start`, `maintenance`, `explain`.
Every decision is one JSON line (`decisions`).
"""

import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import watchfiles

from reconciler.agent import converge
from reconciler.agent.arbitration import Arbitration, runs_here
from reconciler.agent.control import ControlServer, Request, Response, socket_path
from reconciler.agent.decisions import Decision as Logged
from reconciler.agent.decisions import DecisionLog
from reconciler.agent.monitoring import Monitors
from reconciler.agent.operator import OperatorCommands
from reconciler.agent.overrides import FailedStore, Overrides, OverrideStore
from reconciler.agent.peer import PeerLink
from reconciler.arbiter.keyfile import load_key
from reconciler.arbiter.lease import LeaseStore
from reconciler.arbiter.links import HeartbeatLinks
from reconciler.arbiter.views import Verdict
from reconciler.core.placement import StaticPlacement
from reconciler.core.reconcile import PassContext, PassOptions, reconcile
from reconciler.execute import Busy, Journal, LocalHost, node_lock
from reconciler.manifest import ManifestError, ManifestSet, load_manifests
from reconciler.manifest.monitor import MonitorBase
from reconciler.monitor.judge import CheckResult
from reconciler.monitor.policy import Verdict as MonitorVerdict
from reconciler.monitor.policy import VerdictKind
from reconciler.monitor.store import MonitorStore
from reconciler.observe.host import read_host
from reconciler.observe.runner import SubprocessRunner
from reconciler.revision import manifest_revision

JOURNAL = "journal.jsonl"
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
        self.lock = threading.RLock()
        self.log = DecisionLog(self.state_dir / DECISIONS, sys.stdout)
        self.arbitration = Arbitration(
            self.node, spec.arbitration, LeaseStore(self.state_dir / "leases"), self.runner, self.log
        )
        self.overrides_store = OverrideStore(self.state_dir)
        self.overrides = self.overrides_store.load()
        self.failed_store = FailedStore(self.state_dir)
        self.failed = self.failed_store.load()  # applications a monitor failed over away from here
        self.restarting: set[str] = set()
        self.snapshot: converge.Snapshot | None = None
        self.placement: dict[str, str] = {}
        self._arbiter_wake = threading.Event()
        self._converge_wake = threading.Event()
        self._stopping = threading.Event()
        key = load_key(spec.arbitration.key_file)
        links = HeartbeatLinks(cluster, self.node, key)
        interval = spec.arbitration.heartbeat_interval.total_seconds()
        self.peer_link = PeerLink(
            links, interval, spec.arbitration.dead_time.total_seconds(), self._arbiter_wake.set
        )
        self.monitors = Monitors(
            self.runner,
            MonitorStore(self.state_dir / "monitors"),
            self._monitor_verdict,
            lambda: self.manifests,
            lambda: self.snapshot.observed if self.snapshot is not None else None,
            self._running_here,
        )
        self.operator = OperatorCommands(self)
        self.control = ControlServer(config.socket or socket_path(), self.handle)

    # --- the threads -------------------------------------------------------------------------

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        self.log.record(Logged(node=self.node, what="start", why=f"agent of {self.node}, peer {self.peer}"))
        with node_lock(self.state_dir, name=AGENT_LOCK):
            self._observe()
            self.peer_link.start()
            self.control.start()
            self.monitors.start()
            threads = [
                threading.Thread(target=self._arbiter, name="arbiter", daemon=True),
                threading.Thread(target=self._watch, name="manifests", daemon=True),
            ]
            for thread in threads:
                thread.start()
            try:
                self._converger()
            finally:
                self._stopping.set()
                self.monitors.stop()
                self.peer_link.stop()
                self.control.close()
        self.log.record(Logged(node=self.node, what="stop", why="signalled"))
        return 0

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stopping.set()
        self._converge_wake.set()

    def _arbiter(self) -> None:
        interval = self.manifests.cluster.document.spec.arbitration.heartbeat_interval.total_seconds()
        while not self._stopping.is_set():
            self._arbiter_wake.wait(interval)
            self._arbiter_wake.clear()
            try:
                self.tick()
            except Exception as err:
                self.log.record(Logged(node=self.node, what="tick-failed", why=repr(err)))

    def tick(self) -> None:
        with self.lock:
            snapshot = self.snapshot
            if snapshot is None:
                return
            self.overrides = self._merged_overrides()
            load = read_host().load_per_cpu
            local = self.arbitration.local_view(
                self.manifests, snapshot.apps, self.overrides, self.failed, load
            )
            peer = self.peer_link.view(time.monotonic())
            if peer.echo_age is None and peer.listening_for < self.arbitration.settings.dead_time:
                # Just started: no contact yet is not a lost contact. Deciding now would stop
                # what runs here for want of a lease that the first echo would grant.
                return
            decisions = self.arbitration.tick(self.manifests, local, peer, snapshot.apps)
            self.peer_link.publish(self.arbitration.views(snapshot.apps, self.overrides, self.failed))
            wanted = self._placement()
            needs_pass = wanted != self.placement or any(
                d.verdict in (Verdict.STOP, Verdict.SELF_FENCE) and snapshot.apps[a].running
                for a, d in decisions.items()
            )
        if needs_pass:
            self._converge_wake.set()

    def _merged_overrides(self) -> Overrides:
        merged = self.overrides.merged(self.peer_link.overrides())
        if merged != self.overrides:
            self.overrides_store.save(merged)
            self.log.record(Logged(node=self.node, what="overrides", why="newer overrides from the peer"))
        return merged

    def placement_now(self) -> dict[str, str]:
        return self._placement()

    def _placement(self) -> dict[str, str]:
        """Application -> the node it should run on, as this node acts on it (HOLD: left out)."""
        wanted = {}
        for app, decision in self.arbitration.decisions.items():
            if decision.verdict is Verdict.HOLD:
                continue
            here = runs_here(decision) and app not in self.restarting
            wanted[app] = self.node if here else self.peer
        return wanted

    def _converger(self) -> None:
        while not self._stopping.is_set():
            self._converge_wake.wait(self.config.pass_interval)
            self._converge_wake.clear()
            if self._stopping.is_set():
                return
            try:
                self.converge_once()
            except Exception as err:
                self.log.record(Logged(node=self.node, what="pass-failed", why=repr(err)))

    def converge_once(self) -> None:
        with self.lock:
            self.placement = self._placement()
            placement, manifests = dict(self.placement), self.manifests
            fence = [a for a, d in self.arbitration.decisions.items() if d.verdict is Verdict.SELF_FENCE]
        self._hard_stop(manifests, fence)
        try:
            # The lock an operator's `apply` holds: while it runs, the agent's passes wait.
            with node_lock(self.state_dir):
                self._pass(manifests, placement)
        except Busy as err:
            self.log.changed(Logged(node=self.node, what="pass-deferred", why=str(err)))

    def _pass(self, manifests: ManifestSet, placement: dict[str, str]) -> None:
        snapshot = self._observe()
        self._restarted(snapshot)
        if not placement:
            return
        revision = manifest_revision(self.runner, manifests.files, self.config.manifests[0])
        ctx = PassContext(
            manifests=manifests,
            revision=revision,
            node=self.node,
            host=LocalHost(self.runner),
            placement=StaticPlacement(placement, source="arbiter"),
            journal=Journal(self.state_dir / JOURNAL),
            options=PassOptions(wait_cap=self.config.wait_cap),
            observed=snapshot.observed,
            probed=snapshot.probed,
        )
        result = reconcile(ctx)
        report = result.report
        if report is not None:
            done = [f"{a.id}: {a.status.value}" for a in report.actions]
            what = "converged" if report.ok else "pass-incomplete"
            self.log.record(Logged(node=self.node, what=what, why="; ".join(done)))
            self._observe()
            self._arbiter_wake.set()

    def _observe(self) -> converge.Snapshot:
        snapshot = converge.observe(self.runner, self.manifests, self.node, self.peer)
        with self.lock:
            self.snapshot = snapshot
        self._arbiter_wake.set()
        return snapshot

    def _hard_stop(self, manifests: ManifestSet, apps: list[str]) -> None:
        """Self-fencing: destroy the domain now; the pass then stops the rest."""
        for app in apps:
            domain = manifests.application(app).document.spec.domain
            if domain.toolstack.value in ("xm", "xl") and self._running_here(app):
                self.runner.run([domain.toolstack.value, "destroy", domain.name], 10.0)

    def _restarted(self, snapshot: converge.Snapshot) -> None:
        with self.lock:
            done = {a for a in self.restarting if a in snapshot.apps and not snapshot.apps[a].running}
            self.restarting -= done
        for app in done:
            self.log.record(Logged(node=self.node, app=app, what="restart", why="stopped: starting it again"))
            self._converge_wake.set()

    def _running_here(self, app: str) -> bool:
        snapshot = self.snapshot
        return snapshot is not None and app in snapshot.apps and snapshot.apps[app].running

    def _watch(self) -> None:
        for _changes in watchfiles.watch(*self.config.manifests, stop_event=self._stopping, debounce=200):
            try:
                loaded = load_manifests(list(self.config.manifests))
            except ManifestError as err:
                first = err.render_text().splitlines()[0] if err.diagnostics else "invalid"
                self.log.record(
                    Logged(
                        node=self.node,
                        what="manifests-ignored",
                        why=f"invalid edit ignored, the last good manifests stay in force: {first}",
                        cause={"errors": len(err.diagnostics)},
                    )
                )
                continue
            with self.lock:
                self.manifests = loaded
            self.log.record(
                Logged(
                    node=self.node,
                    what="manifests-reloaded",
                    why=f"{len(loaded.applications)} application(s)",
                )
            )
            self._arbiter_wake.set()
            self._converge_wake.set()

    # --- monitors and operators -----------------------------------------------------------

    def _monitor_verdict(
        self, app: str, monitor: MonitorBase, result: CheckResult, verdict: MonitorVerdict
    ) -> None:
        cause = {"monitor": monitor.name, "rc": result.rc, "detail": result.detail}
        self.log.record(
            Logged(
                node=self.node, app=app, what=f"monitor-{verdict.kind.value}", why=verdict.reason, cause=cause
            )
        )
        with self.lock:
            if verdict.kind is VerdictKind.RESTART:
                self.restarting.add(app)
            elif verdict.kind is VerdictKind.FAILOVER:
                self.failed.add(app)
                self.failed_store.save(self.failed)
            elif verdict.kind is VerdictKind.STOP:
                self.operator.set_override(app, stopped=True)
        self._arbiter_wake.set()
        self._converge_wake.set()

    def handle(self, request: Request) -> Response:
        return self.operator.handle(request)

    def wake(self) -> None:
        self._arbiter_wake.set()
        self._converge_wake.set()
