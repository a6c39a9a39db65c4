"""The commands' side of the agent: is one running here, and where does it want each application.

`apply`, `plan`, `drift` and `clbuildapp` never plan the opposite of what the running agent
decided: while it answers on its socket, they take placement from it (`AgentPlacement`, asked
again at every pass, so a decision that changes during an apply is followed at the next pass).
"""

from dataclasses import dataclass
from pathlib import Path

from reconciler.agent.control import ControlError, Request, call
from reconciler.core.desired import PlacementError
from reconciler.core.placement import Placement
from reconciler.manifest import ManifestSet

ASK_TIMEOUT = 5.0


def agent_placement(socket: Path | None = None) -> Placement:
    """The running agent's placement; raises ControlError when no agent answers."""
    response = call(Request(command="placement"), socket, timeout=ASK_TIMEOUT)
    if not response.ok:
        raise ControlError(response.error or "the agent refused to say")
    data = response.data
    return Placement(active=dict(data.get("active", {})), source="agent", why=dict(data.get("why", {})))


def agent_running(socket: Path | None = None) -> bool:
    try:
        agent_placement(socket)
    except ControlError:
        return False
    return True


@dataclass(frozen=True)
class AgentPlacement:
    """Placement as the agent of this node decided it, asked at every pass."""

    socket: Path | None = None

    def placement(self, manifests: ManifestSet) -> Placement:
        try:
            placed = agent_placement(self.socket)
        except ControlError as err:
            raise PlacementError(f"the agent stopped answering: {err}") from err
        known = {a.name for a in manifests.applications}
        unknown = sorted(set(placed.active) - known)
        if unknown:
            raise PlacementError(
                f"the agent places {', '.join(unknown)}, which these manifests do not declare: "
                "it runs another revision of the manifests"
            )
        return placed
