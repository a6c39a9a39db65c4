"""The agents as real processes in the lab's nodes: failover, operators, monitors, partitions,
and what they refuse (an invalid manifest edit, forged and replayed heartbeats).

One lab runs the scenarios in turn (each starts from where the previous left off, as a cluster
lives); after them, the invariant checker must have seen no moment with two Primaries or two
running domains. The seed's manifests are copied, with a command monitor added whose health
file lives in each node's own /etc/xen, so a test can make the application sick on one node.
Needs root (CI runs as root); never skipped.
"""

import base64
import json
import os
import secrets
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from reconciler.arbiter.heartbeat import AppView, Heartbeat, encode
from reconciler.lab import agents, failover, invariants
from reconciler.lab import lab as labs
from reconciler.lab import node as nodes
from reconciler.lab.inventory import Lab
from tests.lab.inlab import edited_manifests, in_node, lab_up

N1, N2 = "centos5s1", "centos5s2"
RECONCILER = (sys.executable, "-m", "reconciler")
APP, DOMAIN, RESOURCE = "xapache", "apache", "xapache-lv01"
HEALTH = "/etc/xen/healthy"
MONITOR = f"""    - name: health
      type: command
      argv: [/bin/cat, {HEALTH}]
      interval: 1s
      timeout: 2s
      restartLimit: 1
      actions:
        0: NOP
        1: RESTART
"""


@pytest.fixture(scope="module", autouse=True)
def _need_root() -> None:
    assert os.geteuid() == 0, "the lab tests need root (network namespaces)"


def monitored_manifests(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed's manifests with the health monitor added."""
    anchor = "  monitors:\n"
    return edited_manifests(tmp_path_factory.mktemp("agents"), [("xapache.yaml", anchor, anchor + MONITOR)])


@contextmanager
def agents_lab(manifests: Path, root: Path, drbd: Sequence[str] = ()) -> Iterator[Lab]:
    """A lab with xapache built on both nodes and the agents running and agreed; afterwards,
    the invariant checker must have seen no violation."""
    with lab_up(root, "g" + secrets.token_hex(3), manifests, drbd) as made:
        for node in (N1, N2):
            _healthy(made, node, True)
        failover.build(made, manifests)
        for node in (N1, N2):
            agents.start(made, node, manifests)
        failover.wait_for("the agents agree", lambda: _verdicts(made) == {"run", "stay-stopped"}, 60, 0.2)
        yield made
        found = invariants.report(made)
        assert not invariants.violations(made), found


@pytest.fixture(scope="module")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return monitored_manifests(tmp_path_factory)


@pytest.fixture(scope="module")
def lab(manifests: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with agents_lab(manifests, tmp_path_factory.mktemp("labs")) as made:
        yield made


def _healthy(lab: Lab, node: str, healthy: bool) -> None:
    path = nodes.private_dir(lab, node, "/etc/xen") / "healthy"
    if healthy:
        path.write_text("ok\n")
    else:
        path.unlink(missing_ok=True)


def _decisions(lab: Lab, node: str) -> list[dict[str, object]]:
    path = agents.log_path(lab, node)
    out = []
    for line in path.read_text().splitlines() if path.exists() else []:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # the agent's stderr, if any
    return out


def _verdicts(lab: Lab) -> set[str]:
    """Each node's latest verdict on the application."""
    latest = set()
    for node in (N1, N2):
        verdicts = [
            d["what"] for d in _decisions(lab, node) if d.get("app") == APP and d["what"] in _VERDICTS
        ]
        if verdicts:
            latest.add(str(verdicts[-1]))
    return latest


_VERDICTS = {"run", "stay-stopped", "stop", "take-over", "wait", "self-fence", "need-fencing", "hold"}


def _status(lab: Lab, root: Path, node: str) -> dict[str, object]:
    done = in_node(root, lab.id, node, *RECONCILER, "status", "--json")
    assert done.returncode == 0, done.stderr
    data: dict[str, object] = json.loads(done.stdout)
    return data


def test_power_off_fails_over_to_the_survivor(lab: Lab) -> None:
    assert failover.owner(lab, DOMAIN) == N1
    result = failover.failover(lab, DOMAIN)
    assert (result.victim, result.survivor) == (N1, N2)
    assert any(d["what"] == "take-over" for d in _decisions(lab, N2))
    failover.recover(lab, N1, _manifests(lab), [RESOURCE])
    assert failover.owner(lab, DOMAIN) == N2  # sticky: no move back


def _manifests(lab: Lab) -> Path:
    return Path(json.loads((lab.dir / "sim" / "lab-sim.json").read_text())["manifests"][0])


def test_operators_move_and_clear(lab: Lab) -> None:
    root = lab.root
    moved = in_node(root, lab.id, N2, *RECONCILER, "move", APP, "--to", N1)
    assert moved.returncode == 0, moved.stderr
    failover.wait_for(f"{DOMAIN} moved to {N1}", lambda: failover.owner(lab, DOMAIN) == N1, 60)
    status = _status(lab, root, N1)
    app = status["applications"][APP]  # type: ignore[index]
    assert app["node"] == N1 and app["override"]["desired_node"] == N1
    cleared = in_node(root, lab.id, N1, *RECONCILER, "start", APP)
    assert cleared.returncode == 0, cleared.stderr
    time.sleep(2)
    assert failover.owner(lab, DOMAIN) == N1  # stickiness: cleared, it stays


def test_an_invalid_manifest_edit_is_ignored(lab: Lab) -> None:
    app = _manifests(lab) / "xapache.yaml"
    good = app.read_text()
    try:
        app.write_text(good.replace("size: 8G", "size: eight"))
        failover.wait_for(
            "the edit reported",
            lambda: any(d["what"] == "manifests-ignored" for d in _decisions(lab, N1)),
            30,
            0.2,
        )
        time.sleep(1)
        assert failover.owner(lab, DOMAIN) == N1
    finally:
        app.write_text(good)
    failover.wait_for(
        "the good manifests reloaded",
        lambda: any(d["what"] == "manifests-reloaded" for d in _decisions(lab, N1)),
        30,
        0.2,
    )


def _forge(lab: Lab, key: bytes, seq: int, boot: str, sent_at: float) -> bytes:
    heartbeat = Heartbeat(
        cluster="centos5",
        sender=N2,
        receiver=N1,
        network="public",
        boot_id=boot,
        seq=seq,
        sent_at=sent_at,
        applications={
            APP: AppView(
                running=False, lease_epoch=0, lease_holder=None, lease_expires_in=None, disk=None, state="x"
            )
        },
        load=0.0,
        cpu_percent=0.0,
    )
    return encode(heartbeat, key)


CAPTURE = """
import base64, socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
s.bind(("eth0", 0x0800))
while True:
    packet = s.recv(65535)
    header = (packet[0] & 0x0F) * 4
    if packet[9] == 17 and int.from_bytes(packet[header + 2 : header + 4], "big") == 7405:
        print(base64.b64encode(packet[header + 8 :]).decode())
        break
"""


def _capture(lab: Lab, root: Path) -> bytes:
    """One of N2's heartbeats as it arrives at N1 (a packet socket inside N1's namespace)."""
    done = in_node(root, lab.id, N1, sys.executable, "-c", CAPTURE)
    assert done.returncode == 0, done.stderr
    return base64.b64decode(done.stdout.strip())


def test_forged_and_replayed_heartbeats_are_rejected(lab: Lab) -> None:
    root = lab.root
    key = (nodes.private_dir(lab, N1, "/etc/reconciler") / "heartbeat.key").read_text().strip().encode()
    datagrams = [
        b"not a heartbeat" * 4,  # garbage
        _forge(lab, b"the wrong key, 32 bytes long ....", 1, "forger", time.time()),
        _forge(lab, key, 1, "stale-boot", time.time() - 3600),  # genuine key, but an hour old
        _capture(lab, root),  # a genuine heartbeat of N2's, sent again: a replay
    ]
    before = _status(lab, root, N1)["heartbeats_rejected"]
    script = (
        "import socket, sys, base64\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "for d in sys.argv[1:]:\n    s.sendto(base64.b64decode(d), ('192.168.1.32', 7405))\n"
    )
    sent = in_node(
        root, lab.id, N2, sys.executable, "-c", script, *(base64.b64encode(d).decode() for d in datagrams)
    )
    assert sent.returncode == 0, sent.stderr
    time.sleep(1)
    after = _status(lab, root, N1)["heartbeats_rejected"]
    assert isinstance(before, dict) and isinstance(after, dict)
    grew = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    assert grew.get("bad-mac", 0) >= 2 and grew.get("stale", 0) >= 1, (before, after)
    assert grew.get("replayed", 0) >= 1, (before, after)
    assert failover.owner(lab, DOMAIN) == N1  # nothing of it was believed


def test_a_failing_monitor_restarts_then_fails_over(lab: Lab) -> None:
    first = failover.owner(lab, DOMAIN)
    assert first == N1
    _healthy(lab, N1, False)
    failover.wait_for(
        "a RESTART", lambda: any(d["what"] == "monitor-restart" for d in _decisions(lab, N1)), 30, 0.2
    )
    failover.wait_for(f"{DOMAIN} failed over to {N2}", lambda: failover.owner(lab, DOMAIN) == N2, 90, 0.1)
    assert any(d["what"] == "monitor-failover" for d in _decisions(lab, N1))
    _healthy(lab, N1, True)
    time.sleep(3)
    assert failover.owner(lab, DOMAIN) == N2  # the flapping ended on the other node, not in a loop
    cleared = in_node(lab.root, lab.id, N1, *RECONCILER, "start", APP)
    assert cleared.returncode == 0, cleared.stderr


def test_a_heartbeat_partition_never_runs_it_twice(lab: Lab) -> None:
    """Both heartbeat links cut (no tie-breaker, no fencing in the seed): the holder stops before
    its lease ends, the other takes over after it; never both at once (the invariant checker)."""
    holder = failover.owner(lab, DOMAIN)
    assert holder is not None
    other = N2 if holder == N1 else N1
    labs.partition(lab)
    try:
        failover.wait_for(f"{DOMAIN} on {other}", lambda: failover.owner(lab, DOMAIN) == other, 30, 0.05)
        assert any(d["what"] == "self-fence" for d in _decisions(lab, holder))
    finally:
        labs.heal(lab)
    assert not invariants.violations(lab), invariants.report(lab)
