"""Faults injected with `reconciler lab fault` while `apply` runs for real in a lab node: a
transient failure is retried, a hang is cut by the action's timeout and the journal says so, a
crashed domain is gone from `xm list`, a fault on a real program is refused, and a resource
file that the real drbdadm refuses fails the stand-in as it would fail on a host.

The seed's manifests are copied with a start timeout of 3 s (the seed's is 600 s), so that the
hanging `xm create` is cut quickly. Needs root (CI runs as root); never skipped.
"""

import os
import secrets
import subprocess
from pathlib import Path

import pytest

from reconciler.lab import node as nodes
from reconciler.lab.inventory import Lab
from tests.lab.inlab import RUNNER, apply_in, cli, edited_manifests, in_node, journal, lab_up

N1 = "centos5s1"
RESOURCE = "xapache-lv01"
DOMAIN = "apache"
SEED_START = "    timeout: 600s                     # <maxstarttime>\n"


@pytest.fixture(scope="module", autouse=True)
def _need_root() -> None:
    assert os.geteuid() == 0, "the lab tests need root (network namespaces)"


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    return edited_manifests(tmp_path, [("xapache.yaml", SEED_START, "    timeout: 3s\n")])


def _ok(result: "subprocess.CompletedProcess[str]") -> str:
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    return result.stdout


def _action(records: list[dict[str, object]], action: str) -> list[dict[str, object]]:
    return [r for r in records if str(r.get("action", "")).endswith(action)]


def _check_retried(lab: Lab) -> None:
    """`drbdadm up` failed once (the injected failure, in the journal), then was retried."""
    records = _action(journal(lab, N1), "/drbd-up")
    dos = [r for r in records if r["type"] == "command" and r["phase"] == "do"]
    assert [(r["outcome"], r["attempt"]) for r in dos] == [("failed", 1), ("ok", 2)], dos
    assert "lab: injected failure of drbdadm up" in str(dos[0]["stderr"])
    ended = [r for r in records if r["type"] == "action"]
    assert [(r["status"], r["attempts"]) for r in ended] == [("done", 2)], ended


def _check_cut(lab: Lab, out: str) -> None:
    """The hanging `xm create` was killed at the manifest's start timeout; the journal says so."""
    assert "'xm create /etc/xen/apache' timed out after 3 s" in out, out
    records = _action(journal(lab, N1), "/start-domain")
    dos = [r for r in records if r["type"] == "command" and r["phase"] == "do"]
    assert [r["outcome"] for r in dos] == ["timeout"], dos
    assert [r["status"] for r in records if r["type"] == "action"] == ["failed"]
    # The stand-in that hung was killed with its process group: nothing of it is left in the node.
    for pid in nodes.namespace_pids(RUNNER, lab.node(N1).namespace):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        assert b"standin_client.py" not in command, command


def test_injected_failures_are_retried_and_hangs_cut(root: Path, manifests: Path) -> None:
    with lab_up(root, "f" + secrets.token_hex(3), manifests) as lab:
        refused = cli(root, "fault", "fail", "--id", lab.id, N1, "--", "lvcreate")
        assert refused.returncode == 1 and "not a stand-in" in refused.stderr, refused.stderr
        _ok(cli(root, "fault", "fail", "--id", lab.id, "--times", "1", N1, "--", "drbdadm", "up"))
        _ok(cli(root, "fault", "hang", "--id", lab.id, N1, "--", "xm", "create"))
        armed = _ok(cli(root, "fault", "list", "--id", lab.id))
        assert "'drbdadm up' fails with exit code 1" in armed and "'xm create' hangs" in armed, armed

        first = apply_in(root, lab.id, N1, manifests)
        assert first.returncode != 0, first.stdout
        _check_retried(lab)
        _check_cut(lab, first.stdout)
        assert _ok(cli(root, "fault", "list", "--id", lab.id)).strip() == "no fault armed"

        again = _ok(apply_in(root, lab.id, N1, manifests))
        assert "start-domain: done" in again, again
        assert DOMAIN in _ok(in_node(root, lab.id, N1, "xm", "list"))

        crashed = _ok(cli(root, "fault", "crash", "--id", lab.id, N1, DOMAIN))
        assert f"{DOMAIN} on {N1} crashed" in crashed
        assert DOMAIN not in _ok(in_node(root, lab.id, N1, "xm", "list"))
        _check_real_drbdadm_reads_first(lab, root)


def _check_real_drbdadm_reads_first(lab: Lab, root: Path) -> None:
    """A resource file that drbd-utils' drbdadm refuses fails the stand-in with its message."""
    res = nodes.private_dir(lab, N1, "/etc/drbd.d") / f"{RESOURCE}.res"
    good = res.read_text()
    assert _ok(in_node(root, lab.id, N1, "drbdadm", "role", RESOURCE)).strip() == "Primary"
    res.write_text(good + "garbage {\n")
    broken = in_node(root, lab.id, N1, "drbdadm", "role", RESOURCE)
    assert broken.returncode == 10 and "Parse error" in broken.stderr, broken.stderr
    res.write_text(good.replace("192.168.1.32", "192.168.1.99"))
    foreign = in_node(root, lab.id, N1, "drbdadm", "role", RESOURCE)  # drbdadm only warns of it
    assert "IP 192.168.1.99 not found on this host" in foreign.stderr, foreign.stderr
    res.write_text(good)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "labs"
