"""The lab's network half, for real: namespaces, veth links, holders, partitions and power.

These tests need root (CI runs as root) and are never skipped. Every lab lives in a temporary
root with a unique id, and is removed by `down` in a `finally`, failed test or not. All traffic
runs inside the lab's namespaces. A killed holder may stay a zombie until init reaps it; a
zombie runs nothing and holds no namespace, so "gone" means absent or a zombie.
"""

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from ipaddress import ip_interface
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.lab import lab as labs
from reconciler.lab import node as nodes
from reconciler.lab.commands import lab as lab_group
from reconciler.lab.errors import CommandFailed, LabError
from reconciler.lab.inventory import INVENTORY_FILE, Lab, load_inventory, save_inventory
from reconciler.lab.network import host_links, list_namespaces, name_prefix, observe_addresses, ping
from reconciler.manifest import load_manifests
from reconciler.observe.ip_json import parse_addr_json
from reconciler.observe.runner import DEFAULT_TIMEOUT, CommandResult, Outcome, SubprocessRunner
from tests.conftest import REPO
from tests.lab.helpers import gone, wait_until_gone

MANIFESTS = REPO / "manifests"
CLUSTER = load_manifests([MANIFESTS / "cluster.yaml"]).cluster.document
N1, N2 = (n.name for n in CLUSTER.spec.nodes)
ADDRESSES = {n.name: {net: str(a) for net, a in n.addresses.items()} for n in CLUSTER.spec.nodes}
INTERFACES = {net.name: net.interfaces for net in CLUSTER.spec.networks}
PREFIXES = {net.name: net.subnet.prefixlen for net in CLUSTER.spec.networks}
RUNNER = SubprocessRunner()


def unique_id() -> str:
    return "t" + secrets.token_hex(3)


def assert_nothing_left(root: Path, lab_id: str, pids: Sequence[int]) -> None:
    prefix = name_prefix(lab_id)
    listed = RUNNER.run(["ip", "netns", "list"]).stdout
    assert prefix not in listed
    assert host_links(RUNNER, prefix) == []
    assert not (root / lab_id).exists()
    assert all(wait_until_gone(pid) for pid in pids), [p for p in pids if not gone(p)]


def peer_address(node: str, network: str) -> str:
    return ADDRESSES[N2 if node == N1 else N1][network]


def reaches(lab: Lab, node: str, network: str) -> bool:
    """One ping from inside `node` to its peer's address on `network`."""
    return ping(lab.runner, lab.node(node).namespace, peer_address(node, network))


def comes_back(lab: Lab, node: str, network: str, within: float = 10.0) -> bool:
    """Pings until one gets through, for at most `within` seconds: after a cut or a loss is lifted,
    the first ping may still wait on neighbour discovery, which the cut let lapse."""
    deadline = time.monotonic() + within
    while not reaches(lab, node, network):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def holder_pids(lab: Lab) -> list[int]:
    return [r.holder_pid for r in lab.inventory.nodes if r.holder_pid is not None]


@pytest.fixture(scope="module", autouse=True)
def _need_root() -> None:
    # Not a skip: CI runs as root, and a lab test that silently did not run proves nothing.
    assert os.geteuid() == 0, "the lab tests need root (network namespaces)"


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


def test_up_gives_each_node_its_namespace_interfaces_and_addresses(lab: Lab, root: Path) -> None:
    assert list_namespaces(RUNNER, name_prefix(lab.id)) == [f"rcl-{lab.id}-{s}" for s in ("1", "2", "sw")]
    for record in lab.inventory.nodes:
        observed = {i.name: i for i in observe_addresses(RUNNER, record.namespace).interfaces}
        assert observed["lo"].admin_up
        for network, interfaces in INTERFACES.items():
            interface = observed[interfaces[record.name]]
            assert interface.admin_up and interface.lower_up
            expected = ip_interface(f"{ADDRESSES[record.name][network]}/{PREFIXES[network]}")
            assert expected in [a.ip for a in interface.addresses]
        assert record.interfaces == {net: ifs[record.name] for net, ifs in INTERFACES.items()}
        assert nodes.holder_alive(record.holder_pid, lab.id, record.name)
        assert lab.state_dir(record.name).is_dir()
    saved = load_inventory(root / lab.id)
    assert saved.complete and saved == lab.inventory
    # The stand-ins are there; ip and ping stay the real ones (links and addresses are real).
    assert (lab.bin_dir / "drbdadm").is_file() and not (lab.bin_dir / "ip").exists()
    assert not (lab.bin_dir / "ping").exists()
    assert host_links(RUNNER, name_prefix(lab.id)) == []  # no end ever passes through the host


def test_each_node_reaches_the_other_on_every_network(lab: Lab) -> None:
    for node in (N1, N2):
        for network in INTERFACES:
            assert reaches(lab, node, network), (node, network)


def test_exec_runs_in_the_nodes_namespaces_with_the_lab_environment(lab: Lab) -> None:
    result = nodes.exec_in(lab, N1, ["ip", "-j", "addr"])
    assert result.ok, result.describe()
    addresses = {str(a.ip.ip) for i in parse_addr_json(result.stdout).interfaces for a in i.addresses}
    assert set(ADDRESSES[N1].values()) <= addresses
    assert not set(ADDRESSES[N2].values()) & addresses
    mnt = nodes.exec_in(lab, N1, ["readlink", "/proc/self/ns/mnt"]).stdout.strip()
    assert mnt.startswith("mnt:") and mnt != os.readlink("/proc/self/ns/mnt")
    assert mnt == os.readlink(f"/proc/{lab.node(N1).holder_pid}/ns/mnt")
    assert mnt != nodes.exec_in(lab, N2, ["readlink", "/proc/self/ns/mnt"]).stdout.strip()
    env = nodes.exec_in(lab, N2, ["env"], env={"EXTRA": "1"}).stdout.splitlines()
    assert f"PATH={lab.bin_dir}{os.pathsep}" in "\n".join(env)
    assert {f"RECONCILER_LAB={lab.id}", f"RECONCILER_LAB_NODE={N2}", "EXTRA=1"} <= set(env)
    assert f"RECONCILER_STATE_DIR={lab.state_dir(N2)}" in env
    failed = nodes.exec_in(lab, N1, ["sh", "-c", "exit 3"])
    assert failed.returncode == 3


def test_partition_cuts_one_network_and_heal_restores_it(lab: Lab) -> None:
    assert labs.partition(lab, "private") == ["private"]
    assert not reaches(lab, N1, "private") and not reaches(lab, N2, "private")
    assert reaches(lab, N1, "public") and reaches(lab, N2, "public")
    assert load_inventory(lab.dir).partitioned == ["private"]
    assert labs.heal(lab, "private") == ["private"]
    assert reaches(lab, N1, "private") and reaches(lab, N2, "private")
    assert labs.partition(lab) == list(INTERFACES)
    assert not any(reaches(lab, n, net) for n in (N1, N2) for net in INTERFACES)
    labs.heal(lab)
    assert all(reaches(lab, n, net) for n in (N1, N2) for net in INTERFACES)
    with pytest.raises(LabError, match="no network 'nosuch'"):
        labs.partition(lab, "nosuch")


def _sleeper(lab: Lab, node: str) -> "subprocess.Popen[bytes]":
    """A process running in `node`, as an agent would."""
    argv = nodes.exec_argv(lab, node, ["sleep", "300"])
    return subprocess.Popen(argv, env=nodes.node_env(lab, node), stdin=subprocess.DEVNULL)


def test_kill_powers_a_node_off_and_start_brings_it_back(lab: Lab) -> None:
    holder = lab.node(N2).holder_pid
    assert holder is not None
    sleeper = _sleeper(lab, N2)
    try:
        time.sleep(0.2)
        assert sleeper.poll() is None
        nodes.kill(lab, N2)
        assert sleeper.wait(timeout=5) == -9
    finally:
        sleeper.kill()
        sleeper.wait()
    assert wait_until_gone(holder)
    # Powered off, the node has no network stack at all: its namespace (and NICs) are gone.
    assert lab.node(N2).namespace not in list_namespaces(RUNNER, name_prefix(lab.id))
    assert not any(reaches(lab, N1, net) for net in INTERFACES)
    with pytest.raises(LabError, match="powered off"):
        nodes.exec_in(lab, N2, ["true"])
    assert nodes.start(lab, N2)
    assert not nodes.start(lab, N2)  # already on
    assert lab.node(N2).holder_pid != holder
    assert all(reaches(lab, n, net) for n in (N1, N2) for net in INTERFACES)
    assert nodes.exec_in(lab, N2, ["true"]).ok


def test_start_keeps_a_partitioned_network_down(lab: Lab) -> None:
    labs.partition(lab, "private")
    nodes.kill(lab, N1)
    labs.heal(lab, "public")  # N1 is off: only N2's end comes up
    assert not reaches(lab, N2, "public")
    nodes.start(lab, N1)
    assert reaches(lab, N1, "public") and not reaches(lab, N1, "private")
    labs.heal(lab)
    assert reaches(lab, N1, "private")


def test_down_leaves_nothing(root: Path) -> None:
    lab_id = unique_id()
    try:
        made = labs.up(MANIFESTS, root, lab_id)
        pids = holder_pids(made)
        sleeper = _sleeper(made, N1)
        pids.append(sleeper.pid)
        removed = labs.down(root, lab_id)
        assert f"namespace rcl-{lab_id}-1" in removed
        sleeper.wait(timeout=5)
        assert_nothing_left(root, lab_id, pids)
        assert labs.down(root, lab_id) == []  # again: nothing to do, no error
    finally:
        labs.down(root, lab_id)


def test_down_finds_what_a_partial_inventory_forgot(root: Path) -> None:
    lab_id = unique_id()
    try:
        made = labs.up(MANIFESTS, root, lab_id)
        pids = holder_pids(made)
        # As if `up` had crashed before recording the second node and the links.
        partial = made.inventory.model_copy(deep=True)
        partial.nodes = partial.nodes[:1]
        partial.switch = None
        partial.complete = False
        save_inventory(root / lab_id, partial)
        labs.down(root, lab_id)
        assert_nothing_left(root, lab_id, pids)
    finally:
        labs.down(root, lab_id)


class _FailingRunner(SubprocessRunner):
    """Fails the first `ip ... addr add`, as `ip` would on a bad address."""

    def run(self, argv: Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> CommandResult:
        if "addr" in argv and "add" in argv:
            return CommandResult(
                argv=tuple(argv), outcome=Outcome.FAILED, returncode=2, stderr="Error: boom."
            )
        return super().run(argv, timeout)


def test_a_failed_up_removes_what_it_made(root: Path) -> None:
    lab_id = unique_id()
    try:
        with pytest.raises(
            CommandFailed, match=r"'ip -n rcl-\w+-1 addr add .*' failed \(exit 2\): Error: boom."
        ):
            labs.up(MANIFESTS, root, lab_id, _FailingRunner())
        assert_nothing_left(root, lab_id, [])
    finally:
        labs.down(root, lab_id)


def test_down_kills_a_holder_whose_namespace_was_deleted(lab: Lab, root: Path) -> None:
    holder = lab.node(N1).holder_pid
    assert holder is not None
    RUNNER.run(["ip", "netns", "del", lab.node(N1).namespace])  # our own namespace, behind the lab's back
    assert not gone(holder)
    labs.down(root, lab.id)
    assert wait_until_gone(holder)


def test_down_leaves_a_directory_that_is_not_a_labs_alone(root: Path) -> None:
    # As with `--root /` and `--id etc`: a directory named like a lab id, without an inventory.
    stranger = root / "etc"
    stranger.mkdir(parents=True)
    (stranger / "passwd").write_text("keep me\n")
    with pytest.raises(LabError, match="not a lab's, left alone"):
        labs.down(root, "etc")
    assert (stranger / "passwd").read_text() == "keep me\n"
    assert labs.down_all(root) == {}


def test_up_refuses_an_existing_lab(lab: Lab, root: Path) -> None:
    with pytest.raises(LabError, match="exists already"):
        labs.up(MANIFESTS, root, lab.id)
    assert nodes.holder_alive(lab.node(N1).holder_pid, lab.id, N1)


# --- the command line --------------------------------------------------------------------------


def cli(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(lab_group, ["--root", str(root), *args])
    assert not result.exception or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def cli_process(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The `lab` group in a process of its own, as `reconciler lab` will run once registered."""
    script = "import sys; from reconciler.lab.commands import lab; lab(sys.argv[1:], prog_name='lab')"
    argv = [sys.executable, "-c", script, "--root", str(root), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def test_cli_up_status_partition_heal_kill_start_down(root: Path) -> None:
    lab_id = unique_id()
    try:
        code, out = cli(root, "up", "--manifests", str(MANIFESTS), "--id", lab_id)
        assert code == 0 and f"lab {lab_id} is up" in out
        code, out = cli(root, "status", "--json")
        observed = json.loads(out)
        assert code == 0 and all(link["reachable"] for n in observed["nodes"] for link in n["links"])
        assert cli(root, "partition", "public") == (0, "partitioned: public\n")
        code, out = cli(root, "status")
        assert code == 0 and "UNREACHABLE [partitioned]" in out
        assert cli(root, "heal")[0] == 0
        assert cli(root, "kill", N1) == (0, f"{N1} is off\n")
        code, out = cli(root, "status", "--json")
        first = json.loads(out)["nodes"][0]
        assert not first["holder_alive"] and not any(link["admin_up"] for link in first["links"])
        assert cli(root, "start", N1) == (0, f"{N1} is on\n")
        code, out = cli(root, "down", "--id", lab_id)
        assert code == 0 and f"namespace rcl-{lab_id}-2" in out
        assert_nothing_left(root, lab_id, [])
    finally:
        labs.down(root, lab_id)


def test_cli_exec_runs_in_the_node_and_exits_as_the_command(lab: Lab, root: Path) -> None:
    shown = cli_process(root, "exec", N1, "--", "ip", "-j", "addr")
    assert shown.returncode == 0, shown.stderr
    addresses = {str(a.ip.ip) for i in parse_addr_json(shown.stdout).interfaces for a in i.addresses}
    assert set(ADDRESSES[N1].values()) <= addresses
    mnt = cli_process(root, "exec", N2, "readlink", "/proc/self/ns/mnt")
    assert mnt.stdout.strip() not in ("", os.readlink("/proc/self/ns/mnt"))
    assert cli_process(root, "exec", N1, "--", "sh", "-c", "exit 7").returncode == 7
    unknown = cli_process(root, "exec", "nosuch", "--", "true")
    assert (
        unknown.returncode == 1 and "no node 'nosuch'" in unknown.stderr and "Traceback" not in unknown.stderr
    )


def test_cli_errors_are_one_message_and_exit_1(lab: Lab, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli(root, "status", "--id", "nolab") == (
        1,
        f"lab: no lab at {root / 'nolab'} ({INVENTORY_FILE} is missing)\n",
    )
    code, out = cli(root / "empty", "status")
    assert code == 1 and "no lab under" in out
    RUNNER.run(["ip", "netns", "del", lab.inventory.plan.switch])  # the switch, behind the lab's back
    code, out = cli(root, "partition")
    assert (
        code == 1
        and f"'bridge -n rcl-{lab.id}-sw link set dev" in out
        and "Cannot open network namespace" in out
    )
    assert "Traceback" not in out
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    code, out = cli(root, "status")
    assert code == 1 and "needs root" in out


def test_cli_down_all_removes_every_lab_of_the_root(root: Path) -> None:
    ids = [unique_id(), unique_id()]
    try:
        for lab_id in ids:
            assert cli(root, "up", "--id", lab_id)[0] == 0
        code, out = cli(root, "status")
        assert code == 1 and "choose one with --id" in out
        code, out = cli(root, "down", "--all")
        assert code == 0 and all(f"lab {i}: removed" in out for i in ids)
        for lab_id in ids:
            assert_nothing_left(root, lab_id, [])
    finally:
        for lab_id in ids:
            labs.down(root, lab_id)
