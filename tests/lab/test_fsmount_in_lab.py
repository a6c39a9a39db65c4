"""A DRBD device's filesystem is a real mount in the lab node: after `apply`, the active node's
mount point is a bind mount of the device's directory, writable (fsmon's write probe works as on a
real node); after a failover the new active node has it mounted, and the host never sees it.

Needs root (CI runs as root), never skipped; the lab is removed whatever happens (`lab_up`).
"""

import json
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.lab import agents, failover
from reconciler.lab.fsmount import data_dir
from reconciler.lab.inventory import Lab
from reconciler.lab.simstate import mountinfo_file
from tests.conftest import REPO
from tests.lab.inlab import in_node, lab_up

MANIFESTS = REPO / "manifests"
N1, N2 = "centos5s1", "centos5s2"
DOMAIN, MOUNT_POINT, MINOR = "apache", "/virt", 0


@pytest.fixture(scope="module", autouse=True)
def _need_root() -> None:
    assert os.geteuid() == 0, "the lab tests need root (network namespaces)"


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    with lab_up(tmp_path / "labs", "m" + secrets.token_hex(3), MANIFESTS) as made:
        yield made


def _verdicts(lab: Lab) -> set[str]:
    """Each node's latest verdict on the application, from its agent's decision log."""
    latest = set()
    for node in (N1, N2):
        path = agents.log_path(lab, node)
        verdicts = []
        for line in path.read_text().splitlines() if path.exists() else []:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # the agent's stderr, if any
            if record.get("app") == "xapache" and record.get("what") in ("run", "stay-stopped"):
                verdicts.append(str(record["what"]))
        latest |= set(verdicts[-1:])
    return latest


def _real_mounts(lab: Lab, node: str) -> list[str]:
    """The mount points of the node's real mount table (`cat`, not a stand-in, reads it)."""
    shown = in_node(lab.root, lab.id, node, "cat", "/proc/self/mountinfo")
    assert shown.returncode == 0, shown.stderr
    return [line.split()[4] for line in shown.stdout.splitlines()]


def _check_mounted_and_writable(lab: Lab, node: str) -> None:
    assert MOUNT_POINT in _real_mounts(lab, node)
    assert f" {MOUNT_POINT} " in mountinfo_file(lab.dir, node).read_text()  # the simulator's agrees
    wrote = in_node(lab.root, lab.id, node, "sh", "-c", f"echo {node} > {MOUNT_POINT}/written && sync")
    assert wrote.returncode == 0, wrote.stderr
    assert (data_dir(lab.dir, node, MINOR) / "written").read_text() == f"{node}\n"
    # fsmon's own probe, run inside the node as the agent runs it.
    probe = in_node(
        lab.root,
        lab.id,
        node,
        sys.executable,
        "-c",
        f"from pathlib import Path; from reconciler.monitor.probe import PROBE_NAME, write_probe; "
        f"print(write_probe(Path({MOUNT_POINT!r}) / PROBE_NAME))",
    )
    assert probe.stdout.strip() == "None", (probe.stdout, probe.stderr)


def test_the_active_node_mounts_for_real_and_the_survivor_after_failover(lab: Lab) -> None:
    failover.build(lab, MANIFESTS)
    _check_mounted_and_writable(lab, N1)
    assert MOUNT_POINT not in _real_mounts(lab, N2)
    assert not Path(MOUNT_POINT).exists()  # the node's own root: the host never sees /virt
    for node in (N1, N2):
        agents.start(lab, node, MANIFESTS)
    failover.wait_for("the agents agree", lambda: _verdicts(lab) == {"run", "stay-stopped"}, 60, 0.2)
    result = failover.failover(lab, DOMAIN)
    assert (result.victim, result.survivor) == (N1, N2)
    _check_mounted_and_writable(lab, N2)
