"""What the agent answers on its control socket: status, explain, and the operator's commands.

`move`, `stop`, `start` and `maintenance` become overrides (desired state beside the manifests,
`overrides`), saved here and carried to the peer in the heartbeats, so that both agents converge
to them instead of fighting them. `start` also forgets a monitor's failover and the counts that
led to it: the operator has looked at it. The commands are part of the pure step (`operate`):
new state, a reply and the effects that save it. The queries (`status`, `placement`, `explain`)
read files and clocks, so they are answered by the loop from the state (`Queries`).
"""

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from reconciler.agent.control import Request, Response
from reconciler.agent.decisions import DecisionLog
from reconciler.agent.decisions import DecisionRecord as Logged
from reconciler.agent.effects import Answer, Effect, Log, Reply, ResetMonitors, SaveFailed, SaveOverrides
from reconciler.agent.events import OperatorRequest
from reconciler.agent.monitoring import Monitors
from reconciler.agent.overrides import command
from reconciler.agent.state import AgentState, wanted_placement
from reconciler.arbiter.views import PeerView
from reconciler.observe.host import read_host

Stepped = tuple[AgentState, list[Effect]]
QUERIES = frozenset({"status", "placement", "explain"})


def operate(state: AgentState, event: OperatorRequest) -> Stepped:
    request = event.request
    apps = [a.name for a in state.manifests.applications]
    if request.app is not None and request.app not in apps:
        error = f"no application {request.app!r} (known: {', '.join(apps) or 'none'})"
        return state, [Reply(event.reply, Response(ok=False, error=error))]
    if request.command in QUERIES:
        return state, [Answer(event.reply, request)]
    handlers: dict[str, Callable[[AgentState, Request], tuple[AgentState, list[Effect], Response]]] = {
        "move": _move,
        "stop": _stop,
        "start": _start,
        "maintenance": _maintenance,
    }
    state, effects, response = handlers[request.command](state, request)
    return state, [*effects, Reply(event.reply, response)]


def set_override(state: AgentState, app: str, **change: object) -> Stepped:
    overrides = command(state.overrides, app, **change)
    what = ", ".join(f"{k}={v}" for k, v in change.items())
    logged = Logged(node=state.node, app=app, what="override", why=what)
    return replace(state, overrides=overrides, pass_wanted=True), [SaveOverrides(overrides), Log(logged)]


def _refused(state: AgentState, error: str) -> tuple[AgentState, list[Effect], Response]:
    return state, [], Response(ok=False, error=error)


def _move(state: AgentState, request: Request) -> tuple[AgentState, list[Effect], Response]:
    nodes = [state.node, state.peer]
    if request.app is None or request.node not in nodes:
        return _refused(state, f"move needs APP and --to NODE, one of {', '.join(nodes)}")
    state, effects = set_override(state, request.app, desired_node=request.node, stopped=False)
    return state, effects, Response(ok=True, data={"message": f"{request.app} is to run on {request.node}"})


def _stop(state: AgentState, request: Request) -> tuple[AgentState, list[Effect], Response]:
    if request.app is None:
        return _refused(state, "stop needs APP")
    state, effects = set_override(state, request.app, stopped=True)
    return (
        state,
        effects,
        Response(ok=True, data={"message": f"{request.app} is to be stopped on both nodes"}),
    )


def _start(state: AgentState, request: Request) -> tuple[AgentState, list[Effect], Response]:
    app = request.app
    if app is None:
        return _refused(state, "start needs APP")
    failed = state.failed - {app}
    state = replace(state, failed=failed)
    state, effects = set_override(state, app, stopped=False, desired_node=None)
    message = f"{app} is to run where the manifests place it"
    return (
        state,
        [SaveFailed(failed), ResetMonitors(app), *effects],
        Response(ok=True, data={"message": message}),
    )


def _maintenance(state: AgentState, request: Request) -> tuple[AgentState, list[Effect], Response]:
    if request.on is None:
        return _refused(state, "maintenance needs on or off")
    targets = [request.app] if request.app else [a.name for a in state.manifests.applications]
    effects: list[Effect] = []
    for app in targets:
        state, more = set_override(state, app, maintenance=request.on)
        effects += more
    message = f"maintenance {'on' if request.on else 'off'} for {', '.join(targets)}"
    return state, effects, Response(ok=True, data={"message": message})


class Queries:
    """The answers that read more than the state: monitor counts, the load, recent decisions."""

    def __init__(
        self,
        monitors: Monitors,
        log: DecisionLog,
        peer_view: Callable[[], PeerView],
        rejected: Callable[[], Any],
    ) -> None:
        self.monitors = monitors
        self.log = log
        self.peer_view = peer_view
        self.rejected = rejected
        self.since: dict[str, tuple[str, datetime]] = {}  # app -> (state, since when)

    def answer(self, state: AgentState, request: Request) -> Response:
        if request.command == "placement":
            why = {app: d.reason for app, d in state.decisions.items()}
            return Response(ok=True, data={"node": state.node, "active": wanted_placement(state), "why": why})
        if request.command == "explain":
            return self._explain(state, request)
        return Response(ok=True, data=self.status(state))

    def status(self, state: AgentState) -> dict[str, Any]:
        peer = self.peer_view()
        apps = {
            loaded.name: self._app_status(state, loaded.name, loaded.document.spec.monitors, peer)
            for loaded in state.manifests.applications
        }
        links = {n: (None if age is None else round(age, 3)) for n, age in peer.link_ages.items()}
        dead = state.settings.dead_time
        return {
            "cluster": state.manifests.cluster.document.metadata.name,
            "node": state.node,
            "nodes": {
                state.node: {"up": True, "load": round(read_host().load_per_cpu, 3)},
                state.peer: {
                    "up": peer.silence < dead,
                    "silent_for": None if peer.silence == float("inf") else round(peer.silence, 3),
                    "links": links,
                    "load": peer.load,
                },
            },
            "heartbeats_rejected": {str(k): v for k, v in self.rejected().items()},
            "applications": apps,
        }

    def _app_status(self, state: AgentState, app: str, monitors: Any, peer: PeerView) -> dict[str, Any]:
        here = state.running_here(app)
        there = app in peer.apps and peer.apps[app].running and peer.silence < state.settings.dead_time
        node = state.node if here else (state.peer if there else None)
        decision = state.decisions.get(app)
        override = state.overrides.of(app)
        shown = "MAINTENANCE" if override.maintenance else ("STARTED" if node else "STOPPED")
        if app in state.failed and not here:
            shown = "FAILED OVER" if there else "FAILED"
        previous = self.since.get(app)
        if previous is None or previous[0] != f"{shown}@{node}":
            self.since[app] = (f"{shown}@{node}", datetime.now(UTC))
        counts = self.monitors.counts(app, list(monitors))
        lease = state.lease(app)
        peer_app = peer.apps.get(app)
        allowed = peer_app is not None and peer_app.disk == "UpToDate" and not peer_app.failed
        return {
            "node": node,
            "state": shown,
            "since": self.since[app][1].isoformat(timespec="seconds"),
            "verdict": decision.verdict.value if decision else None,
            "reason": decision.reason if decision else None,
            "lease": {"holder": lease.holder, "epoch": lease.epoch},
            "monitors": {"failing": list(counts.failing), "paused": list(counts.paused)},
            "failures": counts.failures,
            "restarts": counts.restarts,
            "failover_allowed": allowed,
            "override": override.model_dump() if override.serial else None,
        }

    def _explain(self, state: AgentState, request: Request) -> Response:
        if request.app is None:
            return Response(ok=False, error="explain needs APP")
        status = self.status(state)["applications"][request.app]
        recent = [d.model_dump(mode="json") for d in self.log.recent(request.app)]
        return Response(ok=True, data={"app": request.app, "status": status, "recent": recent})
