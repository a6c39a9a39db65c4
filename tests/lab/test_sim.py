"""The lab simulator's observations: they parse with the project's own parsers, describe the
simulated state, and have the keys and columns of the real captures; its state saves and loads."""

import json
import re
from pathlib import Path
from typing import Any

import pytest

from reconciler.execute.host import Host
from reconciler.lab.sim import Cluster, Crash, Fault, SimHost, simple_cluster
from reconciler.lab.sim.commands import read
from reconciler.lab.sim.model import GIB
from reconciler.lab.sim.state import transaction
from reconciler.observe.drbd import (
    parse_drbdadm_dstate,
    parse_drbdadm_role,
    parse_proc_drbd_84,
    parse_status_json,
)
from reconciler.observe.drbd.states import ConnectionState, DiskState, ReplicationState, Role
from reconciler.observe.mounts import parse_mountinfo
from reconciler.observe.node import observe_node
from reconciler.observe.runner import Outcome, Runner
from reconciler.observe.state import Observed
from tests.conftest import FIXTURES, REPO
from tests.lab.helpers import DEVICE, LV_SIZE, RATE, RESOURCE, fresh_pair, must, run, synced_pair

DATA = REPO / "tests" / "data"
DOMAIN_CONFIG = (
    "name = 'web'\nmemory = 512\nvcpus = 2\ndisk = ['phy:/dev/drbd0,xvda,w']\nvif = ['ip=192.168.1.80']\n"
)


def running_app(drbd_version: str, toolstack: str) -> Cluster:
    """alpha: Primary, mounted, a service address, a running domain; beta: Secondary."""
    cluster = synced_pair(drbd_version, toolstack)
    alpha = cluster.node("alpha")
    alpha.files["/etc/xen/web"] = DOMAIN_CONFIG
    must(cluster, "alpha", "mkdir", "-p", "/srv/data")
    must(cluster, "alpha", "mount", "-t", "ext4", "-o", "noatime", DEVICE, "/srv/data")
    must(cluster, "alpha", "ip", "addr", "add", "192.168.1.50/24", "dev", "eth0")
    must(cluster, "alpha", toolstack, "create", "/etc/xen/web")
    return cluster


def observed(cluster: Cluster, node: str) -> Observed:
    result = observe_node(SimHost(cluster, node))
    assert result.errors == ()
    assert result.surprises() == []
    return result


@pytest.mark.parametrize(("version", "toolstack"), [("9.2.8", "xl"), ("8.4.11", "xm"), ("8.3.16", "xm")])
def test_observation_parses_and_matches_the_state(version: str, toolstack: str) -> None:
    cluster = running_app(version, toolstack)
    alpha, beta = observed(cluster, "alpha"), observed(cluster, "beta")

    assert alpha.node == "alpha" and alpha.host is not None and alpha.host.cpu_count == 4
    assert alpha.lvm is not None
    vg = cluster.node("alpha").vg("vg0")
    assert vg is not None
    (seen_vg,) = alpha.lvm.vgs
    assert (seen_vg.name, seen_vg.size, seen_vg.free) == ("vg0", vg.size, vg.size - LV_SIZE)
    assert [(lv.name, lv.vg, lv.size) for lv in alpha.lvm.lvs] == [("data", "vg0", LV_SIZE)]
    assert alpha.lvm.lvs[0].attr is not None and alpha.lvm.lvs[0].attr.open is True

    assert alpha.drbd is not None and alpha.drbd.loaded and alpha.drbd.version == version
    assert beta.drbd is not None
    for seen, own, peer in ((alpha, Role.PRIMARY, Role.SECONDARY), (beta, Role.SECONDARY, Role.PRIMARY)):
        assert seen.drbd is not None
        (res,) = seen.drbd.resources
        assert res.name == (RESOURCE if version.startswith("9") else None)
        assert (
            res.role is own
            and res.volumes[0].minor == 0
            and res.volumes[0].disk_state is DiskState.UP_TO_DATE
        )
        (conn,) = res.connections
        assert conn.connection_state is ConnectionState.CONNECTED and conn.peer_role is peer
        assert conn.peer_volumes[0].peer_disk_state is DiskState.UP_TO_DATE

    assert alpha.domains is not None and alpha.domains.toolstack == toolstack
    names = {d.name: d for d in alpha.domains.domains}
    assert (
        set(names) == {"Domain-0", "web"}
        and names["web"].memory == 512 * 1024 * 1024
        and names["web"].vcpus == 2
    )
    assert beta.domains is not None and [d.name for d in beta.domains.domains] == ["Domain-0"]

    eth0 = alpha.interface("eth0")
    assert eth0 is not None and eth0.admin_up and eth0.lower_up
    assert [str(a.ip) for a in eth0.addresses if a.family == "inet"] == ["192.168.1.11/24", "192.168.1.50/24"]
    assert [a.secondary for a in eth0.addresses if a.family == "inet"] == [False, True]

    mount = alpha.mount_at("/srv/data")
    assert mount is not None and (mount.source, mount.fstype, mount.major, mount.minor) == (
        DEVICE,
        "ext4",
        147,
        0,
    )
    assert "noatime" in mount.options
    assert beta.mount_at("/srv/data") is None


def test_drbd_module_not_loaded_is_a_fact_not_an_error() -> None:
    cluster = simple_cluster()
    assert read(cluster, "alpha", "/proc/drbd").outcome is Outcome.MISSING
    seen = observed(cluster, "alpha")
    assert seen.drbd is not None and not seen.drbd.loaded and seen.drbd.resources == ()
    assert seen.lvm is not None and seen.lvm.vgs == ()


def _first_rows(report: dict[str, Any]) -> dict[str, list[str]]:
    entry = report["report"][0]
    return {section: list(rows[0]) for section, rows in entry.items() if rows}


def test_lvm_fullreport_has_the_fields_of_the_real_capture() -> None:
    cluster = running_app("9.2.8", "xl")
    ours = json.loads(
        must(
            cluster, "alpha", "lvm", "fullreport", "--reportformat", "json", "--units", "b", "--nosuffix"
        ).stdout
    )
    real = json.loads((DATA / "lvm" / "lvm-fullreport-json-units-b.json").read_text())
    assert list(ours) == list(real) == ["report"]
    assert list(ours["report"][0]) == list(real["report"][0]) == ["vg", "pv", "lv", "pvseg", "seg"]
    assert _first_rows(ours) == _first_rows(real)  # the same field names, in the same order


def test_lvm_fullreport_of_a_node_without_volume_groups_is_lvm2s_empty_report() -> None:
    text = must(
        simple_cluster(), "alpha", "lvm", "fullreport", "--reportformat", "json", "--units", "b", "--nosuffix"
    ).stdout
    assert text == '  {\n      "report": [\n      ]\n  }\n'


def _drbd_keys(status: list[dict[str, Any]]) -> tuple[set[str], set[str], set[str], set[str]]:
    res = status[0]
    conn = res["connections"][0]
    return set(res), set(res["devices"][0]), set(conn), set(conn["peer_devices"][0])


def test_drbdsetup_status_json_has_the_keys_of_the_real_capture() -> None:
    cluster = running_app("9.2.8", "xl")
    text = must(cluster, "alpha", "drbdsetup", "status", "--json", "--statistics").stdout
    real = json.loads((FIXTURES / "drbd" / "drbdsetup-status-json-primary-one-peer.json").read_text())
    assert _drbd_keys(json.loads(text)) == _drbd_keys(real)


def test_drbdsetup_status_json_during_a_resync_shows_the_progress() -> None:
    cluster = fresh_pair()
    must(cluster, "alpha", "drbdadm", "primary", "--force", RESOURCE)
    cluster.tick(LV_SIZE / RATE / 4)
    source = parse_status_json(must(cluster, "alpha", "drbdsetup", "status", "--json", "--statistics").stdout)
    target = parse_status_json(must(cluster, "beta", "drbdsetup", "status", "--json").stdout)
    (src_peer,) = source.resources[0].connections[0].peer_volumes
    (dst_peer,) = target.resources[0].connections[0].peer_volumes
    assert src_peer.replication_state is ReplicationState.SYNC_SOURCE
    assert dst_peer.replication_state is ReplicationState.SYNC_TARGET
    assert target.resources[0].volumes[0].disk_state is DiskState.INCONSISTENT
    assert src_peer.done_percent is not None and 20 < src_peer.done_percent < 30
    assert src_peer.out_of_sync is not None and 0.7 * LV_SIZE < src_peer.out_of_sync < 0.8 * LV_SIZE


def test_proc_drbd_84_during_a_resync_parses_with_its_progress_lines() -> None:
    cluster = fresh_pair("8.4.11", "xm")
    must(cluster, "alpha", "drbdadm", "--", "--overwrite-data-of-peer", "primary", RESOURCE)
    cluster.tick(LV_SIZE / RATE / 2)
    table = parse_proc_drbd_84(read(cluster, "beta", "/proc/drbd").stdout)
    (res,) = table.resources
    conn = res.connections[0]
    assert res.volumes[0].minor == 0 and res.role is Role.SECONDARY
    assert conn.connection_state is ConnectionState.SYNC_TARGET and conn.peer_role is Role.PRIMARY
    resync = conn.peer_volumes[0].resync
    assert resync is not None and 49 <= resync.percent <= 51 and resync.want is not None


def test_proc_drbd_9_has_the_version_lines_only() -> None:
    cluster = fresh_pair()
    text = read(cluster, "alpha", "/proc/drbd").stdout
    assert text.splitlines()[0] == "version: 9.2.8 (api:2/proto:86-122)"
    assert len(text.splitlines()) == 3


@pytest.mark.parametrize(
    ("version", "role", "dstate"),
    [
        ("9.2.8", "Primary", "UpToDate/UpToDate"),
        ("8.4.11", "Primary/Secondary", "UpToDate/UpToDate"),
        ("8.3.16", "Primary/Secondary", "UpToDate/UpToDate"),
    ],
)
def test_drbdadm_role_and_dstate_print_what_the_real_ones_print(version: str, role: str, dstate: str) -> None:
    cluster = synced_pair(version, "xl")
    role_text = must(cluster, "alpha", "drbdadm", "role", RESOURCE).stdout
    dstate_text = must(cluster, "alpha", "drbdadm", "dstate", RESOURCE).stdout
    assert (role_text, dstate_text) == (f"{role}\n", f"{dstate}\n")
    assert parse_drbdadm_role(role_text).role is Role.PRIMARY
    assert parse_drbdadm_dstate(dstate_text).unrecognised == ()
    real = (
        FIXTURES / "drbd" / f"drbdadm-role-{'9' if version.startswith('9') else '84'}.txt"
    ).read_text()
    assert role_text.strip().count("/") == real.strip().count("/")


def test_xl_list_has_the_columns_of_the_real_capture() -> None:
    cluster = simple_cluster()
    cluster.node("alpha").xen.dom0_memory, cluster.node("alpha").xen.dom0_vcpus = 1023, 1
    ours = must(cluster, "alpha", "xl", "list").stdout.splitlines()
    real = (FIXTURES / "xen" / "xl-list-four-domains.txt").read_text().splitlines()
    assert ours[0] == real[0]
    assert re.sub(r" *\d+\.\d$", "", ours[1]) == re.sub(r" *\d+\.\d$", "", real[1])
    assert len(ours[1]) == len(real[1])


def _keys(items: list[dict[str, Any]], name: str) -> tuple[list[str], list[list[str]]]:
    item = next(i for i in items if i["ifname"] == name)
    return list(item), [list(a) for a in item["addr_info"]]


def test_ip_json_has_the_keys_of_the_real_capture() -> None:
    cluster = running_app("9.2.8", "xl")
    ours = json.loads(must(cluster, "alpha", "ip", "-j", "addr", "show").stdout)
    real = json.loads((DATA / "iproute2" / "ip-j-addr.json").read_text())
    assert _keys(ours, "lo") == _keys(real, "lo")
    our_eth, our_addrs = _keys(ours, "eth0")
    real_br, _ = _keys(real, "br0")  # an ether link of the namespace itself
    real_rcl = _keys(real, "rcl0")[1]
    assert our_eth == real_br
    assert our_addrs == [real_rcl[0], real_rcl[1], real_rcl[4]]  # primary with brd, secondary, link-local


def test_mountinfo_escapes_paths_as_the_kernel_does() -> None:
    cluster = synced_pair()
    must(cluster, "alpha", "mkdir", "-p", "/srv/my data")
    must(cluster, "alpha", "mount", "-t", "ext4", DEVICE, "/srv/my data")
    text = read(cluster, "alpha", "/proc/self/mountinfo").stdout
    assert "/srv/my\\040data" in text
    table = parse_mountinfo(text)
    mine = table.mounts[-1]
    assert (mine.mount_point, mine.source, mine.parent_id) == (
        "/srv/my data",
        DEVICE,
        table.mounts[0].mount_id,
    )
    assert (
        must(cluster, "alpha", "findmnt", "-n", "-o", "SOURCE", "--mountpoint", "/srv/my data").stdout
        == f"{DEVICE}\n"
    )


def test_one_object_is_the_observers_runner_and_the_executors_host() -> None:
    cluster = simple_cluster()
    runner: Runner = SimHost(cluster, "alpha")
    host: Host = SimHost(cluster, "beta")
    assert runner.host().ok and host.monotonic() == 0.0
    with pytest.raises(ValueError, match="two nodes"):
        Cluster(nodes=cluster.nodes[:1])


def test_the_cluster_saves_and_loads_whole(tmp_path: Path) -> None:
    cluster = fresh_pair()
    must(cluster, "alpha", "drbdadm", "primary", "--force", RESOURCE)
    cluster.tick(7.5)
    cluster.faults.append(Fault(argv=["xl", "create"], times=2))
    cluster.crash = Crash(at=3)
    cluster.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alpha", "beta", "cluster.json"]
    assert (tmp_path / "alpha" / "node.json").is_file()
    loaded = Cluster.load(tmp_path)
    assert loaded == cluster
    assert loaded.syncs and loaded.clock == 7.5


def test_a_saved_cluster_is_changed_by_transactions(tmp_path: Path) -> None:
    synced_pair().save(tmp_path)
    host = SimHost(None, "alpha", root=tmp_path)
    assert host.run(("mkdir", "-p", "/srv/data")).ok
    assert SimHost(None, "alpha", root=tmp_path).run(("test", "-d", "/srv/data")).ok
    host.sleep(30)
    with transaction(tmp_path) as cluster:
        assert cluster.clock >= 30
        cluster.node("beta").drbd.auto_promote = True
    assert Cluster.load(tmp_path).node("beta").drbd.auto_promote
    assert not list(tmp_path.glob("**/.node.json.*")), "no temporary file is left behind"


def test_disks_sizes_give_the_volume_group_size() -> None:
    cluster = simple_cluster(disks={"/dev/sdb": 10 * GIB})
    must(cluster, "alpha", "vgcreate", "vg0", "/dev/sdb")
    vg = cluster.node("alpha").vg("vg0")
    assert vg is not None and vg.extent_count == (10 * GIB - 1024 * 1024) // (4 * 1024 * 1024)
    assert run(cluster, "alpha", "vgs", "--noheadings", "-o", "vg_name", "vg0").stdout == "  vg0\n"
