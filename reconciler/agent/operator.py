"""What the agent answers on its control socket: status, explain, and the operator's commands.

`move`, `stop`, `start` and `maintenance` become overrides (desired state beside the manifests,
`overrides`), saved here and carried to the peer in the heartbeats, so that both agents converge
to them instead of fighting them. `start` also forgets a monitor's failover and the counts that
led to it: the operator has looked at it.
"""

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from reconciler.agent.control import Request, Response
from reconciler.agent.decisions import Decision as Logged
from reconciler.agent.overrides import command
from reconciler.observe.host import read_host

if TYPE_CHECKING:
    from reconciler.agent.loop import Agent


class OperatorCommands:
    def __init__(self, agent: "Agent") -> None:
        self.agent = agent
        self.since: dict[str, tuple[str, datetime]] = {}  # app -> (state, since when)

    def handle(self, request: Request) -> Response:
        apps = [a.name for a in self.agent.manifests.applications]
        if request.app is not None and request.app not in apps:
            return Response(
                ok=False, error=f"no application {request.app!r} (known: {', '.join(apps) or 'none'})"
            )
        handlers = {
            "status": self._status,
            "placement": self._placement,
            "explain": self._explain,
            "move": self._move,
            "stop": self._stop,
            "start": self._start,
            "maintenance": self._maintenance,
        }
        return handlers[request.command](request)

    def set_override(self, app: str, **change: object) -> None:
        agent = self.agent
        with agent.lock:
            agent.overrides = command(agent.overrides, app, **change)
            agent.overrides_store.save(agent.overrides)
        what = ", ".join(f"{k}={v}" for k, v in change.items())
        agent.log.record(Logged(node=agent.node, app=app, what="override", why=what))
        agent.wake()

    def _move(self, request: Request) -> Response:
        nodes = [self.agent.node, self.agent.peer]
        if request.app is None or request.node not in nodes:
            return Response(ok=False, error=f"move needs APP and --to NODE, one of {', '.join(nodes)}")
        self.set_override(request.app, desired_node=request.node, stopped=False)
        return Response(ok=True, data={"message": f"{request.app} is to run on {request.node}"})

    def _stop(self, request: Request) -> Response:
        if request.app is None:
            return Response(ok=False, error="stop needs APP")
        self.set_override(request.app, stopped=True)
        return Response(ok=True, data={"message": f"{request.app} is to be stopped on both nodes"})

    def _start(self, request: Request) -> Response:
        if request.app is None:
            return Response(ok=False, error="start needs APP")
        with self.agent.lock:
            self.agent.failed.discard(request.app)
            self.agent.failed_store.save(self.agent.failed)
        self.agent.monitors.reset(request.app)
        self.set_override(request.app, stopped=False, desired_node=None)
        return Response(ok=True, data={"message": f"{request.app} is to run where the manifests place it"})

    def _maintenance(self, request: Request) -> Response:
        if request.on is None:
            return Response(ok=False, error="maintenance needs on or off")
        targets = [request.app] if request.app else [a.name for a in self.agent.manifests.applications]
        for app in targets:
            self.set_override(app, maintenance=request.on)
        state = "on" if request.on else "off"
        return Response(ok=True, data={"message": f"maintenance {state} for {', '.join(targets)}"})

    def _placement(self, request: Request) -> Response:
        """Where the arbiter wants each application now; an application left out is held."""
        agent = self.agent
        with agent.lock:
            active = agent.placement_now()
            why = {app: d.reason for app, d in agent.arbitration.decisions.items()}
        return Response(ok=True, data={"node": agent.node, "active": active, "why": why})

    def _status(self, request: Request) -> Response:
        return Response(ok=True, data=self.status())

    def status(self) -> dict[str, Any]:
        agent = self.agent
        with agent.lock:
            snapshot = agent.snapshot
            peer = agent.peer_link.view_now()
            apps = {}
            for loaded in agent.manifests.applications:
                apps[loaded.name] = self._app_status(
                    loaded.name, loaded.document.spec.monitors, snapshot, peer
                )
            links = {n: (None if age is None else round(age, 3)) for n, age in peer.link_ages.items()}
            return {
                "cluster": agent.manifests.cluster.document.metadata.name,
                "node": agent.node,
                "nodes": {
                    agent.node: {
                        "up": True,
                        "load": round(read_host().load_per_cpu, 3),
                    },
                    agent.peer: {
                        "up": peer.silence < agent.arbitration.settings.dead_time,
                        "silent_for": None if peer.silence == float("inf") else round(peer.silence, 3),
                        "links": links,
                        "load": peer.load,
                    },
                },
                "heartbeats_rejected": {str(k): v for k, v in agent.peer_link.links.rejected.items()},
                "applications": apps,
            }

    def _app_status(self, app: str, monitors: Any, snapshot: Any, peer: Any) -> dict[str, Any]:
        agent = self.agent
        here = snapshot is not None and snapshot.apps.get(app) is not None and snapshot.apps[app].running
        there = (
            app in peer.apps
            and peer.apps[app].running
            and peer.silence < agent.arbitration.settings.dead_time
        )
        node = agent.node if here else (agent.peer if there else None)
        decision = agent.arbitration.decisions.get(app)
        override = agent.overrides.of(app)
        state = "MAINTENANCE" if override.maintenance else ("STARTED" if node else "STOPPED")
        if app in agent.failed and not here:
            state = "FAILED OVER" if there else "FAILED"
        previous = self.since.get(app)
        if previous is None or previous[0] != f"{state}@{node}":
            self.since[app] = (f"{state}@{node}", datetime.now(UTC))
        counts = agent.monitors.counts(app, list(monitors))
        lease = agent.arbitration.lease(app)
        peer_app = peer.apps.get(app)
        allowed = peer_app is not None and peer_app.disk == "UpToDate" and not peer_app.failed
        return {
            "node": node,
            "state": state,
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

    def _explain(self, request: Request) -> Response:
        if request.app is None:
            return Response(ok=False, error="explain needs APP")
        status = self.status()["applications"][request.app]
        recent = [d.model_dump(mode="json") for d in self.agent.log.recent(request.app)]
        return Response(ok=True, data={"app": request.app, "status": status, "recent": recent})
