"""The seed on each DRBD version in the lab, with drbd-utils' own drbdadm of that version as judge.

- The linuxha.net guide's platform, DRBD 8.3 with xm (`lab up --drbd 8.3`): `reconciler apply` in
  each node converges; the resource files it writes are 8.3's.
- A pair in the middle of a rolling upgrade (`--drbd centos5s1=8.4 --drbd centos5s2=9`): each node
  gets its own version's file, and the two connect and sync (DRBD 9 speaks 8.4's protocols).
- Every call of the lab's `drbdadm` stand-in first has the real drbdadm read the node's files with
  the parser of the node's version (`DRBD_DRIVER_VERSION_OVERRIDE`): the file generated for each
  version passes its own, and the parsers that refuse it (as they do outside the lab, see
  tests/render) refuse it inside too, so the check is really per version.
Needs root (CI runs as root); never skipped.
"""

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.lab import node as nodes
from reconciler.lab.inventory import Lab
from reconciler.lab.sim.state import Cluster
from reconciler.lab.simstate import proc_drbd_file, sim_dir
from reconciler.manifest import load_manifests
from reconciler.observe.drbd.states import ConnectionState, Role
from reconciler.render.drbd import DrbdFlavour, render_drbd_resource
from tests.conftest import REPO
from tests.lab.inlab import CONVERGED, apply_in, cli, in_node, lab_up

MANIFESTS = REPO / "manifests"
N1, N2 = "centos5s1", "centos5s2"
RESOURCE = "xapache-lv01"
MAX_ROUNDS = 4
E_CONFIG_INVALID = 10
# Which family's drbdadm reads each generated syntax (drbd-utils 9.x: drbdadm-83, drbdadm-84, its own).
READ_BY = {
    DrbdFlavour.V83: {"8.3", "8.4"},
    DrbdFlavour.V84: {"8.4", "9"},
    DrbdFlavour.V9: {"9"},
}
FLAVOUR = {"8.3": DrbdFlavour.V83, "8.4": DrbdFlavour.V84, "9": DrbdFlavour.V9}


@pytest.fixture(scope="module", autouse=True)
def _need_root() -> None:
    assert os.geteuid() == 0, "the lab tests need root (network namespaces)"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "labs"


@pytest.fixture
def drbd83(root: Path) -> Iterator[Lab]:
    with lab_up(root, "v" + secrets.token_hex(3), MANIFESTS, ["8.3"]) as made:
        yield made


@pytest.fixture
def upgrading(root: Path) -> Iterator[Lab]:
    with lab_up(root, "u" + secrets.token_hex(3), MANIFESTS, [f"{N1}=8.4", f"{N2}=9"]) as made:
        yield made


def _converge(lab: Lab) -> None:
    for _ in range(MAX_ROUNDS):
        outputs = []
        for node in (N1, N2):
            done = apply_in(lab.root, lab.id, node, MANIFESTS)
            assert done.returncode == 0, f"apply on {node} failed:\n{done.stdout}\n{done.stderr}"
            outputs.append(done.stdout)
        if all(CONVERGED in out for out in outputs):
            return
    pytest.fail(f"not converged after {MAX_ROUNDS} rounds on each node")


def _check_pair(lab: Lab, versions: dict[str, str]) -> None:
    """Primary on N1, Secondary on N2, Connected and UpToDate on both; each node's kernel and
    resource file of its own version."""
    cluster = Cluster.load(sim_dir(lab.dir))
    for node, version in versions.items():
        res = cluster.node(node).drbd.resource(RESOURCE)
        assert res is not None and res.connection is ConnectionState.CONNECTED
        assert res.role is (Role.PRIMARY if node == N1 else Role.SECONDARY)
        dstate = in_node(lab.root, lab.id, node, "drbdadm", "dstate", RESOURCE)
        assert dstate.stdout == "UpToDate/UpToDate\n", (node, dstate.stdout, dstate.stderr)
        assert proc_drbd_file(lab.dir, node).read_text().startswith(f"version: {version} ")
        text = _resource_file(lab, node).read_text()
        assert ("node-id" in text) == version.startswith("9"), text
        assert ("syncer" in text) == version.startswith("8.3"), text
    status = cli(lab.root, "status", "--id", lab.id)
    assert status.returncode == 0, status.stderr
    for node, version in versions.items():
        assert f"  {node}  {version:<9} xm" in status.stdout, status.stdout


def _resource_file(lab: Lab, node: str) -> Path:
    return nodes.private_dir(lab, node, "/etc/drbd.d") / f"{RESOURCE}.res"


def _check_parsers(lab: Lab, node: str, family: str) -> None:
    """The node's file of each version in turn, read by the real drbdadm of the node's version
    before the stand-in answers `drbdadm role`: accepted or refused as that parser does."""
    manifests = load_manifests([MANIFESTS])
    app = manifests.applications[0].document
    lv = next(
        v for v in app.spec.storage.logical_volumes if v.drbd is not None and v.drbd.resource == RESOURCE
    )
    path = _resource_file(lab, node)
    kept = path.read_text()
    assert kept == render_drbd_resource(manifests.cluster.document, app, lv, FLAVOUR[family])
    try:
        for flavour, readers in READ_BY.items():
            path.write_text(render_drbd_resource(manifests.cluster.document, app, lv, flavour))
            role = in_node(lab.root, lab.id, node, "drbdadm", "role", RESOURCE)
            if family in readers:
                assert role.returncode == 0, (flavour, role.stderr)
                assert role.stdout.split("/")[0].strip() in {"Primary", "Secondary"}, role.stdout
            else:
                assert role.returncode == E_CONFIG_INVALID, (flavour, role.returncode, role.stderr)
                assert role.stdout == "" and role.stderr, flavour
    finally:
        path.write_text(kept)


def test_the_seed_converges_on_drbd_83_and_xm_as_in_the_guide(drbd83: Lab) -> None:
    _converge(drbd83)
    _check_pair(drbd83, {N1: "8.3.16", N2: "8.3.16"})
    _check_parsers(drbd83, N1, "8.3")


def test_a_pair_upgrading_from_84_to_9_connects_and_converges(upgrading: Lab) -> None:
    _converge(upgrading)
    _check_pair(upgrading, {N1: "8.4.11", N2: "9.2.8"})
    _check_parsers(upgrading, N1, "8.4")
    _check_parsers(upgrading, N2, "9")


def test_up_refuses_a_drbd_it_cannot_simulate_before_building_anything(root: Path) -> None:
    for value, message in (("8.2", "the lab simulates 8.3, 8.4, 9"), ("gamma=9", "no node 'gamma'")):
        made = cli(
            root, "up", "--id", "x" + secrets.token_hex(3), "--manifests", str(MANIFESTS), "--drbd", value
        )
        assert made.returncode == 1 and message in made.stderr, made.stderr
        assert "Traceback" not in made.stderr
    assert not root.exists() or list(root.iterdir()) == []
