"""`reconciler apply` for real inside the lab: real namespaces, real processes, the simulator
behind the stand-ins in the lab's bin/.

The seed's xapache is applied on both nodes by `lab exec NODE -- reconciler apply`, each a real
subprocess in the node's namespaces, until both converge. These tests need root (CI runs as root)
and are never skipped; every lab lives in a temporary root and is removed by `down` in a
`finally`. A killed process may stay a zombie until init reaps it: "gone" means absent or zombie.
"""

import json
import os
import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.lab import lab as labs
from reconciler.lab import node as nodes
from reconciler.lab.guests import is_guest
from reconciler.lab.inventory import Lab
from reconciler.lab.network import list_namespaces, name_prefix, observe_addresses, ping
from reconciler.lab.sim.state import Cluster
from reconciler.lab.simstate import GUEST_SHUTDOWN, mountinfo_file, proc_drbd_file, sim_dir
from reconciler.observe.drbd import parse_proc_drbd_84
from reconciler.observe.drbd.states import ConnectionState, Role
from reconciler.observe.lvm_json import parse_fullreport_json
from tests.conftest import REPO
from tests.lab.helpers import gone, wait_until_gone
from tests.lab.inlab import CONVERGED, RUNNER, apply_in, cli, in_node, journal, lab_up

MANIFESTS = REPO / "manifests"
N1, N2 = "centos5s1", "centos5s2"
NODES = (N1, N2)
RESOURCE = "xapache-lv01"
DOMAIN = "apache"
MAX_ROUNDS = 4


@pytest.fixture(scope="module", autouse=True)
def _need_root() -> None:
    # Not a skip: CI runs as root, and a lab test that silently did not run proves nothing.
    assert os.geteuid() == 0, "the lab tests need root (network namespaces)"


def apply(root: Path, lab_id: str, node: str) -> str:
    """One `reconciler apply` inside `node`, a real process there; its output (it must succeed)."""
    result = apply_in(root, lab_id, node, MANIFESTS)
    assert result.returncode == 0, f"apply on {node} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def converge(root: Path, lab_id: str) -> int:
    """Apply on each node in turn until both say converged; the number of turns it took."""
    for number in range(1, MAX_ROUNDS + 1):
        outputs = [apply(root, lab_id, node) for node in NODES]
        if all(CONVERGED in out for out in outputs):
            return number
    pytest.fail(f"not converged after {MAX_ROUNDS} rounds on each node")


def journal_dos(lab: Lab, node: str) -> int:
    """How many commands `apply` ran as an action's `do` on `node`, by its journal."""
    return sum(1 for r in journal(lab, node) if r.get("type") == "command" and r.get("phase") == "do")


def same_namespace(pid: int, namespace: str) -> bool:
    theirs, ours = os.stat(f"/proc/{pid}/ns/net"), os.stat(f"/run/netns/{namespace}")
    return (theirs.st_dev, theirs.st_ino) == (ours.st_dev, ours.st_ino)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "labs"


@pytest.fixture
def lab(root: Path, drbd_version: str) -> Iterator[Lab]:
    with lab_up(root, "a" + secrets.token_hex(3), MANIFESTS, [drbd_version]) as made:
        yield made


def _check_storage(lab: Lab, root: Path, drbd_version: str) -> None:
    cluster = Cluster.load(sim_dir(lab.dir))
    roles = {n: cluster.node(n).drbd.resource(RESOURCE) for n in NODES}
    assert roles[N1] is not None and roles[N1].role is Role.PRIMARY
    assert roles[N2] is not None and roles[N2].role is Role.SECONDARY
    assert all(r is not None and r.connection is ConnectionState.CONNECTED for r in roles.values())
    for node in NODES:
        dstate = in_node(root, lab.id, node, "drbdadm", "dstate", RESOURCE)
        assert dstate.stdout.strip() == "UpToDate/UpToDate", (node, dstate.stdout, dstate.stderr)
        assert proc_drbd_file(lab.dir, node).read_text().startswith(f"version: {drbd_version}.")
        # apply wrote the resource file into the node's own /etc/drbd.d, not the host's.
        res = nodes.private_dir(lab, node, "/etc/drbd.d") / f"{RESOURCE}.res"
        assert f'on "{node}"' in res.read_text() or f"on {node}" in res.read_text()
    assert not Path(f"/etc/drbd.d/{RESOURCE}.res").exists()
    mounted = cluster.node(N1).mount_at("/virt")
    assert mounted is not None and mounted.source == "/dev/drbd0"
    assert " /virt " in mountinfo_file(lab.dir, N1).read_text()
    assert cluster.node(N2).mount_at("/virt") is None
    assert " /virt " not in mountinfo_file(lab.dir, N2).read_text()
    assert not Path("/virt").exists()  # the mount point is the simulated node's, not the host's


def _check_real_lvm(lab: Lab, root: Path) -> None:
    """LVM is lvm2's own: each node sees its VG on its own loop device, shown as /dev/hda."""
    assert not (lab.bin_dir / "lvcreate").exists()
    loops = {d.node: d.loop for d in lab.inventory.disks}
    assert set(loops) == set(NODES) and None not in loops.values() and len(set(loops.values())) == 2
    for node in NODES:
        report = in_node(root, lab.id, node, "lvm", "fullreport", "--reportformat", "json", "--units", "b")
        assert report.returncode == 0, report.stderr
        full = parse_fullreport_json(report.stdout)
        assert [(pv.name, pv.vg) for pv in full.pvs] == [("/dev/hda", "virtvg")]
        assert [(lv.vg, lv.name, lv.size) for lv in full.lvs] == [("virtvg", "lv01", 8 * 1024**3)]
        device = in_node(root, lab.id, node, "stat", "-c", "%t:%T", "/dev/hda").stdout.strip()
        loop = os.stat(str(loops[node])).st_rdev
        assert device == f"{os.major(loop):x}:{os.minor(loop):x}"
    assert not Path("/dev/hda").exists()  # the node's own /dev, not the host's


def _connection(lab: Lab, node: str) -> str:
    """The connection state as the node's DRBD shows it: `drbdsetup status` of 9; /proc/drbd
    of 8.4 (WFConnection is 9's Connecting), current as the lab keeps it."""
    status = in_node(lab.root, lab.id, node, "drbdsetup", "status", "--json")
    if status.returncode == 0:
        return str(json.loads(status.stdout)[0]["connections"][0]["connection-state"])
    assert "--json" in status.stderr, status.stderr  # drbdsetup-84 has no --json
    (res,) = parse_proc_drbd_84(proc_drbd_file(lab.dir, node).read_text()).resources
    state = res.connections[0].connection_state
    return "Connecting" if state is ConnectionState.WF_CONNECTION else state.value


def _wait_connection(lab: Lab, node: str, wanted: str) -> None:
    seen = ""
    for _ in range(100):
        seen = _connection(lab, node)
        if seen == wanted:
            return
        time.sleep(0.2)
    pytest.fail(f"DRBD on {node} stayed {seen}, never {wanted}")


def _replication_follows_the_real_link(lab: Lab, root: Path) -> None:
    """DRBD's connection is a real TCP connection over the veth: a link taken down inside a node
    (the lab is not told) disconnects both sides; brought up again, they reconnect."""
    interface = next(link.end(N2).interface for link in lab.inventory.plan.links if link.network == "public")
    assert _connection(lab, N1) == "Connected"
    down = in_node(root, lab.id, N2, "ip", "link", "set", interface, "down")
    assert down.returncode == 0, down.stderr
    _wait_connection(lab, N1, "Connecting")
    assert _connection(lab, N2) == "Connecting"
    up = in_node(root, lab.id, N2, "ip", "link", "set", interface, "up")
    assert up.returncode == 0, up.stderr
    _wait_connection(lab, N1, "Connected")
    assert in_node(root, lab.id, N2, "drbdadm", "dstate", RESOURCE).stdout.strip() == "UpToDate/UpToDate"


def _check_guest(lab: Lab) -> int:
    cluster = Cluster.load(sim_dir(lab.dir))
    domain = cluster.node(N1).xen.domain(DOMAIN)
    assert domain is not None and domain.pid is not None
    assert cluster.node(N2).xen.domain(DOMAIN) is None
    assert is_guest(domain.pid, lab.id, N1, DOMAIN)
    namespace = lab.node(N1).namespace
    assert same_namespace(domain.pid, namespace)
    assert domain.pid in nodes.namespace_pids(RUNNER, namespace)
    return domain.pid


def _check_network(lab: Lab, root: Path) -> None:
    """Addresses and links are the kernel's, in each node's namespace; `ip` is not a stand-in."""
    assert not (lab.bin_dir / "ip").exists() and not (lab.bin_dir / "ping").exists()
    for node in NODES:
        namespace = lab.node(node).namespace
        addresses = {
            str(a.ip.ip) for i in observe_addresses(RUNNER, namespace).interfaces for a in i.addresses
        }
        mine = {str(e.address.ip) for link in lab.inventory.plan.links for e in link.ends if e.node == node}
        assert mine <= addresses
        peer = next(e for e in lab.inventory.plan.links[0].ends if e.node != node)
        assert ping(RUNNER, namespace, str(peer.address.ip))
        assert in_node(root, lab.id, node, "hostname").stdout.strip() == node


def _second_apply_runs_nothing(lab: Lab, root: Path) -> None:
    """Converged means a second apply changes nothing: no round, no `do` in the journal."""
    before = {node: journal_dos(lab, node) for node in NODES}
    assert all(before.values())
    for node in NODES:
        out = apply(root, lab.id, node)
        assert CONVERGED in out and "--- round" not in out, out
    assert {node: journal_dos(lab, node) for node in NODES} == before


def _crashed_guest_is_restarted(lab: Lab, root: Path, pid: int) -> int:
    """A guest that dies is a domain gone: `xm list` no longer shows it, and apply starts it again."""
    os.kill(pid, signal.SIGKILL)  # inside the lab's namespace: ours to kill
    assert wait_until_gone(pid)
    listed = in_node(root, lab.id, N1, "xm", "list")
    assert listed.returncode == 0 and DOMAIN not in listed.stdout, listed.stdout
    out = apply(root, lab.id, N1)
    assert "start-domain: done" in out and CONVERGED in out, out
    again = _check_guest(lab)
    assert again != pid
    return again


def _shutdown_waits_for_the_guest(lab: Lab, root: Path, pid: int) -> None:
    """`xm shutdown -w` asks the guest (SIGTERM), waits for it in real time; then it is gone."""
    started = time.monotonic()
    stop = in_node(root, lab.id, N1, "xm", "shutdown", "-w", DOMAIN)
    assert stop.returncode == 0, stop.stderr
    assert time.monotonic() - started >= GUEST_SHUTDOWN
    assert gone(pid)
    assert DOMAIN not in in_node(root, lab.id, N1, "xm", "list").stdout


def test_apply_converges_the_seed_on_both_nodes(lab: Lab, root: Path, drbd_version: str) -> None:
    # Two rounds, or three when the second node's first apply ends while its DRBD is still
    # Connecting: the connection is real TCP between the nodes, up a few tenths of a second after
    # the resource file is written, and an apply whose stand-ins are served takes about as long.
    assert converge(root, lab.id) <= 3
    _check_storage(lab, root, drbd_version)
    _check_real_lvm(lab, root)
    pid = _check_guest(lab)
    _check_network(lab, root)
    status = cli(root, "status", "--id", lab.id)
    assert status.returncode == 0, status.stderr
    assert f"xapache      {N1}  STARTED  {N1}:Primary {N2}:Secondary" in status.stdout
    assert f"PID {pid}" in status.stdout
    _second_apply_runs_nothing(lab, root)
    assert _check_guest(lab) == pid
    _replication_follows_the_real_link(lab, root)

    pid = _crashed_guest_is_restarted(lab, root, pid)
    _shutdown_waits_for_the_guest(lab, root, pid)
    apply(root, lab.id, N1)
    pid = _check_guest(lab)

    # Powering the node off kills its guest; the simulator forgets the domain and DRBD there.
    killed = cli(root, "kill", "--id", lab.id, N1)
    assert killed.returncode == 0, killed.stderr
    assert wait_until_gone(pid)
    cluster = Cluster.load(sim_dir(lab.dir))
    assert not cluster.node(N1).powered and cluster.node(N1).xen.domains == []
    assert not proc_drbd_file(lab.dir, N1).exists()


def test_up_makes_a_missing_mount_point_and_down_removes_it(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "host" / "etc-private"
    monkeypatch.setattr(nodes, "PRIVATE_DIRS", (*nodes.PRIVATE_DIRS, str(missing)))
    lab_id = "m" + secrets.token_hex(3)
    try:
        made = labs.up(MANIFESTS, root, lab_id)
        assert made.inventory.host_dirs[-2:] == [str(missing.parent), str(missing)]
        (nodes.private_dir(made, N1, str(missing)) / "mine").write_text("n1\n")
        seen = nodes.exec_in(made, N1, ["cat", str(missing / "mine")])
        assert seen.stdout == "n1\n"
        assert not nodes.exec_in(made, N2, ["cat", str(missing / "mine")]).ok
        assert not (missing / "mine").exists()  # the host's directory stays empty
    finally:
        removed = labs.down(root, lab_id)
    assert f"host directory {missing}" in removed
    assert not missing.parent.exists()
    assert list_namespaces(RUNNER, name_prefix(lab_id)) == []
