"""Running the effects that `step` asks for: the quick ones here, in the loop's thread, the slow
ones in workers that answer with an event on the queue.

A worker that raises puts `Crashed` on the queue: the agent ends with a non-zero exit, never
with a silently dead thread. A `HardStop` gets a worker of its own at once, whatever else runs.
"""

import sys
import threading
import time
import traceback
from collections.abc import Callable

from reconciler.agent.decisions import DecisionLog
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
from reconciler.agent.events import Crashed, Event, LeaseRefused, LeaseWritten, Sensed, Tick
from reconciler.agent.monitoring import Monitors
from reconciler.agent.operator import Queries
from reconciler.agent.overrides import FailedStore, OverrideStore
from reconciler.agent.peer import PeerLink
from reconciler.agent.state import AgentState
from reconciler.agent.work import Worker
from reconciler.arbiter.lease import LeaseError, LeaseStore

Put = Callable[[Event], None]


def crash_report(where: str, err: BaseException) -> Crashed:
    """The event of a thread or effect that raised; the traceback goes to stderr."""
    traceback.print_exception(err, file=sys.stderr)
    return Crashed(where, repr(err))


def guarded(name: str, target: Callable[[], object], put: Put) -> threading.Thread:
    """A daemon thread running `target`; if it raises, the loop hears of it and ends the agent."""

    def run() -> None:
        try:
            target()
        except BaseException as err:
            put(crash_report(name, err))

    return threading.Thread(target=run, name=name, daemon=True)


class Performer:
    def __init__(
        self,
        worker: Worker,
        log: DecisionLog,
        peer_link: PeerLink,
        stores: tuple[OverrideStore, FailedStore, LeaseStore],
        monitors: Monitors,
        queries: Queries,
        put: Put,
        sense: Callable[[], Sensed],
    ) -> None:
        self.worker = worker
        self.log = log
        self.peer_link = peer_link
        self.overrides_store, self.failed_store, self.leases = stores
        self.monitors = monitors
        self.queries = queries
        self.put = put
        self.sense = sense

    def run(self, effect: Effect, state: AgentState) -> list[Event]:
        """Run one effect; the events it produced at once (a worker's come on the queue)."""
        match effect:
            case Log(decision=decision, changed=changed, topic=topic):
                if changed:
                    self.log.changed(decision, topic)
                else:
                    self.log.record(decision)
            case Publish(apps=apps):
                self.peer_link.publish(dict(apps))
            case Reply(to=to, response=response):
                to.put(response)
            case Answer(to=to, request=request):
                to.put(self.queries.answer(state, request))
            case Exit():
                pass
            case SaveOverrides() | SaveFailed() | ResetMonitors() | WriteLease():
                return self._store(effect)
            case _:
                self._background(effect)
        return []

    def _store(self, effect: SaveOverrides | SaveFailed | ResetMonitors | WriteLease) -> list[Event]:
        match effect:
            case SaveOverrides(overrides=overrides):
                self.overrides_store.save(overrides)
            case SaveFailed(failed=failed):
                self.failed_store.save(set(failed))
            case ResetMonitors(app=app):
                self.monitors.reset(app)
            case WriteLease():
                return [self._write(effect)]
        return []

    def _wake(self, after: float) -> Event:
        time.sleep(after)
        return Tick(self.sense())

    def _write(self, effect: WriteLease) -> Event:
        lease = effect.lease
        try:
            self.leases.save(lease)
        except LeaseError as err:
            return LeaseRefused(lease.app, str(err), self.leases.load(lease.app))
        return LeaseWritten(lease)

    def _background(self, effect: Effect) -> None:
        work: Callable[[], Event]
        match effect:
            case RunPass():
                name, work = "pass", lambda: self.worker.run_pass(effect)
            case HardStop(app=app):
                name, work = f"hard-stop {app}", lambda: self.worker.hard_stop(effect)
            case ProbeTieBreaker():
                name, work = "tie-breaker", lambda: self.worker.probe(effect)
            case Fence():
                name, work = "fencing", lambda: self.worker.fence(effect)
            case Wake(after=after):
                name, work = "wake", lambda: self._wake(after)
            case _:
                raise TypeError(f"no way to run {effect!r}")
        guarded(name, lambda: self.put(work()), self.put).start()
