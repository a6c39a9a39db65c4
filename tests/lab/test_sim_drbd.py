"""DRBD's rules in the lab: who may be promoted, the initial sync, disconnects, split brain, a
backing disk that fails."""

import pytest

from reconciler.lab.sim import Cluster, SimHost, simple_cluster
from reconciler.lab.sim.commands import read
from reconciler.observe.drbd import (
    parse_drbdadm_dstate,
    parse_drbdadm_status,
    parse_proc_drbd_84,
    parse_status_json,
)
from reconciler.observe.drbd.states import ConnectionState, DiskState, ReplicationState, Role
from reconciler.observe.node import observe_node
from reconciler.observe.runner import Outcome
from tests.conftest import FIXTURES
from tests.lab.helpers import (
    DEVICE,
    LV_SIZE,
    RATE,
    RESOURCE,
    dstate,
    fresh_pair,
    must,
    role,
    run,
    storage,
    synced_pair,
)

SYNC_SECONDS = LV_SIZE / RATE


def test_a_fresh_pair_is_inconsistent_on_both_sides_and_promotion_is_refused() -> None:
    cluster = fresh_pair()
    assert dstate(cluster, "alpha") == dstate(cluster, "beta") == "Inconsistent/Inconsistent"
    refused = run(cluster, "alpha", "drbdadm", "primary", RESOURCE)
    assert (refused.outcome, refused.returncode) == (Outcome.FAILED, 17)
    assert refused.stderr.splitlines() == [
        "r0: State change failed: (-2) Need access to UpToDate data",
        "Command 'drbdsetup primary r0' terminated with exit code 17",
    ]
    assert role(cluster, "alpha") == "Secondary"


def test_the_initial_sync_starts_with_a_forced_primary_and_ends_with_time() -> None:
    cluster = fresh_pair()
    must(cluster, "alpha", "drbdadm", "primary", "--force", RESOURCE)
    assert (dstate(cluster, "alpha"), dstate(cluster, "beta")) == (
        "UpToDate/Inconsistent",
        "Inconsistent/UpToDate",
    )
    cluster.tick(SYNC_SECONDS * 0.9)
    assert dstate(cluster, "beta") == "Inconsistent/UpToDate"
    cluster.tick(SYNC_SECONDS * 0.2)
    assert dstate(cluster, "alpha") == dstate(cluster, "beta") == "UpToDate/UpToDate"
    assert cluster.syncs == []


def test_sleeping_on_the_virtual_clock_moves_the_resync() -> None:
    cluster = fresh_pair()
    host = SimHost(cluster, "alpha")
    must(cluster, "alpha", "drbdadm", "primary", "--force", RESOURCE)
    before = host.monotonic()
    host.sleep(SYNC_SECONDS + 1)
    assert host.monotonic() - before == SYNC_SECONDS + 1
    assert dstate(cluster, "beta") == "UpToDate/UpToDate"


def test_drbd_84_forces_with_overwrite_data_of_peer_and_drbd_9_drops_that_option() -> None:
    old = fresh_pair("8.4.11", "xm")
    must(old, "alpha", "drbdadm", "--", "--overwrite-data-of-peer", "primary", RESOURCE)
    assert dstate(old, "alpha") == "UpToDate/Inconsistent"
    new = fresh_pair()
    # drbd-utils 9 passes `primary r0` to drbdsetup without it: a plain, refused, promotion.
    assert (
        run(new, "alpha", "drbdadm", "--", "--overwrite-data-of-peer", "primary", RESOURCE).returncode == 17
    )


def test_never_primary_on_both_while_connected() -> None:
    cluster = synced_pair()
    for argv in (("drbdadm", "primary", RESOURCE), ("drbdadm", "primary", "--force", RESOURCE)):
        refused = run(cluster, "beta", *argv)
        assert refused.returncode == 11
        assert "(-1) Multiple primaries not allowed by config" in refused.stderr
    assert role(cluster, "beta") == "Secondary"


def test_a_secondary_taken_down_from_a_primary_is_outdated_and_cannot_be_promoted() -> None:
    cluster = synced_pair()
    must(cluster, "beta", "drbdadm", "down", RESOURCE)
    assert dstate(cluster, "beta") == "Outdated"  # drbdmeta reads it from the metadata
    cluster.write("alpha", RESOURCE, 100 * 1024 * 1024)
    cluster.set_link("private", False)
    must(cluster, "beta", "drbdadm", "up", RESOURCE)
    assert dstate(cluster, "beta") == "Outdated/DUnknown"
    assert run(cluster, "beta", "drbdadm", "primary", RESOURCE).returncode == 17
    cluster.set_link("private", True)
    assert dstate(cluster, "beta") == "Inconsistent/UpToDate"  # resyncing what alpha wrote meanwhile
    cluster.tick(9)
    assert dstate(cluster, "beta") == "Inconsistent/UpToDate"
    cluster.tick(2)  # 100 MiB at 10 MiB/s
    assert dstate(cluster, "beta") == "UpToDate/UpToDate"


def test_a_broken_link_leaves_both_connecting_and_promotable_then_split_brain() -> None:
    cluster = synced_pair()
    cluster.set_link("private", False)
    for node in ("alpha", "beta"):
        seen = observe_node(SimHost(cluster, node))
        assert seen.drbd is not None
        conn = seen.drbd.resources[0].connections[0]
        assert (conn.connection_state, conn.peer_role) == (ConnectionState.CONNECTING, Role.UNKNOWN)
        assert conn.peer_volumes[0].peer_disk_state is DiskState.DUNKNOWN
    must(cluster, "beta", "drbdadm", "primary", RESOURCE)
    cluster.set_link("private", True)
    for node in ("alpha", "beta"):
        res = cluster.node(node).drbd.resource(RESOURCE)
        assert res is not None and res.split_brain and res.connection is ConnectionState.STANDALONE
        assert role(cluster, node) == "Primary"
    seen = observe_node(SimHost(cluster, "beta"))
    assert seen.drbd is not None
    assert seen.drbd.resources[0].connections[0].connection_state is ConnectionState.STANDALONE


def test_split_brain_is_resolved_by_the_victim_discarding_its_data() -> None:
    cluster = synced_pair()
    cluster.set_link("private", False)
    must(cluster, "beta", "drbdadm", "primary", RESOURCE)
    cluster.set_link("private", True)
    must(cluster, "beta", "drbdadm", "secondary", RESOURCE)
    must(cluster, "beta", "drbdadm", "connect", "--discard-my-data", RESOURCE)
    assert dstate(cluster, "beta") == "UpToDate/DUnknown"  # waits: the survivor is StandAlone too
    refused = run(cluster, "alpha", "drbdadm", "connect", "--discard-my-data", RESOURCE)
    assert refused.returncode == 0  # alpha was StandAlone: connect is accepted...
    alpha = cluster.node("alpha").drbd.resource(RESOURCE)
    assert alpha is not None and alpha.split_brain  # ...but alpha is Primary: it refuses to be the victim
    must(cluster, "beta", "drbdadm", "disconnect", RESOURCE)
    must(cluster, "beta", "drbdadm", "connect", "--discard-my-data", RESOURCE)
    must(cluster, "alpha", "drbdadm", "connect", RESOURCE)
    assert (role(cluster, "alpha"), role(cluster, "beta")) == ("Primary", "Secondary")
    assert dstate(cluster, "beta") == "UpToDate/UpToDate"  # nothing was written since: an empty resync


def test_a_node_that_powers_off_is_lost_by_its_peer_which_may_take_over() -> None:
    cluster = synced_pair()
    must(cluster, "alpha", "mkdir", "-p", "/srv/data")
    must(cluster, "alpha", "mount", "-t", "ext4", DEVICE, "/srv/data")
    must(cluster, "alpha", "ip", "addr", "add", "192.168.1.50/24", "dev", "eth0")
    cluster.power_off("alpha")
    assert run(cluster, "alpha", "drbdadm", "role", RESOURCE).outcome is Outcome.ERROR
    assert dstate(cluster, "beta") == "UpToDate/DUnknown"
    must(cluster, "beta", "drbdadm", "primary", RESOURCE)
    cluster.write("beta", RESOURCE, 50 * 1024 * 1024)
    cluster.power_on("alpha")
    alpha = cluster.node("alpha")
    assert alpha.drbd.resources == [] and not alpha.drbd.loaded
    assert alpha.mount_at("/srv/data") is None and alpha.xen.domains == []
    assert "192.168.1.50/24" not in [a.cidr for i in alpha.interfaces for a in i.addresses]
    assert read(cluster, "alpha", "/proc/drbd").outcome is Outcome.MISSING
    must(cluster, "alpha", "drbdadm", "up", RESOURCE)
    assert dstate(cluster, "alpha") == "Inconsistent/UpToDate"  # the crashed Primary resyncs from beta
    cluster.tick(6)
    assert dstate(cluster, "alpha") == "UpToDate/UpToDate" and role(cluster, "alpha") == "Secondary"


def test_a_device_in_use_cannot_be_demoted_taken_down_or_its_volume_removed() -> None:
    cluster = synced_pair()
    must(cluster, "alpha", "mkdir", "-p", "/srv/data")
    must(cluster, "alpha", "mount", "-t", "ext4", DEVICE, "/srv/data")
    for argv in (("drbdadm", "secondary", RESOURCE), ("drbdadm", "down", RESOURCE)):
        refused = run(cluster, "alpha", *argv)
        assert refused.returncode == 11
        assert "r0: State change failed: (-12) Device is held open by someone" in refused.stderr
    assert (
        run(cluster, "beta", "lvremove", "--yes", "vg0/data").stderr == "  Logical volume vg0/data in use.\n"
    )
    must(cluster, "alpha", "umount", "/srv/data")
    must(cluster, "alpha", "drbdadm", "secondary", RESOURCE)
    assert role(cluster, "alpha") == "Secondary"


def test_metadata_commands_answer_as_drbdmeta() -> None:
    cluster = simple_cluster()
    storage(cluster, "alpha")
    none = run(cluster, "alpha", "drbdadm", "dump-md", RESOURCE)
    assert none.returncode == 255 and none.stderr.startswith("No valid meta data found\n")
    must(cluster, "alpha", "drbdadm", "create-md", RESOURCE)
    assert must(cluster, "alpha", "drbdadm", "dump-md", RESOURCE).stdout.startswith("# DRBD meta data dump")
    again = run(cluster, "alpha", "drbdadm", "create-md", RESOURCE)
    assert (again.returncode, again.stdout) == (1, "Operation cancelled.\n")
    assert "Do you really want to overwrite the existing meta-data?" in again.stderr
    forced = must(cluster, "alpha", "drbdadm", "create-md", "--force", RESOURCE)
    assert "*** confirmation forced via --force option ***" in forced.stderr
    must(cluster, "alpha", "drbdadm", "up", RESOURCE)
    busy = run(cluster, "alpha", "drbdadm", "dump-md", RESOURCE)
    assert busy.returncode == 20 and busy.stderr.startswith("Device '0' is configured!")


def test_drbdadm_errors_for_unknown_resources_and_a_missing_module() -> None:
    cluster = simple_cluster()
    storage(cluster, "alpha")
    undefined = run(cluster, "alpha", "drbdadm", "role", "r9")
    assert (undefined.returncode, undefined.stderr) == (
        1,
        "'r9' not defined in your config (for this host).\n",
    )
    down = run(cluster, "alpha", "drbdadm", "role", RESOURCE)
    assert down.returncode == 10 and down.stderr.startswith("r0: Unknown resource\n")
    no_md = run(cluster, "alpha", "drbdadm", "up", RESOURCE)
    assert no_md.returncode == 10 and "(119) No valid meta-data signature found" in no_md.stderr
    cluster.node("beta").drbd.installed = False
    storage(cluster, "beta")
    missing = run(cluster, "beta", "drbdadm", "role", RESOURCE)
    assert missing.returncode == 20 and missing.stderr.startswith("Failed to modprobe drbd")


@pytest.mark.parametrize(
    ("version", "text"),
    [("9.2.8", "Consistent\n"), ("8.4.11", "Consistent/DUnknown\n"), ("8.3.16", "Consistent/DUnknown\n")],
)
def test_dstate_of_a_resource_that_is_down_comes_from_the_metadata(version: str, text: str) -> None:
    cluster = synced_pair(version, "xl")
    must(cluster, "alpha", "drbdadm", "secondary", RESOURCE)
    must(cluster, "alpha", "drbdadm", "down", RESOURCE)
    assert must(cluster, "alpha", "drbdadm", "dstate", RESOURCE).stdout == text


# --- a backing disk that fails (on-io-error detach) -------------------------------------------

MIB = 1024 * 1024
IO_ERROR = [
    "0: Failure: (118) IO error(s) occurred during initial access to meta-data.",
    "",
    "Command 'drbdsetup attach 0 /dev/vg0/data /dev/vg0/data internal' terminated with exit code 10",
]


def _resource(cluster: Cluster, node: str) -> tuple[bool, ConnectionState]:
    res = cluster.node(node).drbd.resource(RESOURCE)
    assert res is not None
    return res.attached, res.connection


def test_a_primary_whose_disk_fails_stays_primary_diskless_through_its_uptodate_peer() -> None:
    cluster = synced_pair()
    must(cluster, "alpha", "mkdir", "-p", "/srv/data")
    must(cluster, "alpha", "mount", "-t", "ext4", DEVICE, "/srv/data")
    assert cluster.fail_disk("alpha", RESOURCE) == "/dev/vg0/data"
    assert (role(cluster, "alpha"), dstate(cluster, "alpha")) == ("Primary", "Diskless/UpToDate")
    assert dstate(cluster, "beta") == "UpToDate/Diskless"  # still connected: beta serves the I/O
    cluster.write("alpha", RESOURCE, 20 * MIB)  # served by beta's disk
    must(cluster, "alpha", "umount", "/srv/data")  # then demoted and promoted again, via beta:
    must(cluster, "alpha", "drbdadm", "secondary", RESOURCE)
    must(cluster, "alpha", "drbdadm", "primary", RESOURCE)


def test_a_secondary_whose_disk_fails_becomes_diskless_and_the_primary_goes_on() -> None:
    cluster = synced_pair()
    cluster.fail_disk("beta", "/dev/sdb")  # the physical disk under the LV vg0/data
    assert (role(cluster, "beta"), dstate(cluster, "beta")) == ("Secondary", "Diskless/UpToDate")
    assert dstate(cluster, "alpha") == "UpToDate/Diskless"
    cluster.write("alpha", RESOURCE, 30 * MIB)  # kept in alpha's bitmap for beta
    failed = run(cluster, "beta", "drbdadm", "attach", RESOURCE)
    assert (failed.returncode, failed.stderr.splitlines()) == (10, IO_ERROR)
    cluster.repair_disk("beta", "/dev/sdb")
    must(cluster, "beta", "drbdadm", "attach", RESOURCE)
    assert dstate(cluster, "beta") == "Inconsistent/UpToDate"
    cluster.tick(3.5)  # 30 MiB at 10 MiB/s
    assert dstate(cluster, "beta") == "UpToDate/UpToDate"


def test_a_primary_without_an_uptodate_peer_loses_its_data_but_can_be_demoted() -> None:
    cluster = synced_pair()
    cluster.set_link("private", False)
    cluster.fail_disk("alpha", RESOURCE)
    assert (role(cluster, "alpha"), dstate(cluster, "alpha")) == ("Primary", "Diskless/DUnknown")
    with pytest.raises(OSError, match=r"\[Errno 5\] Input/output error: '/dev/drbd0'"):
        cluster.write("alpha", RESOURCE, MIB)  # the device fails the I/O: there is no data left
    must(cluster, "alpha", "drbdadm", "secondary", RESOURCE)  # nothing holds it open
    assert role(cluster, "alpha") == "Secondary"


@pytest.mark.parametrize("force", [False, True])
def test_a_diskless_node_without_an_uptodate_peer_cannot_be_promoted(force: bool) -> None:
    cluster = synced_pair()
    must(cluster, "alpha", "drbdadm", "secondary", RESOURCE)
    cluster.fail_disk("beta", RESOURCE)
    cluster.set_link("private", False)
    argv = ("drbdadm", "primary", *(("--force",) if force else ()), RESOURCE)
    refused = run(cluster, "beta", *argv)
    assert (refused.outcome, refused.returncode) == (Outcome.FAILED, 17)
    assert refused.stderr.splitlines() == [
        "r0: State change failed: (-2) Need access to UpToDate data",
        f"Command 'drbdsetup primary r0{' --force' if force else ''}' terminated with exit code 17",
    ]
    cluster.set_link("private", True)
    must(cluster, "beta", *argv)  # connected to alpha's UpToDate disk: a Diskless Primary
    assert (role(cluster, "beta"), dstate(cluster, "beta")) == ("Primary", "Diskless/UpToDate")


def test_attach_up_and_adjust_fail_while_the_disk_is_broken_and_work_once_it_is_repaired() -> None:
    cluster = synced_pair()
    cluster.fail_disk("beta", RESOURCE)
    for argv in (("drbdadm", "attach", RESOURCE), ("drbdadm", "adjust", RESOURCE)):
        failed = run(cluster, "beta", *argv)
        assert (failed.returncode, failed.stderr.splitlines()) == (10, IO_ERROR)
    cluster.power_off("beta")
    cluster.write("alpha", RESOURCE, 10 * MIB)
    cluster.power_on("beta")
    assert cluster.node("beta").failed_devices == ["/dev/vg0/data"]  # the hardware is still broken
    failed = run(cluster, "beta", "drbdadm", "up", RESOURCE)
    assert (failed.returncode, failed.stderr.splitlines()) == (10, IO_ERROR)
    # drbdadm stopped at the attach: the resource is there, Diskless, without its connection.
    assert _resource(cluster, "beta") == (False, ConnectionState.STANDALONE)
    assert dstate(cluster, "beta") == "Diskless/DUnknown"
    again = run(cluster, "beta", "drbdadm", "up", RESOURCE)
    assert again.returncode == 10 and "(161) Minor or volume exists already" in again.stderr
    cluster.repair_disk("beta", "/dev/vg0/data")
    must(cluster, "beta", "drbdadm", "adjust", RESOURCE)  # attaches, then connects
    assert _resource(cluster, "beta") == (True, ConnectionState.CONNECTED)
    assert dstate(cluster, "beta") == "Inconsistent/UpToDate"
    cluster.tick(1.5)  # the 10 MiB written meanwhile
    assert dstate(cluster, "beta") == "UpToDate/UpToDate"


def test_after_the_repair_attach_resyncs_what_the_peer_wrote_meanwhile() -> None:
    cluster = synced_pair()
    cluster.fail_disk("alpha", RESOURCE)
    cluster.write("alpha", RESOURCE, 100 * MIB)  # goes to beta only: alpha's data is behind
    assert cluster.repair_disk("alpha", RESOURCE) == "/dev/vg0/data"
    assert dstate(cluster, "alpha") == "Diskless/UpToDate"  # repaired, but not attached by itself
    must(cluster, "alpha", "drbdadm", "attach", RESOURCE)
    assert dstate(cluster, "alpha") == "Inconsistent/UpToDate"
    assert dstate(cluster, "beta") == "UpToDate/Inconsistent"
    assert cluster.syncs[0].source == "beta"
    cluster.tick(9)
    assert dstate(cluster, "alpha") == "Inconsistent/UpToDate"
    cluster.tick(2)  # 100 MiB at 10 MiB/s
    assert dstate(cluster, "alpha") == "UpToDate/UpToDate" and role(cluster, "alpha") == "Primary"
    already = run(cluster, "alpha", "drbdadm", "attach", RESOURCE)
    assert already.returncode == 10 and "(124) Device is attached to a disk" in already.stderr


EVENTS2 = "drbdsetup-events2-create-change-to-primary.txt"
DISKLESS_TEXT = {  # `drbdsetup status` into a pipe; a blank line after each resource
    "alpha": "r0 role:Primary\n  disk:Diskless client:no\n  beta role:Secondary\n    peer-disk:UpToDate\n\n",
    "beta": "r0 role:Secondary\n  disk:UpToDate\n  alpha role:Primary\n"
    "    peer-disk:Diskless peer-client:no\n\n",
}


@pytest.mark.parametrize(
    ("node", "mine", "theirs"),
    [("alpha", DiskState.DISKLESS, DiskState.UP_TO_DATE), ("beta", DiskState.UP_TO_DATE, DiskState.DISKLESS)],
)
def test_the_drbd_9_reports_of_a_failed_disk_parse_as_diskless(
    node: str, mine: DiskState, theirs: DiskState
) -> None:
    cluster = synced_pair()
    cluster.fail_disk("alpha", RESOURCE)
    text = must(cluster, node, "drbdsetup", "status").stdout
    assert text == DISKLESS_TEXT[node]
    # The same words as drbdsetup's events2 stream prints for a real Diskless device.
    assert "disk:Diskless client:no" in (FIXTURES / "drbd" / EVENTS2).read_text()
    json_text = must(cluster, node, "drbdsetup", "status", "--json", "--statistics").stdout
    for status in (parse_status_json(json_text), parse_drbdadm_status(text)):
        assert status.unrecognised == ()
        (res,) = status.resources
        assert res.volumes[0].disk_state is mine
        if mine is DiskState.DISKLESS:
            assert res.volumes[0].client is False  # detached, not a diskless client by configuration
        peer = res.connections[0].peer_volumes[0]
        assert (peer.peer_disk_state, peer.replication_state) == (theirs, ReplicationState.ESTABLISHED)
    dstates = parse_drbdadm_dstate(must(cluster, node, "drbdadm", "dstate", RESOURCE).stdout)
    assert (dstates.volumes[0].disk_state, dstates.volumes[0].peer_disk_states) == (mine, (theirs,))
    seen = observe_node(SimHost(cluster, node))
    assert seen.drbd is not None and seen.drbd.resources[0].volumes[0].disk_state is mine


def test_the_drbd_84_reports_of_a_failed_disk_match_the_real_proc_drbd() -> None:
    cluster = synced_pair("8.4.11", "xm")
    cluster.fail_disk("beta", RESOURCE)
    assert dstate(cluster, "beta") == "Diskless/UpToDate" and dstate(cluster, "alpha") == "UpToDate/Diskless"
    proc = read(cluster, "beta", "/proc/drbd").stdout
    state_line = proc.splitlines()[2]
    assert state_line == " 0: cs:Connected ro:Secondary/Primary ds:Diskless/UpToDate C r-----"
    real = (FIXTURES / "drbd" / "proc-drbd-84-mixed-states.txt").read_text().splitlines()
    assert " 6: " + state_line[4:] in real  # the Diskless minor of a real 8.4.2
    (res,) = parse_proc_drbd_84(proc).resources
    peer_disk = res.connections[0].peer_volumes[0].peer_disk_state
    assert (res.volumes[0].disk_state, peer_disk) == (DiskState.DISKLESS, DiskState.UP_TO_DATE)
    (other,) = parse_proc_drbd_84(read(cluster, "alpha", "/proc/drbd").stdout).resources
    assert other.connections[0].peer_volumes[0].peer_disk_state is DiskState.DISKLESS
    seen = observe_node(SimHost(cluster, "beta"))
    assert seen.drbd is not None and seen.drbd.resources[0].volumes[0].disk_state is DiskState.DISKLESS
