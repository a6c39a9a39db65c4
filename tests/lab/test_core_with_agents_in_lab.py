"""The commands and the agents share one pass and one placement: an operator's `plan` or `apply`
never contradicts the running agent, and a holder that cannot see its own node still self-fences.

Two safety gaps closed here, each tried as a user would on the lab with the seed's application:
- with the application moved by the agents to centos5s2, a plain `reconciler plan`/`apply` on
  centos5s2 planned stop-domain, unmount, demote: its placement ignored the agent's leases;
- a holder whose observation failed read its application as "not running": cut off from its
  peer, it kept the guest running while the peer waited the lease out and started a second one.
Needs root (CI runs as root); never skipped.
"""

import json
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.lab import agents, failover, faults, invariants
from reconciler.lab import lab as labs
from reconciler.lab.faults import EVERY_TIME
from reconciler.lab.inventory import Lab
from reconciler.lab.sim.state import FaultKind
from tests.lab.inlab import edited_manifests, in_node, lab_up

N1, N2 = "centos5s1", "centos5s2"
RECONCILER = (sys.executable, "-m", "reconciler")
APP, DOMAIN = "xapache", "apache"
STOPPING = {"stop-domain", "destroy-domain", "unmount", "demote", "remove-address", "drbd-down"}


@pytest.fixture(scope="module", autouse=True)
def _need_root() -> None:
    assert os.geteuid() == 0, "the lab tests need root (network namespaces)"


@pytest.fixture(scope="module")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return edited_manifests(tmp_path_factory.mktemp("core"), [])


@pytest.fixture(scope="module")
def lab(manifests: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("labs")
    with lab_up(root, "c" + secrets.token_hex(3), manifests) as made:
        failover.build(made, manifests)
        for node in (N1, N2):
            agents.start(made, node, manifests)
        failover.wait_for(f"{DOMAIN} runs", lambda: failover.owner(made, DOMAIN) is not None, 60, 0.2)
        yield made
        assert not invariants.violations(made), invariants.report(made)


def _plan(lab: Lab, node: str, manifests: Path, *extra: str) -> tuple[int, list[str], str]:
    done = in_node(lab.root, lab.id, node, *RECONCILER, "plan", str(manifests), "--format", "json", *extra)
    if done.returncode not in (0, 2):
        return done.returncode, [], done.stderr
    kinds = [a["kind"] for a in json.loads(done.stdout)["plan"]["actions"]]
    return done.returncode, kinds, done.stderr


def test_plan_and_apply_follow_the_agents_placement(lab: Lab, manifests: Path) -> None:
    moved = in_node(lab.root, lab.id, N1, *RECONCILER, "move", APP, "--to", N2)
    assert moved.returncode == 0, moved.stderr
    failover.wait_for(f"{DOMAIN} moved to {N2}", lambda: failover.owner(lab, DOMAIN) == N2, 60)
    for node in (N1, N2):
        code, kinds, err = _plan(lab, node, manifests)
        assert code in (0, 2), err
        assert not STOPPING & set(kinds), f"{node} plans {kinds} against the agent"
    applied = in_node(lab.root, lab.id, N2, *RECONCILER, "apply", str(manifests))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert failover.owner(lab, DOMAIN) == N2
    # Naming a placement by hand while the agent decides is refused, unless forced.
    refused = in_node(lab.root, lab.id, N2, *RECONCILER, "plan", str(manifests), "--active", f"{APP}={N1}")
    assert refused.returncode != 0 and "reconciler move" in refused.stderr
    code, kinds, err = _plan(lab, N2, manifests, "--active", f"{APP}={N1}", "--force")
    assert code == 2 and "stop-domain" in kinds, (code, kinds, err)


def test_a_blind_holder_without_contact_self_fences(lab: Lab) -> None:
    holder = failover.owner(lab, DOMAIN)
    assert holder is not None
    other = N2 if holder == N1 else N1
    for argv in (["xm", "list"], ["drbdsetup", "status"]):
        faults.inject(lab, faults.command_fault(holder, argv, FaultKind.FAIL, times=EVERY_TIME))
    try:
        labs.partition(lab)
        try:
            failover.wait_for(f"{DOMAIN} on {other}", lambda: failover.owner(lab, DOMAIN) == other, 40, 0.05)
        finally:
            labs.heal(lab)
        log = agents.log_path(lab, holder).read_text()
        assert '"self-fence"' in log, "the blind holder never self-fenced"
    finally:
        faults.clear(lab, holder)
    assert not invariants.violations(lab), invariants.report(lab)
