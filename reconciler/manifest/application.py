"""The `Application` document: what runs together on one node and fails over as one."""

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator

from reconciler.manifest.cluster import IPAddress
from reconciler.manifest.common import Bool, Metadata, Model
from reconciler.manifest.domain import Domain
from reconciler.manifest.monitor import Monitor, PingMonitor, TcpMonitor
from reconciler.manifest.names import Name, _check_hostname
from reconciler.manifest.storage import Storage
from reconciler.manifest.units import Duration

LEAST_CPU_LOAD = "LEAST_CPU_LOAD"
DEFAULT_START_TIMEOUT = timedelta(seconds=600)
DEFAULT_STOP_TIMEOUT = timedelta(seconds=600)


def _check_preferred(value: Any) -> Any:
    if value == LEAST_CPU_LOAD:
        return value
    if not isinstance(value, str):
        raise ValueError(f"preferredNode is a node name or {LEAST_CPU_LOAD}, not {value!r}")
    if value.upper().replace("-", "_") == LEAST_CPU_LOAD:
        raise ValueError(f"{value!r}: write {LEAST_CPU_LOAD} exactly")
    return _check_hostname(value)


PreferredNode = Annotated[
    str,
    BeforeValidator(_check_preferred),
    WithJsonSchema({"type": "string", "examples": [LEAST_CPU_LOAD, "node1"]}),
]


class Failback(StrEnum):
    NEVER = "never"
    PREFERRED = "preferred"


class Takeover(StrEnum):
    NORMAL = "normal"
    FORCE = "force"


class PlacementSpec(Model):
    preferred_node: PreferredNode = Field(
        default=LEAST_CPU_LOAD, description=f"A node name, or {LEAST_CPU_LOAD} to pick the less busy node."
    )
    stickiness: Bool = Field(default=True, description="A running application is not moved to balance load.")
    failback: Failback = Field(
        default=Failback.NEVER, description="preferred: move back when the preferred node returns."
    )
    takeover: Takeover = Field(
        default=Takeover.NORMAL,
        description="force lets a takeover start on data that is not UpToDate (a data-loss risk).",
    )
    autostart: Bool = Field(default=True, description="Start the application when the cluster starts.")


class ApplicationNetwork(Model):
    """A cluster network the application needs: `ip: MONITOR` (needed, no address) or addresses."""

    name: Name = Field(description="A network of the cluster.")
    ip: Literal["MONITOR"] | None = Field(
        default=None, description="MONITOR: the application needs this network up, but has no address on it."
    )
    addresses: tuple[IPAddress, ...] = Field(
        default=(), description="Addresses brought up with the application on the node running it."
    )

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        if (self.ip is None) == (not self.addresses):
            raise ValueError("give either ip: MONITOR or a list of addresses (one of them)")
        if len(set(self.addresses)) != len(self.addresses):
            raise ValueError("an address is listed twice")
        return self


Readiness = Annotated[TcpMonitor | PingMonitor, Field(discriminator="type")]


class Start(Model):
    timeout: Duration = Field(default=DEFAULT_START_TIMEOUT, description="linuxha's maxstarttime.")
    readiness: Readiness | None = Field(
        default=None, description="Report STARTED only once this check passes (ping or tcp)."
    )


class StopEscalation(StrEnum):
    FAIL = "fail"
    DESTROY = "destroy"


class Stop(Model):
    timeout: Duration = Field(default=DEFAULT_STOP_TIMEOUT, description="linuxha's maxstoptime.")
    escalation: StopEscalation = Field(
        default=StopEscalation.FAIL,
        description="destroy: after the timeout, destroy the domain (like pulling its power cord).",
    )


class ApplicationSpec(Model):
    placement: PlacementSpec = Field(default_factory=PlacementSpec, description="Where it runs.")
    storage: Storage = Field(description="Its volume group, volumes, DRBD and filesystems.")
    domain: Domain = Field(description="What runs: a Xen domain, or your start/stop/status commands.")
    networks: tuple[ApplicationNetwork, ...] = Field(default=(), description="The networks it needs.")
    start: Start = Field(default_factory=Start, description="How long starting may take; readiness.")
    stop: Stop = Field(default_factory=Stop, description="How long stopping may take; then what.")
    monitors: tuple[Monitor, ...] = Field(default=(), description="Checks run on the node running it.")


class ApplicationDocument(Model):
    """An application: what runs together on one node and fails over as one."""

    api_version: Literal["reconciler/v1"]
    kind: Literal["Application"]
    metadata: Metadata
    spec: ApplicationSpec
