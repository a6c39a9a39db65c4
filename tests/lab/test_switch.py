"""The lab's switch, for real: partitions cut at the switch (the nodes keep their carrier), one-way
cuts, bad links, power-off, and what `lab status` shows of it all.

Needs root (CI runs as root), never skipped. All traffic runs inside the lab's namespaces; the lab
lives in a temporary root and is removed by `down` in a `finally`, then checked to be gone.
"""

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.lab import faults
from reconciler.lab import lab as labs
from reconciler.lab import node as nodes
from reconciler.lab.commands import lab as lab_group
from reconciler.lab.errors import LabError
from reconciler.lab.inventory import Lab, load_inventory
from reconciler.lab.network import list_namespaces, name_prefix, observe_addresses
from reconciler.lab.status import render_status, status
from tests.lab.test_network import (
    INTERFACES,
    MANIFESTS,
    N1,
    N2,
    RUNNER,
    assert_nothing_left,
    comes_back,
    holder_pids,
    peer_address,
    reaches,
    unique_id,
)

NETWORK = "private"
UDP_PORT = 40999
RECEIVER = """
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(float(sys.argv[3]))
try:
    s.recvfrom(100)
    print("heard")
except TimeoutError:
    print("silence")
"""
SENDER = """
import socket, sys, time
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(10):
    s.sendto(b"hello", (sys.argv[1], int(sys.argv[2])))
    time.sleep(0.1)
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "labs"


@pytest.fixture
def lab(root: Path) -> Iterator[Lab]:
    lab_id = unique_id()
    pids: list[int] = []
    try:
        made = labs.up(MANIFESTS, root, lab_id)
        pids = holder_pids(made)
        yield made
    finally:
        labs.down(root, lab_id)
    assert_nothing_left(root, lab_id, pids)


def carriers(lab: Lab, node: str) -> dict[str, bool]:
    """Each of the node's lab interfaces: whether it has carrier (LOWER_UP), as `ip` shows it inside."""
    found = {i.name: i.lower_up for i in observe_addresses(RUNNER, lab.node(node).namespace).interfaces}
    return {net: found[ifs[node]] for net, ifs in INTERFACES.items()}


def hears(lab: Lab, listener: str, sender: str, network: str) -> bool:
    """Whether UDP datagrams that `sender` sends to `listener`'s address on `network` arrive (one
    way: no answer is needed, unlike a ping)."""
    address = peer_address(sender, network)
    python = [sys.executable, "-I", "-c"]
    argv = [
        "ip",
        "netns",
        "exec",
        lab.node(listener).namespace,
        *python,
        RECEIVER,
        address,
        str(UDP_PORT),
        "3",
    ]
    receiver = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        send = ["ip", "netns", "exec", lab.node(sender).namespace, *python, SENDER, address, str(UDP_PORT)]
        subprocess.run(send, check=True, timeout=10)
        out, _ = receiver.communicate(timeout=10)
    finally:
        receiver.kill()
        receiver.wait()
    return out.strip() == "heard"


def test_a_partition_is_cut_at_the_switch_and_the_nodes_keep_their_carrier(lab: Lab) -> None:
    assert list_namespaces(RUNNER, name_prefix(lab.id)) == [f"rcl-{lab.id}-{s}" for s in ("1", "2", "sw")]
    assert load_inventory(lab.dir).switch == f"rcl-{lab.id}-sw"
    labs.partition(lab, NETWORK)
    assert not reaches(lab, N1, NETWORK) and not reaches(lab, N2, NETWORK)
    assert carriers(lab, N1) == carriers(lab, N2) == {net: True for net in INTERFACES}
    ports = {(p.network, p.node): p for p in status(lab).switch.ports}  # type: ignore[union-attr]
    assert ports[(NETWORK, N1)].state == "disabled" and ports[(NETWORK, N1)].carrier
    assert ports[("public", N1)].state == "forwarding"
    labs.heal(lab, NETWORK)
    assert comes_back(lab, N1, NETWORK) and comes_back(lab, N2, NETWORK)


def test_a_one_way_partition_drops_only_what_the_node_sends(lab: Lab) -> None:
    assert hears(lab, N2, N1, NETWORK) and hears(lab, N1, N2, NETWORK)
    assert labs.partition(lab, NETWORK, sender=N1) == [NETWORK]
    assert hears(lab, N1, N2, NETWORK)  # N1 still hears N2
    assert not hears(lab, N2, N1, NETWORK)  # N2 no longer hears N1
    assert hears(lab, N2, N1, "public")  # the other network is untouched
    assert carriers(lab, N1) == {net: True for net in INTERFACES}
    assert "one way: private: what centos5s1 sends is dropped" in render_status(status(lab))
    labs.heal(lab, NETWORK)
    assert hears(lab, N2, N1, NETWORK)
    assert load_inventory(lab.dir).one_way == []


def _rtt_ms(lab: Lab, node: str, network: str) -> float:
    """The average round trip of a few pings from `node` to its peer on `network`, in ms."""
    argv = ["ip", "netns", "exec", lab.node(node).namespace, "ping", "-n", "-q", "-c", "5", "-i", "0.2"]
    out = subprocess.run([*argv, peer_address(node, network)], capture_output=True, text=True, check=False)
    summary = out.stdout.strip().splitlines()[-1]  # rtt min/avg/max/mdev = a/b/c/d ms
    return float(summary.split("=")[1].split("/")[1])


def _has_netem() -> bool:
    probe = "zzlabnetem" + unique_id()[1:]
    RUNNER.run(["ip", "netns", "add", probe])
    try:
        return RUNNER.run(
            ["tc", "-n", probe, "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"]
        ).ok
    finally:
        RUNNER.run(["ip", "netns", "del", probe])


def test_loss_and_delay_on_a_link(lab: Lab) -> None:
    faults.link_fault(lab, N2, NETWORK, 100.0, 0.0, 0.0)
    assert not reaches(lab, N1, NETWORK)  # what goes toward N2 is lost
    assert comes_back(lab, N1, "public")
    assert faults.clear_link_faults(lab, N2, None) == 1
    assert comes_back(lab, N1, NETWORK)
    if _has_netem():
        faults.link_fault(lab, N2, NETWORK, 0.0, 50.0, 0.0)
        assert 45 <= _rtt_ms(lab, N1, NETWORK) <= 200
        faults.clear_link_faults(lab, N2, NETWORK)
        assert _rtt_ms(lab, N1, NETWORK) < 20
    else:
        # This kernel cannot delay: refused in so many words, and nothing is left armed.
        with pytest.raises(LabError, match="no netem"):
            faults.link_fault(lab, N2, NETWORK, 5.0, 50.0, 10.0)
        assert load_inventory(lab.dir).link_faults == []
        assert comes_back(lab, N1, NETWORK)


def test_a_power_off_leaves_the_survivors_carrier_up(lab: Lab) -> None:
    nodes.kill(lab, N2)
    assert lab.node(N2).namespace not in list_namespaces(RUNNER, name_prefix(lab.id))
    assert carriers(lab, N1) == {net: True for net in INTERFACES}
    assert not any(reaches(lab, N1, net) for net in INTERFACES)
    nodes.start(lab, N2)
    assert all(comes_back(lab, n, net) for n in (N1, N2) for net in INTERFACES)


def test_a_partition_holds_across_a_power_cycle(lab: Lab) -> None:
    labs.partition(lab, NETWORK)
    nodes.kill(lab, N1)
    nodes.start(lab, N1)
    assert not reaches(lab, N1, NETWORK) and comes_back(lab, N1, "public")
    labs.heal(lab)
    assert comes_back(lab, N1, NETWORK)


def test_status_shows_the_server_the_replication_and_the_switch(lab: Lab, root: Path) -> None:
    seen = status(lab)
    assert seen.server is not None and seen.server.alive and seen.server.pid == lab.inventory.server_pid
    assert seen.server.socket_present
    for node in seen.nodes:
        assert len(node.replication.pids) == 1, node
    text = render_status(seen)
    assert f"stand-in server: running, pid {lab.inventory.server_pid}, socket {lab.dir}/standin.sock" in text
    assert "replication: pid " in text and f"switch: namespace rcl-{lab.id}-sw" in text
    nodes.kill(lab, N2)
    after = status(lab)
    assert after.nodes[1].replication.pids == [] and "(MISSING)" not in render_status(after)


def cli(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(lab_group, ["--root", str(root), *args])
    assert not result.exception or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_cli_partition_from_and_fault_net(lab: Lab, root: Path) -> None:
    assert cli(root, "partition", "--from", N2, NETWORK) == (
        0,
        f"partitioned: {NETWORK} (one way: what {N2} sends is dropped)\n",
    )
    assert cli(root, "heal", NETWORK) == (0, f"healed: {NETWORK}\n")
    code, out = cli(root, "fault", "net", N1, "--loss", "100%", NETWORK)
    assert code == 0 and f"armed: {NETWORK} toward {N1}: loss 100%" in out
    assert not reaches(lab, N2, NETWORK)
    assert cli(root, "fault", "net", N1, "--clear") == (0, "cleared 1 link fault(s)\n")
    assert comes_back(lab, N2, NETWORK)
    code, out = cli(root, "fault", "net", N1, "--loss", "lots")
    assert code == 1 and "give a percentage" in out


CRASHING_UP = """
import os, sys
from pathlib import Path
from reconciler.lab import lab
from reconciler.observe.runner import SubprocessRunner

class Crashing(SubprocessRunner):
    def run(self, argv, timeout=10.0):
        result = super().run(argv, timeout)
        if list(argv[:3]) == ["ip", "netns", "add"] and argv[3].endswith("-sw"):
            os._exit(9)  # a crash right after the switch is made: no rollback, no finally
        return result

lab.up(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], Crashing())
"""


def test_down_after_a_crash_of_up_removes_the_switch(root: Path) -> None:
    lab_id = unique_id()
    try:
        args = [str(MANIFESTS), str(root), lab_id]
        crashed = subprocess.run([sys.executable, "-c", CRASHING_UP, *args], check=False, timeout=60)
        assert crashed.returncode == 9
        assert list_namespaces(RUNNER, name_prefix(lab_id)) == [f"rcl-{lab_id}-sw"]
        assert load_inventory(root / lab_id).switch == f"rcl-{lab_id}-sw"
        removed = labs.down(root, lab_id)
        assert f"namespace rcl-{lab_id}-sw" in removed
        assert_nothing_left(root, lab_id, [])
    finally:
        labs.down(root, lab_id)
