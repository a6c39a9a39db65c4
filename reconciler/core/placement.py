"""Where each application should run, as the pass is told: the placement sources.

A pass never decides placement itself; it asks a `PlacementSource`:
- `StaticPlacement`: `--active APP=NODE`, else each application's preferred node (the commands
  when no agent runs, and the simulator);
- the running agent's leases (`reconciler.agent.client.AgentPlacement`), asked over its socket;
- the agent's own arbiter, inside the agent.
An application the source leaves out is *held*: the pass plans nothing for it (maintenance, an
undecided arbiter). Placement is data; the source is the only thing that differs.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from reconciler.core.desired import placement as static_placement
from reconciler.manifest import ManifestSet


@dataclass(frozen=True)
class Placement:
    active: Mapping[str, str]  # application -> the node it runs on; absent: held, left alone
    source: str  # who decided: "static", "agent", "arbiter", "simulator"
    why: Mapping[str, str] = field(default_factory=dict)  # application -> the decision's reason

    def held(self, manifests: ManifestSet) -> tuple[str, ...]:
        return tuple(a.name for a in manifests.applications if a.name not in self.active)


class PlacementSource(Protocol):
    def placement(self, manifests: ManifestSet) -> Placement:
        """Raises `PlacementError` when it cannot say (an unknown application or node)."""
        ...


@dataclass(frozen=True)
class StaticPlacement:
    """`--active` overrides, else the preferred node (the first node for LEAST_CPU_LOAD)."""

    overrides: Mapping[str, str] = field(default_factory=dict)
    source: str = "static"

    def placement(self, manifests: ManifestSet) -> Placement:
        return Placement(active=static_placement(manifests, dict(self.overrides)), source=self.source)
