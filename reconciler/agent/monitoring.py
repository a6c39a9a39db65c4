"""The agent's monitors: each monitor of each application running here, at its interval.

A thread runs the checks that are due (`monitor.checks`, against the latest observation) and
passes each result through the application's policy (`monitor.policy.step`: rc -> NOP, PAUSE n,
STOP, FAILOVER, RESTART with the restart limit and failure expiry), persisting every monitor's
state (`monitor.store`), so that a restarted agent keeps its counts. A verdict other than NONE is
handed to the agent (`act`), which turns it into desired state; the monitor itself never stops or
starts anything.
"""

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from reconciler.manifest import ManifestSet
from reconciler.manifest.monitor import MonitorBase
from reconciler.monitor.checks import CheckContext, run_check
from reconciler.monitor.judge import CheckResult
from reconciler.monitor.policy import FailureCount, MonitorVerdict, VerdictKind, failure_count, step
from reconciler.monitor.probe import WriteProber
from reconciler.monitor.store import AppMonitorStates, MonitorStore
from reconciler.observe.runner import Runner
from reconciler.observe.state import Observed

TICK = 0.5
Act = Callable[[str, MonitorBase, CheckResult, MonitorVerdict], None]


class Monitors:
    def __init__(
        self,
        runner: Runner,
        store: MonitorStore,
        act: Act,
        manifests: Callable[[], ManifestSet],
        observed: Callable[[], Observed | None],
        running_here: Callable[[str], bool],
        thread: Callable[[str, Callable[[], None]], threading.Thread] | None = None,
    ) -> None:
        self._runner = runner
        self._store = store
        self._act = act
        self._manifests = manifests
        self._observed = observed
        self._running_here = running_here
        self._prober = WriteProber()
        self._due: dict[tuple[str, str], float] = {}
        self._stop = threading.Event()
        make = thread or (lambda name, target: threading.Thread(target=target, name=name, daemon=True))
        self._thread = make("monitors", self._run)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(TICK):
            self.run_due(time.monotonic())

    def run_due(self, now: float) -> None:
        observed = self._observed()
        if observed is None:
            return
        for app in self._manifests().applications:
            if not self._running_here(app.name):
                # Not armed where it does not run: a check of a stopped application fails by design.
                self._due = {k: v for k, v in self._due.items() if k[0] != app.name}
                continue
            for monitor in app.document.spec.monitors:
                key = (app.name, monitor.name)
                # First check one interval after the start: the application is given time to settle.
                due = self._due.setdefault(key, now + monitor.interval.total_seconds())
                if now >= due:
                    self._due[key] = now + monitor.interval.total_seconds()
                    context = CheckContext.from_observed(
                        self._runner, app.name, app.document.spec, observed, self._prober
                    )
                    self._judge(app.name, monitor, run_check(monitor, context))

    def _judge(self, app: str, monitor: MonitorBase, result: CheckResult) -> None:
        states = self._store.load(app)
        state, verdict = step(states.get(monitor.name), monitor, result, datetime.now(UTC))
        self._store.save(states.with_state(monitor.name, state))
        if verdict.kind is not VerdictKind.NONE:
            self._act(app, monitor, result, verdict)

    def counts(self, app: str, monitors: list[MonitorBase]) -> FailureCount:
        states: AppMonitorStates = self._store.load(app)
        return failure_count(app, monitors, states.monitors, datetime.now(UTC))

    def reset(self, app: str) -> None:
        """Forget an application's monitor history (the operator started it again)."""
        self._store.save(AppMonitorStates(app=app))
        self._due = {k: v for k, v in self._due.items() if k[0] != app}
