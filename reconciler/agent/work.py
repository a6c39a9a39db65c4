"""The slow effects, each run in a worker: a pass, a hard stop, a tie-breaker probe, fencing.

Each returns the event that tells the loop what it found. None of them takes a lock that
another needs, except the pass, which takes the node's apply lock (an operator's `apply` holds
it: a pass that finds it busy is deferred, not failed). A hard stop never takes it: it must not
wait behind the plan it preempts (a graceful shutdown may take minutes); it acts only on its
own application (`core.fence`: planned without observation), through the executor and the
journal like any plan.
"""

import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from reconciler.agent import converge
from reconciler.agent.effects import Fence, HardStop, ProbeTieBreaker, RunPass
from reconciler.agent.events import FencingDone, HardStopDone, PassDone, TieBreakerAnswered
from reconciler.core.fence import fence_plan
from reconciler.core.placement import Placement
from reconciler.core.plan.model import Revision
from reconciler.core.reconcile import PassContext, PassOptions, reconcile
from reconciler.execute import Busy, Journal, LocalHost, PlanRefused, execute, node_lock
from reconciler.manifest import ManifestSet
from reconciler.manifest.cluster import PingTieBreaker, TcpTieBreaker
from reconciler.observe.runner import Runner
from reconciler.revision import content_hash, manifest_revision

JOURNAL = "journal.jsonl"
TIE_BREAKER_TIMEOUT = 1.0


@dataclass(frozen=True)
class ArbiterPlacement:
    """The placement the arbiter decided: what it leaves out is held, left alone by the pass."""

    active: Mapping[str, str]
    source: str = "arbiter"

    def placement(self, manifests: ManifestSet) -> Placement:
        return Placement(active=dict(self.active), source=self.source)


@dataclass(frozen=True)
class Worker:
    runner: Runner
    node: str
    peer: str
    state_dir: Path
    manifest_root: Path
    wait_cap: float

    def observe(self, manifests: ManifestSet) -> converge.Snapshot:
        return converge.observe(self.runner, manifests, self.node, self.peer)

    def run_pass(self, effect: RunPass) -> PassDone:
        try:
            # The lock an operator's `apply` holds: while it runs, the agent's passes wait.
            with node_lock(self.state_dir):
                return self._pass(effect.manifests, effect.placement)
        except Busy as err:
            return PassDone("deferred", str(err), None, time.monotonic())

    def _pass(self, manifests: ManifestSet, placement: Mapping[str, str]) -> PassDone:
        snapshot = self.observe(manifests)
        if not placement:
            return PassDone("observed", "", snapshot, time.monotonic())
        try:
            result = reconcile(self._context(manifests, ArbiterPlacement(placement), snapshot))
        except PlanRefused as err:
            return PassDone("pass-refused", str(err), self.observe(manifests), time.monotonic())
        report = result.report
        if report is None:
            return PassDone("observed", "", snapshot, time.monotonic())
        done = "; ".join(f"{a.id}: {a.status.value}" for a in report.actions)
        outcome = "converged" if report.ok else "pass-incomplete"
        return PassDone(outcome, done, self.observe(manifests), time.monotonic())

    def _context(
        self,
        manifests: ManifestSet,
        placement: ArbiterPlacement,
        snapshot: converge.Snapshot | None,
        revision: Revision | None = None,
    ) -> PassContext:
        return PassContext(
            manifests=manifests,
            revision=revision or self.revision(manifests),
            node=self.node,
            host=LocalHost(self.runner),
            placement=placement,
            journal=Journal(self.state_dir / JOURNAL),
            options=PassOptions(wait_cap=self.wait_cap),
            observed=snapshot.observed if snapshot is not None else None,
            probed=snapshot.probed if snapshot is not None else None,
        )

    def revision(self, manifests: ManifestSet) -> Revision:
        return manifest_revision(self.runner, manifests.files, self.manifest_root)

    def hard_stop(self, effect: HardStop) -> HardStopDone:
        """The self-fence of one application (`core.fence`): destroy, remove its addresses,
        unmount, demote, planned without observation and run through the executor and the
        journal at once, without the node's lock (it must not wait behind the plan it preempts)."""
        app, manifests = effect.app, effect.manifests
        revision = Revision(content_hash=content_hash(manifests.files))  # no git: not a moment lost
        plan = fence_plan(manifests, self.node, app, revision, datetime.now(UTC))
        report = execute(plan, LocalHost(self.runner), Journal(self.state_dir / JOURNAL))
        done = "; ".join(f"{a.id}: {a.status.value}" for a in report.actions)
        return HardStopDone(app, report.ok, done, self.observe(manifests))

    def probe(self, effect: ProbeTieBreaker) -> TieBreakerAnswered:
        breaker = effect.breaker
        if isinstance(breaker, PingTieBreaker):
            argv = ["ping", "-c", "1", "-W", "1", str(breaker.address)]
            answer = self.runner.run(argv, TIE_BREAKER_TIMEOUT + 1).ok
        else:
            answer = _tcp(breaker)
        return TieBreakerAnswered(effect.at, answer)

    def fence(self, effect: Fence) -> FencingDone:
        result = self.runner.run(list(effect.argv), effect.timeout)
        why = f"'{' '.join(effect.argv)}' {result.describe() if not result.ok else 'exited 0'}"
        return FencingDone(result.ok, why, effect.round)


def _tcp(breaker: TcpTieBreaker) -> bool:
    try:
        with socket.create_connection((str(breaker.address), breaker.port), timeout=TIE_BREAKER_TIMEOUT):
            return True
    except OSError:
        return False
