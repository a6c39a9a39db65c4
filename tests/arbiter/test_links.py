"""Heartbeat links over real UDP sockets on loopback addresses (127.0.0.0/8 only).

Two networks, "public" (127.0.0.2 <-> 127.0.0.3) and "private" (127.0.0.4 <-> 127.0.0.5), and a
"storage" network without heartbeats that must get no socket. No assertion is about speed: every
wait loops with generous timeouts until the expected datagram has been processed.
"""

import itertools
import socket
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from reconciler.arbiter.heartbeat import Heartbeat, Reason, encode
from reconciler.arbiter.links import HeartbeatLinks, LinkError
from reconciler.manifest.cluster import ClusterDocument

KEY = b"a shared secret of the two nodes"
ADDRESSES = {
    "alpha": {"public": "127.0.0.2", "private": "127.0.0.4", "storage": "127.0.0.6"},
    "beta": {"public": "127.0.0.3", "private": "127.0.0.5", "storage": "127.0.0.7"},
}
PATIENCE = 20.0  # seconds before a test gives up waiting for loopback datagrams


def _cluster(port: int, beta: dict[str, str] | None = None) -> ClusterDocument:
    networks: list[dict[str, object]] = [
        {"name": name, "subnet": "127.0.0.0/8", "interfaces": {"alpha": "lo", "beta": "lo"}}
        for name in ("public", "private")
    ]
    networks.append({**networks[0], "name": "storage", "heartbeat": False})
    return ClusterDocument.model_validate(
        {
            "apiVersion": "reconciler/v1",
            "kind": "Cluster",
            "metadata": {"name": "lab"},
            "spec": {
                "nodes": [
                    {"name": "alpha", "addresses": ADDRESSES["alpha"]},
                    {"name": "beta", "addresses": beta or ADDRESSES["beta"]},
                ],
                "networks": networks,
                "arbitration": {"port": port},
            },
        }
    )


def _free_port() -> int:
    """A port free on every test address: the kernel picks one on the first, the others are tried."""
    for _ in range(20):
        probes = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(5)]
        try:
            probes[0].bind(("127.0.0.2", 0))
            port: int = probes[0].getsockname()[1]
            for probe, last in zip(probes[1:], range(3, 7), strict=True):
                probe.bind((f"127.0.0.{last}", port))
            return port
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
    raise RuntimeError("no port free on all of 127.0.0.2-6")


@pytest.fixture
def port() -> int:
    return _free_port()


@pytest.fixture
def pair(port: int) -> Iterator[tuple[HeartbeatLinks, HeartbeatLinks]]:
    cluster = _cluster(port)
    with HeartbeatLinks(cluster, "alpha", KEY) as alpha, HeartbeatLinks(cluster, "beta", KEY) as beta:
        yield alpha, beta


def _factory(sender: str = "alpha", receiver: str = "beta") -> Callable[[str], Heartbeat]:
    boot, seqs = uuid.uuid4().hex, itertools.count(1)

    def make(network: str) -> Heartbeat:
        return Heartbeat(
            cluster="lab",
            sender=sender,
            receiver=receiver,
            network=network,
            boot_id=boot,
            seq=next(seqs),
            sent_at=time.time(),
            load=0.1,
            cpu_percent=3.0,
        )

    return make


def _receive_until(
    links: HeartbeatLinks, done: Callable[[list[tuple[str, Heartbeat]]], bool]
) -> list[tuple[str, Heartbeat]]:
    received: list[tuple[str, Heartbeat]] = []
    deadline = time.monotonic() + PATIENCE
    while not done(received):
        assert time.monotonic() < deadline, f"gave up waiting; received {received}, rejected {links.rejected}"
        received.extend(links.receive(timeout=2.0))
    return received


def _networks(received: list[tuple[str, Heartbeat]]) -> set[str]:
    return {network for network, _ in received}


def test_only_heartbeat_networks_get_a_socket(pair: tuple[HeartbeatLinks, HeartbeatLinks]) -> None:
    alpha, beta = pair
    assert alpha.networks == beta.networks == ("public", "private")
    assert alpha.peer == "beta" and beta.peer == "alpha"


def test_heartbeats_arrive_on_every_network_and_update_last_heard(
    pair: tuple[HeartbeatLinks, HeartbeatLinks],
) -> None:
    alpha, beta = pair
    assert beta.peer_silent_for(time.monotonic()) == float("inf")
    make = _factory()
    before = time.monotonic()
    assert alpha.send(make) == 2
    received = _receive_until(beta, lambda got: _networks(got) == {"public", "private"})
    assert all(hb.network == network and hb.sender == "alpha" for network, hb in received)
    assert set(beta.last_heard) == {"public", "private"}
    assert all(before <= heard <= time.monotonic() for heard in beta.last_heard.values())
    assert 0 <= beta.peer_silent_for(time.monotonic()) < float("inf")
    assert not beta.rejected and not alpha.send_errors


def test_a_forged_datagram_is_counted_and_not_delivered(
    pair: tuple[HeartbeatLinks, HeartbeatLinks], port: int
) -> None:
    alpha, beta = pair
    make = _factory()
    genuine = encode(make("public"), KEY)
    forged = genuine[:-1] + bytes([genuine[-1] ^ 0xFF])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        raw.bind(("127.0.0.8", 0))
        raw.sendto(forged, ("127.0.0.3", port))
        raw.sendto(encode(make("public"), b"the wrong key, sixteen bytes+"), ("127.0.0.3", port))
        raw.sendto(b"junk", ("127.0.0.3", port))
    alpha.send(make)  # sent after the junk on the same link, so processed after it
    received = _receive_until(beta, lambda got: "public" in _networks(got))
    assert [hb.seq for network, hb in received if network == "public"] == [3]
    assert beta.rejected == {Reason.BAD_MAC: 2, Reason.MALFORMED: 1}


def test_a_replayed_or_misdirected_genuine_datagram_is_refused(
    pair: tuple[HeartbeatLinks, HeartbeatLinks], port: int
) -> None:
    _, beta = pair
    make = _factory()
    captured = encode(make("public"), KEY)
    misdirected = encode(make("private"), KEY)  # genuine, but for the other link
    last = encode(make("public"), KEY)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        raw.bind(("127.0.0.8", 0))
        for data in (captured, captured, misdirected, last):
            raw.sendto(data, ("127.0.0.3", port))
    received = _receive_until(beta, lambda got: len(got) >= 2)
    assert [(network, hb.seq) for network, hb in received] == [("public", 1), ("public", 3)]
    assert beta.rejected == {Reason.REPLAYED: 1, Reason.NOT_FOR_ME: 1}


def test_a_send_the_kernel_refuses_is_counted_not_raised(port: int) -> None:
    # Broadcast without SO_BROADCAST fails in the kernel (EACCES) before any packet leaves,
    # standing in for ENETUNREACH on a link that is down.
    beta = {**ADDRESSES["beta"], "private": "255.255.255.255"}
    with HeartbeatLinks(_cluster(port, beta), "alpha", KEY) as alpha:
        assert alpha.send(_factory()) == 1
        assert alpha.send(_factory()) == 1
        assert alpha.send_errors == {"private": 2}
        assert isinstance(alpha.last_send_error["private"], PermissionError)


def test_close_releases_the_ports(port: int) -> None:
    cluster = _cluster(port)
    with (
        HeartbeatLinks(cluster, "alpha", KEY),
        pytest.raises(LinkError, match=r"cannot bind .* public to 127\.0\.0\.2"),
    ):
        HeartbeatLinks(cluster, "alpha", KEY)
    HeartbeatLinks(cluster, "alpha", KEY).close()


def test_a_failed_bind_leaves_no_socket_open(port: int) -> None:
    cluster = _cluster(port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind(("127.0.0.4", port))  # the second network's address
        with pytest.raises(LinkError, match="private"):
            HeartbeatLinks(cluster, "alpha", KEY)
    HeartbeatLinks(cluster, "alpha", KEY).close()  # the first network's port was released


def test_a_node_outside_the_cluster_or_without_an_address_is_refused(port: int) -> None:
    with pytest.raises(LinkError, match="gamma"):
        HeartbeatLinks(_cluster(port), "gamma", KEY)
    beta = {"public": "127.0.0.3"}
    with pytest.raises(LinkError, match="beta has no address on heartbeat network private"):
        HeartbeatLinks(_cluster(port, beta), "alpha", KEY)
    HeartbeatLinks(_cluster(port), "alpha", KEY).close()  # the public socket bound before was closed
