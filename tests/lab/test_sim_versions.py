"""The DRBD version of each simulated node: 8.3 (the linuxha.net guide's), 8.4 and 9, also mixed.

Each version's stand-ins print what that version prints (checked with the observer's parser of
that version), take that version's drbdadm syntax, and a pair of versions that DRBD lets talk
(8.4 and 9, in a rolling upgrade) connects and converges under the reconciler's own passes.
"""

from pathlib import Path

import pytest

from reconciler.core.desired import DesiredVolume, desired_node
from reconciler.core.plan import storage_steps
from reconciler.core.plan.steps import Step
from reconciler.core.round import drbd_flavour
from reconciler.lab.sim import Cluster, read
from reconciler.lab.sim.host import SimHost
from reconciler.lab.sim.rounds import converge, simulated_cluster
from reconciler.lab.sim.versions import DEFAULT_DRBD, VersionError, family, per_node, resolve
from reconciler.manifest import ManifestSet, load_manifests
from reconciler.observe.drbd import parse_proc_drbd_83, parse_proc_drbd_84
from reconciler.observe.drbd.states import ConnectionState, DiskState, Role
from reconciler.observe.node import observe_node
from reconciler.render.drbd import DrbdFlavour
from tests.conftest import REPO
from tests.lab.helpers import LV_SIZE, RATE, RESOURCE, fresh_pair, must, run, synced_pair

N1, N2 = "centos5s1", "centos5s2"
SEED_RESOURCE = "xapache-lv01"


def test_drbd_values_name_a_family_or_a_version_for_both_nodes_or_one() -> None:
    nodes = [N1, N2]
    assert per_node([], nodes) == {N1: DEFAULT_DRBD, N2: DEFAULT_DRBD} == {N1: "9.2.8", N2: "9.2.8"}
    assert per_node(["8.3"], nodes) == {N1: "8.3.16", N2: "8.3.16"}
    assert per_node([f"{N1}=8.4", f"{N2}=9"], nodes) == {N1: "8.4.11", N2: "9.2.8"}
    assert per_node(["8.4", f"{N2}=9.1.7"], nodes) == {N1: "8.4.11", N2: "9.1.7"}
    assert resolve("8.3.1") == "8.3.1" and family("8.3.1") == "8.3"
    for bad in ("8.2", "10", "nine", f"{N1}=", "gamma=8.4"):
        with pytest.raises(VersionError):
            per_node([bad], nodes)


def _up(version: str) -> Cluster:
    cluster = fresh_pair(version, "xm")
    must(cluster, "alpha", "drbdadm", "--", "--overwrite-data-of-peer", "primary", RESOURCE)
    cluster.tick(LV_SIZE / RATE / 2)
    return cluster


def test_proc_drbd_83_is_read_by_the_83_parser_and_refused_by_the_84_one() -> None:
    cluster = _up("8.3.16")
    text = read(cluster, "beta", "/proc/drbd").stdout
    lines = text.splitlines()
    assert lines[0] == "version: 8.3.16 (api:88/proto:86-97)"
    assert lines[1].startswith("GIT-hash: ")
    assert "want:" not in text  # 8.4 added it to the speed line
    table = parse_proc_drbd_83(text)
    (res,) = table.resources
    conn = res.connections[0]
    assert table.version == "8.3.16" and res.role is Role.SECONDARY
    assert conn.connection_state is ConnectionState.SYNC_TARGET and conn.peer_role is Role.PRIMARY
    resync = conn.peer_volumes[0].resync
    assert resync is not None and 49 <= resync.percent <= 51
    with pytest.raises(ValueError, match=r"not of the 8\.4"):
        parse_proc_drbd_84(text)


def test_proc_drbd_84_has_its_own_version_line_and_want() -> None:
    text = read(_up("8.4.11"), "beta", "/proc/drbd").stdout
    assert text.splitlines()[0] == "version: 8.4.11 (api:1/proto:86-101)"
    assert " want: " in text
    assert parse_proc_drbd_84(text).version == "8.4.11"


@pytest.mark.parametrize(("version", "flavour"), [("8.3.16", DrbdFlavour.V83), ("8.4.11", DrbdFlavour.V84)])
def test_drbd_8_is_loaded_at_boot_so_the_observer_knows_the_version_at_once(
    version: str, flavour: DrbdFlavour
) -> None:
    cluster = synced_pair(version, "xm")
    observed = observe_node(SimHost(cluster, "beta"))
    assert observed.drbd is not None and observed.drbd.version == version
    assert drbd_flavour(observed) is flavour
    (res,) = observed.drbd.resources
    assert res.volumes[0].disk_state is DiskState.UP_TO_DATE
    cluster.power_off("beta")
    cluster.power_on("beta")
    assert read(cluster, "beta", "/proc/drbd").stdout.startswith(f"version: {version} ")


def test_drbdadm_83_takes_drbdsetup_options_only_after_the_double_dash() -> None:
    cluster = fresh_pair("8.3.16", "xm")
    for argv in (
        ("drbdadm", "primary", "--overwrite-data-of-peer", RESOURCE),
        ("drbdadm", "primary", "--force", RESOURCE),
        ("drbdadm", "connect", "--discard-my-data", RESOURCE),
    ):
        refused = run(cluster, "alpha", *argv)
        assert refused.returncode == 20 and "unrecognized option" in refused.stderr, refused.describe()
    plain = run(cluster, "alpha", "drbdadm", "primary", RESOURCE)
    assert plain.returncode == 17
    assert plain.stderr == (
        "0: State change failed: (-2) Refusing to be Primary without at least one UpToDate disk\n"
        "Command 'drbdsetup-83 0 primary' terminated with exit code 17\n"
    )
    must(cluster, "alpha", "drbdadm", "--", "--overwrite-data-of-peer", "primary", RESOURCE)
    assert must(cluster, "alpha", "drbdadm", "dstate", RESOURCE).stdout == "UpToDate/Inconsistent\n"


def test_drbdsetup_status_exists_in_9_only() -> None:
    for version, word in (("8.3.16", "not a DRBD device"), ("8.4.11", "unrecognized option '--json'")):
        result = run(fresh_pair(version, "xm"), "alpha", "drbdsetup", "status", "--json")
        assert result.returncode == 20 and word in result.stderr
    assert run(fresh_pair(), "alpha", "drbdsetup", "status", "--json").ok


def _volume(manifests: ManifestSet) -> tuple[Step, DesiredVolume]:
    app = desired_node(manifests, N1, {"xapache": N1}, DrbdFlavour.V83).apps[0]
    return Step(app=app), app.volumes[0]


@pytest.mark.parametrize("flavour", list(DrbdFlavour))
def test_the_destructive_drbd_steps_use_each_versions_argv(flavour: DrbdFlavour) -> None:
    step, volume = _volume(load_manifests([REPO / "manifests"]))
    sync = storage_steps.initial_sync(step, volume, flavour).do
    victim = storage_steps.discard_split_brain(step, volume, flavour).do
    if flavour is DrbdFlavour.V9:
        assert sync == ("drbdadm", "primary", "--force", SEED_RESOURCE)
        assert victim == ("drbdadm", "connect", "--discard-my-data", SEED_RESOURCE)
    else:
        assert sync == ("drbdadm", "--", "--overwrite-data-of-peer", "primary", SEED_RESOURCE)
        assert victim == ("drbdadm", "--", "--discard-my-data", "connect", SEED_RESOURCE)


@pytest.mark.parametrize(
    "versions",
    [{N1: "8.3.16", N2: "8.3.16"}, {N1: "8.4.11", N2: "9.2.8"}, {N1: "9.2.8", N2: "8.4.11"}],
    ids=["8.3", "8.4+9", "9+8.4"],
)
def test_the_seed_converges_on_each_version_and_on_a_mixed_pair(versions: dict[str, str]) -> None:
    manifests = load_manifests([REPO / "manifests"])
    cluster = simulated_cluster(manifests, versions, "xm")
    assert converge(cluster, manifests, {"xapache": N1})
    for name, version in versions.items():
        node = cluster.node(name)
        res = node.drbd.resource(SEED_RESOURCE)
        assert node.drbd.version == version
        assert res is not None and res.connection is ConnectionState.CONNECTED
        assert must(cluster, name, "drbdadm", "dstate", SEED_RESOURCE).stdout == "UpToDate/UpToDate\n"
        text = node.files[f"/etc/drbd.d/{SEED_RESOURCE}.res"]
        # Each node's file is in its own version's syntax: node-id in 9 only, syncer in 8.3 only.
        assert ("node-id" in text) == version.startswith("9")
        assert ("syncer" in text) == version.startswith("8.3")
    assert cluster.node(N1).drbd.resource(SEED_RESOURCE).role is Role.PRIMARY  # type: ignore[union-attr]


def test_the_simulator_keeps_each_nodes_version(tmp_path: Path) -> None:
    manifests = load_manifests([REPO / "manifests"])
    cluster = simulated_cluster(manifests, {N1: "8.4.11", N2: "9.2.8"}, "xl")
    cluster.save(tmp_path)
    again = Cluster.load(tmp_path)
    assert [(n.drbd.version, n.xen.toolstack) for n in again.nodes] == [("8.4.11", "xl"), ("9.2.8", "xl")]
