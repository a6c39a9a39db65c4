"""The agent's arbitration step: views in, decisions out, leases kept, the peer told.

Every heartbeat interval (and when woken), `Arbitration.tick` builds this node's view (leases,
what the latest observation shows running, disk states, monitor failovers, overrides) and the
peer's (from its heartbeats), probes the tie-breaker when the peer is silent, runs the fencing
command when the decision asks for it, and calls the pure `arbiter.decide`. Then:
- leases: a decision's lease is written before a start (RUN, TAKE_OVER), after the stop for
  STOP and SELF_FENCE (the release waits until the observation shows the application stopped),
  at once otherwise. Renewals (same holder and epoch) stay in memory; the file is rewritten only
  when the holder or epoch changes: an older expiry on disk only makes a restarted agent stop
  earlier, never later;
- the peer hears the result in our next heartbeats (`PeerLink.publish`).

Settings derived from the Cluster manifest: a lease lasts `deadTime` (so a takeover waits no
longer than the dead time), and a holder without contact stops when less than 40 % of it is left.
"""

import socket
import time
from dataclasses import dataclass, field

from reconciler.agent.decisions import Decision as Logged
from reconciler.agent.decisions import DecisionLog
from reconciler.agent.overrides import Overrides
from reconciler.arbiter.decide import decide
from reconciler.arbiter.heartbeat import AppView
from reconciler.arbiter.lease import Lease, LeaseError, LeaseStore, SteadyClock
from reconciler.arbiter.views import (
    Decision,
    Facts,
    FencingState,
    LocalApp,
    LocalView,
    PeerView,
    Settings,
    Verdict,
)
from reconciler.core.facts import AppFacts
from reconciler.manifest import ManifestSet
from reconciler.manifest.cluster import Arbitration as ArbitrationSpec
from reconciler.manifest.cluster import PingTieBreaker
from reconciler.observe.runner import Runner

SELF_FENCE_SHARE = 0.4
TIE_BREAKER_CACHE = 1.0  # seconds a tie-breaker answer is trusted
TIE_BREAKER_TIMEOUT = 1.0
# Verdicts under which the application should run here.
RUN_HERE = frozenset({Verdict.RUN, Verdict.TAKE_OVER})


def settings_of(spec: ArbitrationSpec) -> Settings:
    dead = spec.dead_time.total_seconds()
    return Settings(
        dead_time=dead,
        lease_duration=dead,
        self_fence_margin=dead * SELF_FENCE_SHARE,
        tie_breaker_configured=spec.tie_breaker is not None,
    )


@dataclass
class Arbitration:
    node: str
    spec: ArbitrationSpec
    leases: LeaseStore
    runner: Runner
    log: DecisionLog
    clock: SteadyClock = field(default_factory=SteadyClock)
    held: dict[str, Lease] = field(default_factory=dict)  # in memory, with renewals
    on_disk: dict[str, Lease] = field(default_factory=dict)
    pending_release: dict[str, Lease] = field(default_factory=dict)
    fencing: FencingState = FencingState.NOT_CONFIGURED
    tie_breaker: tuple[float, bool] | None = None  # (monotonic time, answer)
    decisions: dict[str, Decision] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.settings = settings_of(self.spec)
        if self.spec.fencing is not None:
            self.fencing = FencingState.NOT_TRIED

    def lease(self, app: str) -> Lease:
        if app not in self.held:
            self.held[app] = self.on_disk[app] = self.leases.load(app)
        return self.held[app]

    def local_view(
        self,
        manifests: ManifestSet,
        apps: dict[str, AppFacts],
        overrides: Overrides,
        failed: set[str],
        load: float,
    ) -> LocalView:
        return LocalView(
            node=self.node,
            now=self.clock.now(),
            load=load,
            apps={
                a.name: LocalApp(
                    lease=self.lease(a.name),
                    running=apps[a.name].running,
                    disk=apps[a.name].disk,
                    failed=a.name in failed,
                    maintenance=overrides.of(a.name).maintenance,
                    override=overrides.of(a.name),
                )
                for a in manifests.applications
                if a.name in apps
            },
        )

    def tick(
        self, manifests: ManifestSet, local: LocalView, peer: PeerView, apps: dict[str, AppFacts]
    ) -> dict[str, Decision]:
        if peer.silence < self.settings.dead_time and self.fencing is not FencingState.NOT_CONFIGURED:
            self.fencing = FencingState.NOT_TRIED  # contact again: a later death needs fencing anew
        facts = Facts(tie_breaker_ok=self._tie_breaker(peer), fencing=self.fencing)
        placements = {a.name: a.document.spec.placement for a in manifests.applications}
        decisions = decide(local, peer, self.settings, facts, placements)
        if any(d.verdict is Verdict.NEED_FENCING for d in decisions.values()):
            self._fence(peer.node)
            decisions = decide(
                local, peer, self.settings, facts.model_copy(update={"fencing": self.fencing}), placements
            )
        for app, decision in decisions.items():
            self._log(decision, peer)
            self._keep_lease(app, decision, apps[app])
        self._release_stopped(apps)
        self.decisions = decisions
        return decisions

    def _log(self, decision: Decision, peer: PeerView) -> None:
        cause = {"peer_silence": round(peer.silence, 3), "echo_age": peer.echo_age}
        self.log.changed(
            Logged(
                node=self.node,
                app=decision.app,
                what=decision.verdict.value,
                why=decision.reason,
                cause=cause,
            )
        )

    def _keep_lease(self, app: str, decision: Decision, facts: AppFacts) -> None:
        lease = decision.lease
        if lease is None:
            return
        if decision.verdict in (Verdict.STOP, Verdict.SELF_FENCE) and facts.running:
            self.pending_release[app] = lease  # written once stopped
            return
        self._write(lease)

    def _release_stopped(self, apps: dict[str, AppFacts]) -> None:
        for app, lease in list(self.pending_release.items()):
            if not apps[app].running:
                del self.pending_release[app]
                self._write(lease)

    def _write(self, lease: Lease) -> None:
        app = lease.app
        self.held[app] = lease
        disk = self.on_disk.get(app)
        if disk is not None and (disk.holder, disk.epoch, disk.open_ended) == (
            lease.holder,
            lease.epoch,
            lease.open_ended,
        ):
            return  # a renewal: memory only
        try:
            self.leases.save(lease)
        except LeaseError as err:
            self.log.record(Logged(node=self.node, app=app, what="lease-refused", why=str(err)))
            self.held[app] = self.on_disk[app] = self.leases.load(app)
            return
        self.on_disk[app] = lease
        self.log.record(
            Logged(node=self.node, app=app, what="lease", why=f"holder {lease.holder}, epoch {lease.epoch}")
        )

    def _tie_breaker(self, peer: PeerView) -> bool | None:
        breaker = self.spec.tie_breaker
        if breaker is None:
            return None
        now = time.monotonic()
        if peer.silence < self.settings.dead_time / 2 and self.tie_breaker is not None:
            return self.tie_breaker[1]  # the peer is heard: an old answer does no harm
        if self.tie_breaker is not None and now - self.tie_breaker[0] < TIE_BREAKER_CACHE:
            return self.tie_breaker[1]
        if isinstance(breaker, PingTieBreaker):
            answer = self.runner.run(
                ["ping", "-c", "1", "-W", "1", str(breaker.address)], TIE_BREAKER_TIMEOUT + 1
            ).ok
        else:
            answer = _tcp(str(breaker.address), breaker.port)
        self.tie_breaker = (now, answer)
        return answer

    def _fence(self, peer: str) -> None:
        fencing = self.spec.fencing
        if fencing is None or self.fencing is not FencingState.NOT_TRIED:
            return
        argv = [*fencing.command, peer]
        result = self.runner.run(argv, fencing.timeout.total_seconds())
        self.fencing = FencingState.SUCCEEDED if result.ok else FencingState.FAILED
        why = f"'{' '.join(argv)}' {result.describe() if not result.ok else 'exited 0'}"
        self.log.record(Logged(node=self.node, what=f"fencing-{self.fencing.value}", why=why))

    def views(self, apps: dict[str, AppFacts], overrides: Overrides, failed: set[str]) -> dict[str, AppView]:
        """This node's applications as our heartbeats tell the peer."""
        now = self.clock.now()
        out = {}
        for app, facts in apps.items():
            lease = self.lease(app)
            expiring = lease.holder is not None and lease.expires_at is not None
            decision = self.decisions.get(app)
            out[app] = AppView(
                running=facts.running,
                lease_epoch=lease.epoch,
                lease_holder=lease.holder,
                lease_expires_in=max(0.0, lease.expires_at - now) if expiring and lease.expires_at else None,
                disk=facts.disk,
                state=decision.verdict.value if decision is not None else "unknown",
                failed=app in failed,
                override=overrides.of(app),
            )
        return out


def _tcp(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=TIE_BREAKER_TIMEOUT):
            return True
    except OSError:
        return False


def runs_here(decision: Decision | None) -> bool:
    return decision is not None and decision.verdict in RUN_HERE
