"""The heartbeat transport: one UDP socket per heartbeat network, bound to this node's address on it.

One socket per network (rather than one wildcard socket) makes the network a datagram arrived on
a fact of the socket, not a claim of the packet, and the kernel sends each heartbeat out of the
interface of its network. Links fail independently and that is normal: in a partition a send
fails with ENETUNREACH or a datagram is lost. So nothing here raises after construction: send
errors and rejected datagrams are counted for the agent to report, and liveness is read from
`last_heard` and `peer_silent_for`, which only accepted (authenticated, fresh) heartbeats update.
"""

import selectors
import socket
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv6Address
from types import TracebackType
from typing import Self

from reconciler.arbiter.heartbeat import (
    DEFAULT_MAX_SKEW,
    DEFAULT_RESTART_TOLERANCE,
    MAX_DATAGRAM,
    Heartbeat,
    Reason,
    Rejected,
    ReplayGuard,
    decode,
    encode,
)
from reconciler.manifest.cluster import ClusterDocument, Node

# Datagrams read from one socket per wake-up: a flood on one link must not starve the others.
_DRAIN_LIMIT = 64


class LinkError(Exception):
    """The links cannot be set up: a node or address missing from the Cluster, or a bind failing."""


@dataclass(frozen=True)
class _Link:
    network: str
    sock: socket.socket
    peer: tuple[str, int]
    guard: ReplayGuard


class HeartbeatLinks:
    """Sends this node's heartbeats to the peer on every heartbeat network and receives the peer's."""

    def __init__(
        self,
        cluster: ClusterDocument,
        node: str,
        key: bytes,
        *,
        max_skew: float = DEFAULT_MAX_SKEW,
        restart_tolerance: float = DEFAULT_RESTART_TOLERANCE,
    ) -> None:
        self.cluster = cluster.metadata.name
        self.node = node
        me, peer = _me_and_peer(cluster, node)
        self.peer = peer.name
        self._key = key
        self.rejected: Counter[Reason] = Counter()
        self.send_errors: Counter[str] = Counter()
        self.receive_errors: Counter[str] = Counter()
        self.last_rejection: Rejected | None = None
        self.last_send_error: dict[str, OSError] = {}
        self.last_heard: dict[str, float] = {}
        self._selector = selectors.DefaultSelector()
        self._links: list[_Link] = []
        port = cluster.spec.arbitration.port
        try:
            for network in (n for n in cluster.spec.networks if n.heartbeat):
                peer_address = (_address(peer, network.name), port)  # before binding: nothing to leak
                sock = _bind(network.name, me, port)
                link = _Link(network.name, sock, peer_address, ReplayGuard(max_skew, restart_tolerance))
                self._links.append(link)
                self._selector.register(sock, selectors.EVENT_READ, link)
        except BaseException:
            self.close()
            raise
        if not self._links:
            self.close()
            raise LinkError(f"cluster {self.cluster} declares no heartbeat network")

    @property
    def networks(self) -> tuple[str, ...]:
        """The heartbeat networks, in the Cluster's order."""
        return tuple(link.network for link in self._links)

    def send(self, hb_factory: Callable[[str], Heartbeat]) -> int:
        """Send one heartbeat per network, built by `hb_factory(network)`; return how many left.

        A socket error (link down, no route) is counted in `send_errors` and does not stop the
        other links. An oversized heartbeat (ValueError from `encode`) is a bug and does raise.
        """
        sent = 0
        for link in self._links:
            data = encode(hb_factory(link.network), self._key)
            try:
                link.sock.sendto(data, link.peer)
            except OSError as error:
                self.send_errors[link.network] += 1
                self.last_send_error[link.network] = error
            else:
                sent += 1
        return sent

    def receive(self, timeout: float) -> list[tuple[str, Heartbeat]]:
        """Wait up to `timeout` seconds for accepted heartbeats; return them with their network.

        Returns as soon as a wake-up yields at least one accepted heartbeat, or empty at the
        deadline. Rejected datagrams are counted and do not end the wait early, so junk on a link
        does not change the caller's rhythm.
        """
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            accepted: list[tuple[str, Heartbeat]] = []
            for key, _ in self._selector.select(max(remaining, 0.0)):
                link: _Link = key.data
                accepted.extend((link.network, hb) for hb in self._drain(link))
            if accepted or remaining <= 0:
                return accepted

    def peer_silent_for(self, now: float) -> float:
        """Seconds since the last accepted heartbeat on any link (`now` from time.monotonic())."""
        if not self.last_heard:
            return float("inf")
        return now - max(self.last_heard.values())

    def close(self) -> None:
        """Close every socket; safe to call twice."""
        for link in self._links:
            self._selector.unregister(link.sock)
            link.sock.close()
        self._links = []
        self._selector.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _drain(self, link: _Link) -> list[Heartbeat]:
        accepted: list[Heartbeat] = []
        for _ in range(_DRAIN_LIMIT):
            try:
                data = link.sock.recv(MAX_DATAGRAM + 1)  # one byte more: an oversize datagram shows
            except BlockingIOError:
                break
            except OSError:
                self.receive_errors[link.network] += 1
                break
            hb = self._accept(link, data)
            if hb is not None:
                accepted.append(hb)
        return accepted

    def _accept(self, link: _Link, data: bytes) -> Heartbeat | None:
        try:
            hb = decode(
                data,
                self._key,
                cluster=self.cluster,
                receiver=self.node,
                sender=self.peer,
                network=link.network,
            )
            link.guard.admit(hb, time.time())
        except Rejected as rejection:
            self.rejected[rejection.reason] += 1
            self.last_rejection = rejection
            return None
        self.last_heard[link.network] = time.monotonic()
        return hb


def _me_and_peer(cluster: ClusterDocument, node: str) -> tuple[Node, Node]:
    first, second = cluster.spec.nodes
    if node == first.name:
        return first, second
    if node == second.name:
        return second, first
    raise LinkError(f"node {node!r} is not one of the nodes of cluster {cluster.metadata.name}")


def _address(node: Node, network: str) -> str:
    address = node.addresses.get(network)
    if address is None:
        raise LinkError(f"node {node.name} has no address on heartbeat network {network}")
    return str(address)


def _bind(network: str, me: Node, port: int) -> socket.socket:
    address = _address(me, network)
    family = socket.AF_INET6 if isinstance(me.addresses[network], IPv6Address) else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        sock.bind((address, port))
    except OSError as error:
        sock.close()
        raise LinkError(
            f"cannot bind heartbeat socket of network {network} to {address}:{port}: {error}"
        ) from error
    return sock
