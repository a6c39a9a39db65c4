"""The `Cluster` document: the two nodes, the networks between them, and how they arbitrate."""

from datetime import timedelta
from ipaddress import IPv4Address, IPv6Address
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, IPvAnyAddress, IPvAnyNetwork, model_validator

from reconciler.manifest.common import API_VERSION, Bool, Metadata, Model, Port
from reconciler.manifest.names import AbsolutePath, Argv, InterfaceName, Name, NodeName
from reconciler.manifest.units import Duration


def _no_zone(value: IPv4Address | IPv6Address) -> IPv4Address | IPv6Address:
    # A zone id (fe80::1%eth0) names an interface of one host: meaningless in a cluster manifest,
    # and it would reach DRBD's and ip's syntax verbatim.
    if isinstance(value, IPv6Address) and value.scope_id is not None:
        raise ValueError(f"{value}: an address with a zone id (%...) is not allowed here")
    return value


IPAddress = Annotated[IPvAnyAddress, AfterValidator(_no_zone)]
IPNetwork = IPvAnyNetwork

DEFAULT_HEARTBEAT_PORT = 7405


class Node(Model):
    name: NodeName = Field(description="The node's host name, as `uname -n` prints it.")
    addresses: dict[Name, IPAddress] = Field(
        description="This node's address on each cluster network, by network name."
    )


class Network(Model):
    name: Name = Field(description="The network's name, used by nodes' addresses and applications.")
    subnet: IPNetwork = Field(description="The network's subnet, e.g. 192.168.1.0/24; gives the prefix.")
    interfaces: dict[NodeName, InterfaceName] = Field(
        description="The interface that carries this network on each node."
    )
    heartbeat: Bool = Field(default=True, description="Whether the agents exchange heartbeats on it.")


class PingTieBreaker(Model):
    """A third party both nodes ping: only a node that gets an answer takes over from a silent peer."""

    type: Literal["ping"]
    address: IPAddress = Field(description="The address both nodes ping.")


class TcpTieBreaker(Model):
    """A third party both nodes connect to: only a node that reaches it takes over from a silent peer."""

    type: Literal["tcp"]
    address: IPAddress = Field(description="The address both nodes connect to.")
    port: Port = Field(description="Its TCP port.")


TieBreaker = Annotated[PingTieBreaker | TcpTieBreaker, Field(discriminator="type")]


class Fencing(Model):
    command: Argv = Field(description="Run with the peer's node name appended; exit 0 means fenced.")
    timeout: Duration = Field(default=timedelta(seconds=30), description="How long fencing may take.")


class ArbitrationSpec(Model):
    heartbeat_interval: Duration = Field(
        default=timedelta(milliseconds=200), description="How often each agent sends a heartbeat."
    )
    dead_time: Duration = Field(
        default=timedelta(seconds=1),
        description="Silence on every heartbeat link after which the peer is presumed dead.",
    )
    port: Port = Field(default=DEFAULT_HEARTBEAT_PORT, description="UDP port of the heartbeats.")
    key_file: AbsolutePath = Field(
        default="/etc/reconciler/heartbeat.key",
        description="Shared secret for the heartbeat HMAC; must not be readable by others.",
    )
    tie_breaker: TieBreaker | None = Field(
        default=None,
        description="A third party a node must reach to take over from a silent peer; none: not asked.",
    )
    fencing: Fencing | None = Field(
        default=None, description="How to power off the peer before taking over its applications."
    )

    @model_validator(mode="after")
    def _dead_time_spans_heartbeats(self) -> Self:
        # Fewer than three missed heartbeats is one delayed packet, not a dead peer.
        if self.dead_time < 3 * self.heartbeat_interval:
            raise ValueError(
                "deadTime must be at least three heartbeatIntervals, or a single late packet fails over"
            )
        return self


class ClusterSpec(Model):
    nodes: tuple[Node, Node] = Field(
        description="Exactly the two nodes of the cluster. Their order gives the DRBD 9 node-ids, which "
        "DRBD keeps in its metadata: do not reorder them once resources exist."
    )
    networks: tuple[Network, ...] = Field(min_length=1, description="The networks between the nodes.")
    arbitration: ArbitrationSpec = Field(
        default_factory=ArbitrationSpec, description="Heartbeats, dead time, tie-breaker, fencing."
    )
    state_dir: AbsolutePath = Field(
        default="/var/lib/reconciler",
        description="Each node's own directory for leases, journal and drift history; never mounted over.",
    )


class ClusterDocument(Model):
    """The cluster: its two nodes, its networks, how the nodes arbitrate. Exactly one per set."""

    api_version: Literal["reconciler/v1"] = Field(description=f"Always {API_VERSION}.")
    kind: Literal["Cluster"]
    metadata: Metadata
    spec: ClusterSpec
