"""Heartbeat partitions with a tie-breaker, and no fencing: never two Primaries, never two
running domains, and the side that cannot reach the tie-breaker never takes over.

The seed's cluster gets a third network, `quorum`, that carries no heartbeats, and a ping
tie-breaker at centos5s1's address on it: cutting only the heartbeat links leaves both nodes
reaching it; cutting every link leaves only centos5s1 reaching it (its own address).

Without fencing the design cannot let a node without contact keep an application (it cannot
tell its own isolation from its peer's death), so the holder stops before its lease runs out and
a node that reaches the tie-breaker takes over once the lease has run out. Needs root.
"""

import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reconciler.lab import agents, failover, invariants
from reconciler.lab import lab as labs
from reconciler.lab.errors import LabError
from reconciler.lab.inventory import Lab
from tests.lab.inlab import edited_manifests, lab_up

N1, N2 = "centos5s1", "centos5s2"
TIE_BREAKER = "    tieBreaker:\n      type: ping\n      address: 10.99.0.32\n"
DOMAIN = "apache"
QUORUM = """    - name: quorum
      subnet: 10.99.0.0/24
      heartbeat: false
      interfaces:
        centos5s1: eth2
        centos5s2: eth2
"""


@pytest.fixture(scope="module", autouse=True)
def _need_root() -> None:
    assert os.geteuid() == 0, "the lab tests need root (network namespaces)"


@pytest.fixture(scope="module")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> Path:
    edits = [
        (
            "cluster.yaml",
            "        private: 192.168.100.32\n",
            "        private: 192.168.100.32\n        quorum: 10.99.0.32\n",
        ),
        (
            "cluster.yaml",
            "        private: 192.168.100.33\n",
            "        private: 192.168.100.33\n        quorum: 10.99.0.33\n",
        ),
        ("cluster.yaml", "  arbitration:\n", QUORUM + "  arbitration:\n"),
        ("cluster.yaml", "    deadTime: 1s\n", "    deadTime: 1s\n" + TIE_BREAKER),
    ]
    return edited_manifests(tmp_path_factory.mktemp("tiebreaker"), edits)


@pytest.fixture(scope="module")
def lab(manifests: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with lab_up(tmp_path_factory.mktemp("labs"), "q" + secrets.token_hex(3), manifests) as made:
        failover.build(made, manifests)
        for node in (N1, N2):
            agents.start(made, node, manifests)
        failover.wait_for(f"{DOMAIN} on {N1}", lambda: failover.owner(made, DOMAIN) == N1, 60)
        # The peer must have heard the holder's lease: without it, nothing is ever taken over.
        failover.wait_for("the lease heard", lambda: _heard_lease(made, N2, N1), 30, 0.1)
        yield made
        assert not invariants.violations(made), invariants.report(made)


def _heard_lease(lab: Lab, node: str, holder: str) -> bool:
    path = agents.log_path(lab, node)
    return path.exists() and f'"what":"lease","why":"holder {holder}' in path.read_text()


def _wait_or_show(lab: Lab, what: str, check: Callable[[], bool]) -> None:
    """Wait; on failure, show what each agent decided (the reasons say why it did not move)."""
    try:
        failover.wait_for(what, check, 30, 0.05)
    except LabError as err:
        logs = {n: agents.log_path(lab, n).read_text().splitlines()[-12:] for n in (N1, N2)}
        pytest.fail(f"{err}\n" + "\n".join(f"{n}: {line}" for n, lines in logs.items() for line in lines))


def _expiring_lease(lab: Lab, node: str) -> bool:
    path = lab.state_dir(node) / "leases" / "xapache.lease"
    try:
        lease = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return bool(lease.get("holder") == node and lease.get("expires_at") is not None)


def test_both_reach_the_tie_breaker(lab: Lab) -> None:
    """Heartbeat links cut, the quorum network up: both reach the tie-breaker. The holder stops
    before its lease ends; the other takes over after it; never both."""
    labs.partition(lab, "public")
    labs.partition(lab, "private")
    try:
        _wait_or_show(lab, f"{DOMAIN} on {N2}", lambda: failover.owner(lab, DOMAIN) == N2)
        assert '"what":"self-fence"' in agents.log_path(lab, N1).read_text()
    finally:
        labs.heal(lab)
    assert not invariants.violations(lab), invariants.report(lab)


def test_only_one_side_reaches_the_tie_breaker(lab: Lab) -> None:
    """Every link cut: centos5s2 (the holder now) reaches nothing and stops; centos5s1 reaches
    the tie-breaker (its own address) and takes over; centos5s2 never does."""
    failover.wait_for(f"{DOMAIN} on {N2}", lambda: failover.owner(lab, DOMAIN) == N2, 30)
    # Taken over in silence, the lease is open-ended (it is never waited out without fencing);
    # with contact again it becomes an expiring one: that is what the next partition needs.
    failover.wait_for("an expiring lease again", lambda: _expiring_lease(lab, N2), 30, 0.1)
    time.sleep(1.0)  # five heartbeats: centos5s1 has heard that the lease now expires
    before = agents.log_path(lab, N2).read_text()
    labs.partition(lab)
    try:
        _wait_or_show(lab, f"{DOMAIN} on {N1}", lambda: failover.owner(lab, DOMAIN) == N1)
        after = agents.log_path(lab, N2).read_text()[len(before) :]
        assert '"what":"take-over"' not in after
        assert '"what":"self-fence"' in after
    finally:
        labs.heal(lab)
    assert not invariants.violations(lab), invariants.report(lab)
