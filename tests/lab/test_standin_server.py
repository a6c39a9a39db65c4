"""The lab's stand-in server with real processes: a lab made by `lab up`, stand-ins called from
inside a node (served, and fast), from the host (refused), claiming the other node (refused);
a server killed with SIGKILL (the clients say so), and `down` removing the server and its socket,
also when the inventory lost its PID. Then the two things it relies on without a lab: threads
exclude each other on the simulator's lock, a socket path too long for sun_path still works, a
caller that goes is seen to, and the stamp that keeps a node's LVM report changes with lvm2's
commits.

Needs root (CI runs as root); never skipped.
"""

import os
import secrets
import signal
import socket
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from reconciler.lab import disks, lvmcache, standin_server, standin_service
from reconciler.lab import node as nodes
from reconciler.lab.inventory import Lab
from reconciler.lab.sim.state import locked
from reconciler.lab.standin_client import NOT_RUNNING, _exchange, encode_reply
from tests.conftest import REPO
from tests.lab.helpers import gone, wait_until_gone
from tests.lab.inlab import in_node, lab_up

MANIFESTS = REPO / "manifests"
N1, N2 = "centos5s1", "centos5s2"
CALLS = 10
# Ten calls took ~4.5 s when each stand-in imported the simulator; served, ~0.3 s.
CALLS_WITHIN = 2.0


@pytest.fixture(scope="module", autouse=True)
def _need_root() -> None:
    assert os.geteuid() == 0, "the lab tests need root (network namespaces)"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "labs"


def _server(lab: Lab) -> int:
    pid = lab.inventory.server_pid
    assert pid is not None and standin_server.is_server(pid, lab.id)
    assert standin_server.find_servers(lab.id) == [pid]
    return pid


def _check_socket(lab: Lab, server: int) -> None:
    """The socket is root's alone, and the server runs on the host (in no node's namespace)."""
    mode = os.stat(standin_server.socket_path(lab.dir))
    assert stat.S_ISSOCK(mode.st_mode) and stat.S_IMODE(mode.st_mode) == 0o600 and mode.st_uid == 0
    assert os.stat(f"/proc/{server}/ns/net").st_ino == os.stat("/proc/self/ns/net").st_ino


def _timed_calls(root: Path, lab: Lab) -> float:
    """Seconds that CALLS `xm list` take inside N1, timed there (without `lab exec`'s start-up)."""
    loop = f"start=$(date +%s%N); for i in $(seq {CALLS}); do xm list >/dev/null || exit 9; done; "
    loop += "echo $(( $(date +%s%N) - start ))"
    timed = in_node(root, lab.id, N1, "sh", "-c", loop)
    assert timed.returncode == 0, timed.stderr
    return int(timed.stdout) / 1e9


def _check_refusals(root: Path, lab: Lab) -> None:
    """From the host's namespaces, and from N1 claiming to be N2: refused, with what to do."""
    env = nodes.node_env(lab, N1)
    host = subprocess.run([lab.bin_dir / "xm", "list"], env=env, capture_output=True, text=True, check=False)
    assert host.returncode == 2, host.stderr
    assert (
        f"lab stand-in xm: this does not run inside node {N1}: use `reconciler lab exec {N1}" in host.stderr
    )
    posing = in_node(root, lab.id, N1, "env", f"RECONCILER_LAB_NODE={N2}", "xm", "list")
    assert posing.returncode == 2 and f"does not run inside node {N2}" in posing.stderr, posing.stderr


def test_stand_ins_are_served_inside_their_node_alone(root: Path) -> None:
    with lab_up(root, "s" + secrets.token_hex(3), MANIFESTS) as lab:
        server = _server(lab)
        _check_socket(lab, server)
        listed = in_node(root, lab.id, N1, "xm", "list")
        assert listed.returncode == 0 and listed.stdout.startswith("Name"), listed.stderr
        missing = in_node(root, lab.id, N2, "drbdadm", "role", "nothing")
        assert missing.returncode != 0 and "nothing" in missing.stderr, missing.stderr
        assert _timed_calls(root, lab) < CALLS_WITHIN
        _check_refusals(root, lab)
        # As after a crash of `up` between the start and its record: found by its command line.
        lab.inventory.server_pid = None
        lab.save()
    assert wait_until_gone(server)
    assert not standin_server.socket_path(lab.dir).exists()


def test_a_killed_server_is_reported_and_down_removes_its_socket(root: Path) -> None:
    with lab_up(root, "k" + secrets.token_hex(3), MANIFESTS) as lab:
        server = _server(lab)
        os.kill(server, signal.SIGKILL)
        assert wait_until_gone(server)
        assert standin_server.socket_path(lab.dir).exists()  # nobody removed it
        call = in_node(root, lab.id, N1, "xm", "list")
        assert call.returncode == 126, call.stderr
        assert call.stderr == f"lab stand-in xm: {NOT_RUNNING}\n"
    assert gone(server) and not standin_server.socket_path(lab.dir).exists()


def test_threads_exclude_each_other_on_the_simulators_lock(tmp_path: Path) -> None:
    """The server's threads share the simulator: its flock must keep them apart, as it keeps
    processes apart (each `locked` opens the file anew: an flock is per open file description)."""
    held, order = threading.Event(), []

    def first() -> None:
        with locked(tmp_path):
            held.set()
            time.sleep(0.3)
            order.append("first leaves")

    thread = threading.Thread(target=first)
    thread.start()
    assert held.wait(5)
    with locked(tmp_path):
        order.append("second enters")
    thread.join()
    assert order == ["first leaves", "second enters"]


def test_a_socket_path_longer_than_sun_path_is_served(tmp_path: Path) -> None:
    path = tmp_path / ("d" * 60) / ("e" * 60) / "standin.sock"
    path.parent.mkdir(parents=True)
    assert len(str(path)) > 108
    listener = standin_server.listen(path)
    reply = encode_reply(False, 3, b"out", b"err")

    def answer() -> None:
        conn, _ = listener.accept()
        with conn:
            assert conn.recv(100) == b"request"
            conn.sendall(reply)

    thread = threading.Thread(target=answer)
    thread.start()
    try:
        assert _exchange(str(path), b"request") == reply
    finally:
        thread.join()
        listener.close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with pytest.raises(ConnectionRefusedError):
        _exchange(str(path), b"")


def test_the_caller_is_seen_to_go_while_a_call_waits() -> None:
    """A `shutdown -w` waits for a guest until it ends or the caller has gone: the end of the
    request (the caller shut its writing side) is not going, its socket closed is."""
    server, caller = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with server:
        caller.shutdown(socket.SHUT_WR)
        started = time.monotonic()
        assert not standin_service._caller_gone(server, 0.2)
        assert time.monotonic() - started >= 0.15  # it waited, rather than seeing the EOF
        caller.close()
        assert standin_service._caller_gone(server, 5.0)


def _lvm(env: dict[str, str], *argv: str) -> None:
    done = subprocess.run(["lvm", *argv], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_the_lvm_stamp_changes_with_every_commit_and_only_then(tmp_path: Path) -> None:
    """What keeps a node's LVM report: lvm2's commits change it, its reads do not."""
    image = tmp_path / "pv.img"
    with image.open("wb") as handle:
        handle.truncate(64 * 1024**2)
    loop = subprocess.run(
        ["losetup", "--find", "--show", str(image)], capture_output=True, text=True, check=True
    )
    device = loop.stdout.strip()
    try:
        (tmp_path / "lock").mkdir()
        (tmp_path / "lvm.conf").write_text(disks.lvm_conf("host", [device], tmp_path / "lock"))
        env = {**os.environ, "LVM_SYSTEM_DIR": str(tmp_path), "LVM_SUPPRESS_FD_WARNINGS": "1"}
        stamps = [lvmcache.metadata_stamp([device])]
        for argv in (
            ("pvcreate", device),
            ("vgcreate", "labvg", device),
            ("lvcreate", "-n", "lv", "-L", "8m", "labvg"),
        ):
            _lvm(env, *argv)
            stamps.append(lvmcache.metadata_stamp([device]))
        _lvm(env, "fullreport", "--reportformat", "json")
        assert lvmcache.metadata_stamp([device]) == stamps[-1]
        assert None not in stamps and len(set(stamps)) == len(stamps), "a commit left the stamp as it was"
    finally:
        subprocess.run(["losetup", "--detach", device], check=True)
