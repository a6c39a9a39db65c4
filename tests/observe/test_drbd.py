import time
from typing import Any

import pytest

from reconciler.observe import drbd
from reconciler.observe.drbd import (
    ConnectionState,
    DiskState,
    Events2Fold,
    ReplicationState,
    Role,
    SyncState,
    parse_drbdadm_cstate,
    parse_drbdadm_dstate,
    parse_drbdadm_role,
    parse_drbdadm_status,
    parse_drbdsetup_show_84,
    parse_drbdsetup_status_84_verbose,
    parse_events2,
    parse_events2_line,
    parse_proc_drbd_80,
    parse_proc_drbd_83,
    parse_proc_drbd_84,
    parse_show_json,
    parse_status_json,
)
from reconciler.observe.drbd.events2 import EventAction, EventObject
from reconciler.observe.errors import ParseError
from reconciler.observe.facts import Unrecognised
from tests.conftest import FIXTURES
from tests.observe.cases import assert_subset, fixture_path, load_cases

CASES = load_cases("drbd")


@pytest.mark.parametrize(("name", "case"), CASES, ids=[name for name, _ in CASES])
def test_case(name: str, case: dict[str, Any]) -> None:
    model = drbd.KINDS[case["kind"]](fixture_path(case["fixture"]).read_text())
    assert_subset(case["expect"], model.model_dump(mode="json"))


def test_every_command_output_has_a_case() -> None:
    # Configuration files (.res) are not command outputs; drbd-overview has no kind (yet).
    covered = {case["fixture"] for _, case in CASES}
    outputs = {
        f"drbd/{p.name}"
        for p in (FIXTURES / "drbd").iterdir()
        if p.suffix != ".res" and not p.name.startswith("drbd-overview")
    }
    assert outputs
    assert outputs - covered == set()


# ---- drbdsetup status --json

STATUS_JSON = """[
{
  "name": "r0",
  "node-id": 0,
  "role": "Secondary",
  "suspended": false,
  "devices": [
    { "volume": 0, "minor": 1, "disk-state": "%(disk)s", "client": false, "quorum": true } ],
  "connections": [
    { "peer-node-id": 1, "name": "b", "connection-state": "Connected", "peer-role": "Primary",
      "peer_devices": [
        { "volume": 0, "replication-state": "SyncTarget", "peer-disk-state": "UpToDate",
          "out-of-sync": 2048, "percent-in-sync": %(percent)s, "percent-resync-done": 12.50 } ] } ]
}
]
"""


@pytest.mark.parametrize("printed", ["nan", "-nan", "inf"])
def test_status_json_printf_nan_is_no_value(printed: str) -> None:
    model = parse_status_json(STATUS_JSON % {"disk": "Inconsistent", "percent": printed})
    peer = model.resources[0].connections[0].peer_volumes[0]
    assert peer.percent_in_sync is None
    assert peer.done_percent == 12.5
    assert peer.out_of_sync == 2048 * 1024


def test_status_json_nan_inside_a_string_is_left_alone() -> None:
    text = STATUS_JSON % {"disk": "Inconsistent", "percent": "1.5"}
    model = parse_status_json(text.replace('"name": "b"', '"name": "nan"'))
    assert model.resources[0].connections[0].name == "nan"


def test_status_json_unknown_state_is_surfaced() -> None:
    model = parse_status_json(STATUS_JSON % {"disk": "Shiny", "percent": "100.00"})
    assert model.resources[0].volumes[0].disk_state is DiskState.UNRECOGNISED
    assert model.unrecognised == (Unrecognised(line=8, field="disk-state", value="Shiny"),)


def test_status_json_truncated_is_an_error_on_its_line() -> None:
    text = STATUS_JSON % {"disk": "UpToDate", "percent": "100.00"}
    with pytest.raises(ParseError) as err:
        parse_status_json("\n".join(text.splitlines()[:9]))
    assert err.value.kind == "drbd-status-json"
    assert err.value.line is not None and err.value.line >= 9


def test_status_json_wrong_shape_is_an_error() -> None:
    with pytest.raises(ParseError):
        parse_status_json('{"name": "r0"}')
    with pytest.raises(ParseError):
        parse_status_json('[{"name": "r0", "role": "Primary", "devices": {}}]')


def test_status_json_no_resources() -> None:
    assert parse_status_json("[\n]\n").resources == ()


# ---- drbdsetup events2


def test_events2_line_with_timestamp_and_address_values() -> None:
    event = parse_events2_line(
        "2024-03-01T10:00:00.123456+01:00 change path name:r0 peer-node-id:1 conn-name:b"
        " local:ipv6:[fe80::1]:7789 peer:ipv4:10.0.0.2:7789 established:yes",
        line_number=7,
    )
    assert event.line == 7
    assert event.timestamp == "2024-03-01T10:00:00.123456+01:00"
    assert (event.action, event.object) == (EventAction.CHANGE, EventObject.PATH)
    assert event.get("local") == "ipv6:[fe80::1]:7789"


def test_events2_line_markers() -> None:
    done = parse_events2_line("exists -")
    assert (done.action, done.object) == (EventAction.EXISTS, EventObject.NONE)
    lost = parse_events2_line("- skipped 3")
    assert (lost.action, lost.skipped) == (EventAction.SKIPPED, 3)


@pytest.mark.parametrize(
    "line",
    [
        "frobnicate resource name:r0",
        "change gizmo name:r0",
        "change device name:r0 minor:1 disk:UpToDate",  # no volume:
        "change resource name:r0 role",
        "change -",
        "exists",
    ],
)
def test_events2_line_of_the_wrong_shape(line: str) -> None:
    with pytest.raises(ParseError) as err:
        parse_events2_line(line, line_number=4)
    assert (err.value.line, err.value.text) == (4, line)


def test_events2_fold_applies_changes_destroy_and_rename() -> None:
    text = "\n".join(
        [
            "exists resource name:a role:Secondary suspended:no",
            "exists device name:a volume:0 minor:1 disk:UpToDate client:no",
            "exists connection name:a peer-node-id:1 conn-name:b connection:Connected role:Secondary",
            "exists peer-device name:a peer-node-id:1 conn-name:b volume:0 replication:Established"
            " peer-disk:UpToDate",
            "exists resource name:gone role:Secondary suspended:no",
            "exists -",
            "change connection name:a peer-node-id:1 conn-name:b connection:StandAlone sync-state:SplitBrain",
            "change peer-device name:a peer-node-id:1 conn-name:b volume:0 replication:Off"
            " peer-disk:DUnknown",
            "change resource name:a role:Primary suspended:user,quorum",
            "destroy resource name:gone",
            "rename resource name:a new_name:c",
        ]
    )
    model = parse_events2(text)
    (res,) = model.resources
    assert (res.name, res.role, res.suspended, res.suspended_reasons) == (
        "c",
        Role.PRIMARY,
        True,
        ("user", "quorum"),
    )
    conn = res.connections[0]
    assert (conn.connection_state, conn.sync_state) == (ConnectionState.STANDALONE, SyncState.SPLIT_BRAIN)
    assert conn.peer_role is Role.SECONDARY  # unchanged keys keep their value
    assert conn.peer_volumes[0].replication_state is ReplicationState.OFF


def test_events2_event_for_an_unknown_connection_is_an_error() -> None:
    text = "exists resource name:a role:Secondary\nexists peer-device name:a peer-node-id:3 volume:0\n"
    with pytest.raises(ParseError) as err:
        parse_events2(text)
    assert err.value.line == 2


def test_events2_fold_line_by_line_as_a_stream_reader_would() -> None:
    fold = Events2Fold()
    lines = (
        (FIXTURES / "drbd" / "drbdsetup-events2-create-change-to-primary.txt").read_text().splitlines()
    )
    roles = []
    for number, line in enumerate(lines, 1):
        fold.apply(parse_events2_line(line, number))
        status = fold.status()
        roles.append(status.resources[0].role if status.resources else None)
    assert fold.initial_state_done
    assert roles[:2] == [None, Role.SECONDARY]
    assert roles[-2:] == [Role.SECONDARY, Role.PRIMARY]


def test_events2_change_of_an_unknown_resource_is_an_error() -> None:
    fold = Events2Fold()
    with pytest.raises(ParseError) as err:
        fold.apply(parse_events2_line("change resource name:nope role:Primary", 9))
    assert err.value.line == 9


def test_events2_lost_events_clear_the_model() -> None:
    text = (
        "exists resource name:a role:Secondary\nexists -\n"
        "- skipped 2\nchange device name:a volume:0 disk:Failed\n"
    )
    model = parse_events2(text)
    assert (model.lost_events, model.resources) == (2, ())


def test_events2_unknown_state_is_surfaced_with_its_line() -> None:
    text = "exists resource name:a role:Secondary\nexists device name:a volume:0 minor:0 disk:Sparkling\n"
    model = parse_events2(text)
    assert model.resources[0].volumes[0].disk_state is DiskState.UNRECOGNISED
    assert model.unrecognised == (Unrecognised(line=2, field="disk", value="Sparkling"),)


def test_events2_now_gives_the_models_of_status_json() -> None:
    events = parse_events2(
        "exists resource name:r0 role:Secondary suspended:no\n"
        "exists connection name:r0 peer-node-id:1 conn-name:b connection:Connected role:Primary\n"
        "exists device name:r0 volume:0 minor:1 disk:Inconsistent client:no quorum:yes\n"
        "exists peer-device name:r0 peer-node-id:1 conn-name:b volume:0 replication:SyncTarget"
        " peer-disk:UpToDate done:12.50\n"
        "exists -\n"
    )
    status = parse_status_json(STATUS_JSON % {"disk": "Inconsistent", "percent": "nan"})
    keep = {"name", "role", "suspended", "volumes", "connections"}
    drop_peer = {"out_of_sync", "percent_in_sync", "peer_client", "resync_suspended"}

    def comparable(model: Any) -> dict[str, Any]:
        data: dict[str, Any] = model.model_dump(include=keep)
        for conn in data["connections"]:
            conn["peer_volumes"] = [
                {k: v for k, v in p.items() if k not in drop_peer} for p in conn["peer_volumes"]
            ]
        return data

    assert comparable(events.resources[0]) == comparable(status.resources[0])


def test_events2_empty_output() -> None:
    model = parse_events2("")
    assert (model.events, model.resources, model.initial_state_done) == ((), (), False)


# ---- drbdadm status text


def test_drbdadm_status_wrapped_and_optional_keys() -> None:
    text = (
        "r0 role:Primary suspended:fencing\n"
        "  volume:0 disk:UpToDate quorum:no\n"
        "  volume:1 disk:Diskless client:yes\n"
        "  b node-id:1 connection:Connected role:Secondary congested:yes\n"
        "    volume:0 replication:PausedSyncS peer-disk:Inconsistent done:5.00\n"
        "        resync-suspended:dependency\n"
        "    volume:1 peer-disk:UpToDate\n"
        "  node-id:2 connection:Connecting\n"
        "\n"
    )
    (res,) = parse_drbdadm_status(text).resources
    assert (res.suspended, res.suspended_reasons) == (True, ("fencing",))
    assert [(v.number, v.disk_state, v.quorum, v.client) for v in res.volumes] == [
        (0, DiskState.UP_TO_DATE, False, None),
        (1, DiskState.DISKLESS, None, True),
    ]
    b, anonymous = res.connections
    assert (b.name, b.peer_node_id, b.congested) == ("b", 1, True)
    assert [(p.replication_state, p.resync_suspended) for p in b.peer_volumes] == [
        (ReplicationState.PAUSED_SYNC_S, ("dependency",)),
        (ReplicationState.ESTABLISHED, ()),
    ]
    assert (anonymous.name, anonymous.peer_node_id, anonymous.peer_role) == (None, 2, Role.UNKNOWN)


def test_drbdadm_status_unknown_state_is_surfaced() -> None:
    model = parse_drbdadm_status("r0 role:Secondary\n  disk:UpToDate\n  b connection:Dancing\n")
    assert model.resources[0].connections[0].connection_state is ConnectionState.UNRECOGNISED
    assert model.unrecognised == (Unrecognised(line=3, field="connection", value="Dancing"),)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("r0 role:Secondary\n  disk:UpToDate\n     odd indent:5\n", 3),
        ("r0 role:Secondary\n  disk:UpToDate\n  b role:Secondary\n    peer-disk UpToDate\n", 4),
        ("  disk:UpToDate\n", 1),
        ("r0 suspended:no\n  disk:UpToDate\n", 1),  # no role:
        ("r0 role:Secondary\n  b role:Secondary\n  disk:UpToDate\n", 3),  # device after connection
    ],
)
def test_drbdadm_status_garbage_is_an_error_on_its_line(text: str, line: int) -> None:
    with pytest.raises(ParseError) as err:
        parse_drbdadm_status(text)
    assert err.value.line == line


def test_drbdadm_status_nothing_configured() -> None:
    assert parse_drbdadm_status("").resources == ()
    assert parse_drbdadm_status("# No currently configured DRBD found.\n").resources == ()


def test_drbdsetup_status_84_without_connection_has_no_replication() -> None:
    text = (
        "r0 role:Primary suspended:no\n"
        "  volume:0 minor:0 disk:UpToDate\n"
        "  peer connection:Connecting role:Unknown congested:no\n"
        "    volume:0 replication:WFConnection peer-disk:DUnknown resync-suspended:no\n"
    )
    conn = parse_drbdsetup_status_84_verbose(text).resources[0].connections[0]
    assert (conn.name, conn.connection_state) == (None, ConnectionState.CONNECTING)
    assert conn.peer_volumes[0].replication_state is ReplicationState.OFF


# ---- /proc/drbd

PROC_84 = "\n".join(
    [
        "version: 8.4.11-1 (api:1/proto:86-101)",
        "srcversion: 2E52D4A7C2E1A42E1A5C7B3",
        " 0: cs:VerifyS ro:Primary/Secondary ds:UpToDate/UpToDate C r-----",
        "    ns:10 nr:0 dw:20 dr:30 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0",
        # 8.4 prints no line break after an "M" total (drbd_syncer_progress).
        "\t[>...................] verified:  2.5% (9980/10236)M"
        "finish: 2:50:20 speed: 1,024 (1,000 -- 990) want: 4,096 K/sec (stalled)",
        "\t  2% sector pos: 524288/20963328",
        "\tresync: used:0/61 hits:0 misses:0 starving:0 locked:0 changed:0",
        "\tact_log: used:0/1237 hits:0 misses:0 starving:0 locked:0 changed:0",
        " 1: cs:PausedSyncT ro:Secondary/Primary ds:Inconsistent/UpToDate A s-pu-",
        "    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:d oos:100",
        "\t[===>................] sync'ed: 20.0% (80/100)K",
        "\tfinish: 0:00:08 speed: 10 (10) K/sec",
    ]
)


def test_proc_84_verify_progress_on_one_line_and_flags() -> None:
    model = parse_proc_drbd_84(PROC_84)
    assert (model.version, model.build) == ("8.4.11-1", "srcversion: 2E52D4A7C2E1A42E1A5C7B3")
    verify, paused = model.resources
    progress = verify.connections[0].peer_volumes[0].resync
    assert progress is not None
    assert (progress.verify, progress.percent, progress.left, progress.total) == (
        True,
        2.5,
        9980 << 20,
        10236 << 20,
    )
    assert (progress.finish_seconds, progress.speed, progress.average_speed) == (
        10220,
        1024 * 1024,
        990 * 1024,
    )
    assert (progress.want, progress.stalled) == (4096 * 1024, True)
    assert verify.connections[0].peer_volumes[0].replication_state is ReplicationState.VERIFY_S
    peer = paused.connections[0].peer_volumes[0]
    assert (paused.suspended, paused.write_ordering) == (True, "drain")
    assert peer.resync_suspended == ("peer", "user")
    assert peer.resync is not None and (peer.resync.left, peer.resync.speed) == (80 * 1024, 10 * 1024)


def test_proc_version_family_is_checked() -> None:
    text = (FIXTURES / "drbd" / "proc-drbd-84-mixed-states.txt").read_text()
    with pytest.raises(ParseError) as err:
        parse_proc_drbd_83(text)
    assert err.value.line == 1
    with pytest.raises(ParseError):
        parse_proc_drbd_80(text)


def test_proc_80_rejects_ro_and_83_rejects_st() -> None:
    line = " 0: cs:Connected st:Primary/Secondary ds:UpToDate/UpToDate C r---\n"
    with pytest.raises(ParseError) as err:
        parse_proc_drbd_83("version: 8.3.1 (api:88/proto:86-89)\n" + line)
    assert err.value.line == 2


def test_proc_unknown_state_is_surfaced() -> None:
    text = (
        "version: 8.4.2 (api:1/proto:86-101)\n"
        " 0: cs:Dreaming ro:Primary/Secondary ds:UpToDate/Vanished C r-----\n"
        "    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0\n"
    )
    model = parse_proc_drbd_84(text)
    conn = model.resources[0].connections[0]
    assert conn.connection_state is ConnectionState.UNRECOGNISED
    assert conn.peer_volumes[0].replication_state is ReplicationState.UNRECOGNISED
    assert conn.peer_volumes[0].peer_disk_state is DiskState.UNRECOGNISED
    assert model.unrecognised == (
        Unrecognised(line=2, field="cs", value="Dreaming"),
        Unrecognised(line=2, field="ds", value="Vanished"),
    )


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("hello\n", 1),
        ("", 1),
        ("version: 8.4.2 (api:1/proto:86-101)\n 0: cs:Unconfigured\n 0: cs:Unconfigured\n", 3),
    ],
)
def test_proc_what_is_not_proc_drbd_is_an_error_on_its_line(text: str, line: int) -> None:
    with pytest.raises(ParseError) as err:
        parse_proc_drbd_84(text)
    assert err.value.line == line


_V84 = "version: 8.4.2 (api:1/proto:86-101)\n"
_STANDALONE = " 0: cs:StandAlone ro:Secondary/Unknown ds:UpToDate/DUnknown   r-----\n"
_COUNTERS = "    ns:1 nr:2 dw:3 dr:4 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:5\n"


@pytest.mark.parametrize(
    ("text", "unknown"),
    [
        (_V84 + " 0: cs:Connected ro:Primary/Secondary\n" + _COUNTERS, [(2, "minor 0")]),
        (_V84 + "    ns:0 nr:0\n", [(2, "line")]),
        (_V84 + " 0: cs:Unconfigured\n    ns:0\n", [(3, "minor 0")]),
        (_V84 + _STANDALONE + "    ns:0 nr:0 dw:0\n", [(2, "minor 0"), (3, "minor 0")]),
        (_V84 + _STANDALONE, [(2, "minor 0")]),  # no counters line
        (_V84 + _STANDALONE + _COUNTERS + "\tfinish: soon\n", [(4, "minor 0")]),
    ],
)
def test_proc_a_line_not_understood_is_listed_not_fatal(text: str, unknown: list[tuple[int, str]]) -> None:
    model = parse_proc_drbd_84(text)
    assert [(u.line, u.field) for u in model.unrecognised] == unknown


def test_proc_garbage_in_one_minor_costs_only_that_minor() -> None:
    text = (FIXTURES / "drbd" / "proc-drbd-84-mixed-states.txt").read_text()
    reference = parse_proc_drbd_84(text)
    lines = text.splitlines()
    # Garbage inside the first configured minor's block: after its minor line, and in place of
    # its counters line.
    first = next(i for i, line in enumerate(lines) if "ro:" in line)
    counters = lines[first + 1]
    broken = [*lines[: first + 1], "\tgarbage: ???", "    ns:oops", *lines[first + 2 :]]
    model = parse_proc_drbd_84("\n".join(broken) + "\n")
    minor = reference.resources[0].volumes[0].minor
    assert counters.strip().startswith("ns:")
    assert [(u.line, u.field, u.value) for u in model.unrecognised] == [
        (first + 1, f"minor {minor}", "no counters line"),
        (first + 2, f"minor {minor}", "garbage: ???"),
        (first + 3, f"minor {minor}", "ns:oops"),
    ]
    assert model.resources[1:] == reference.resources[1:]
    assert model.unconfigured_minors == reference.unconfigured_minors
    damaged = model.resources[0]
    assert (damaged.role, damaged.volumes[0].minor) == (reference.resources[0].role, minor)
    assert damaged.volumes[0].written is None and damaged.connections[0].peer_volumes[0].sent is None
    assert damaged.connections[0].connection_state == reference.resources[0].connections[0].connection_state


def test_proc_minor_line_of_another_shape_keeps_what_it_shows() -> None:
    text = _V84 + " 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r----- extra\n" + _COUNTERS
    second = " 1: cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate C r-----\n"
    model = parse_proc_drbd_84(text + second + _COUNTERS)
    odd, fine = model.resources
    assert (odd.role, odd.volumes[0].disk_state, odd.suspended) == (Role.PRIMARY, DiskState.UP_TO_DATE, None)
    assert odd.connections[0].peer_volumes[0].out_of_sync == 5 * 1024
    assert fine.suspended is False
    assert model.unrecognised == (Unrecognised(line=2, field="minor 0", value=text.splitlines()[1].strip()),)
    bare = parse_proc_drbd_84(_V84 + " 0: cs:Connected\n" + _COUNTERS).resources[0]
    assert (bare.role, bare.volumes[0].disk_state) == (Role.UNRECOGNISED, DiskState.UNRECOGNISED)


def test_proc_lines_that_only_appear_sometimes() -> None:
    text = (
        "version: 8.3.4 (api:88/proto:86-91)\n"
        " 0: cs:VerifyS ro:Primary/Secondary ds:UpToDate/UpToDate C r---\n"
        "    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:b oos:0\n"
        "\t 12%      1234/56789\n"
        "\tresync: used:0/61 hits:0 misses:0 starving:0 dirty:0 changed:0\n"
        "\tnn: lc_number refcnt rs_left\n"
        " \t 0: FREE\n"
        "\t 1:   12    1    512 --------- ------\n"
        " 1: cs:SyncTarget ro:Secondary/Primary ds:Inconsistent/UpToDate C r---\n"
        "    ns:0 nr:8 dw:8 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:b oos:92\n"
        "\t[=>..................] sync'ed:  8.0% (92/100)K queue_delay: 2.5 ms\n"
        "\tstalled\n"
    )
    model = parse_proc_drbd_83(text)
    assert model.unrecognised == ()
    progress = model.resources[1].connections[0].peer_volumes[0].resync
    assert progress is not None and (progress.stalled, progress.finish_seconds) == (True, None)
    blocked = parse_proc_drbd_84(_V84 + _STANDALONE + _COUNTERS + "\tblocked on activity log: 0\n")
    assert blocked.unrecognised == ()


def test_proc_parsing_stays_linear() -> None:
    block = _STANDALONE.replace(" 0:", "{n}:") + _COUNTERS
    text = _V84 + "".join(block.format(n=n) for n in range(4000))
    started = time.perf_counter()
    assert len(parse_proc_drbd_84(text).resources) == 4000
    hostile = _V84 + _STANDALONE + _COUNTERS + "\t[" + "=" * 100000 + " sync'ed: " + "9" * 100000 + "\n"
    assert len(parse_proc_drbd_84(hostile).unrecognised) == 1
    assert time.perf_counter() - started < 10


def test_proc_module_loaded_without_minors() -> None:
    model = parse_proc_drbd_84("version: 8.4.2 (api:1/proto:86-101)\nGIT-hash: abc build by x\n")
    assert (model.resources, model.unconfigured_minors) == ((), ())


# ---- one-line answers


def test_oneline_unknown_and_wrong_shapes() -> None:
    role = parse_drbdadm_role("Primary/Leader\n")
    assert (role.role, role.peer_role) == (Role.PRIMARY, Role.UNRECOGNISED)
    assert role.unrecognised == (Unrecognised(line=1, field="peer-role", value="Leader"),)
    for bad in ("", "Primary/Secondary/Secondary\n", "Primary\nSecondary\n"):
        with pytest.raises(ParseError):
            parse_drbdadm_role(bad)
    with pytest.raises(ParseError) as err:
        parse_drbdadm_dstate("UpToDate/\n")
    assert err.value.line == 1
    with pytest.raises(ParseError):
        parse_drbdadm_cstate("Connected/Connected\n")
    assert parse_drbdadm_cstate("").connection_states == ()
    cstates = parse_drbdadm_cstate("Connected\nConnecting\n").connection_states
    assert cstates == (ConnectionState.CONNECTED, ConnectionState.CONNECTING)
    dstates = parse_drbdadm_dstate("UpToDate/Inconsistent/DUnknown\n").volumes[0]
    assert dstates.peer_disk_states == (DiskState.INCONSISTENT, DiskState.DUNKNOWN)


# ---- drbdsetup show


def test_show_json_repeated_key_other_than_disk_is_an_error() -> None:
    with pytest.raises(ParseError):
        parse_show_json('[{"resource": "a", "resource": "b"}]')
    with pytest.raises(ParseError):
        parse_show_json(
            '[{"resource": "a", "_this_host": {"volumes": [{"volume_nr": 0, "disk": "x", "disk": "y"}]}}]'
        )


def test_show_84_unbalanced_or_unknown_is_an_error() -> None:
    with pytest.raises(ParseError) as err:
        parse_drbdsetup_show_84("resource r0 {\n    net {\n        protocol C;\n    }\n")
    assert err.value.kind == "drbdsetup-show-84"
    with pytest.raises(ParseError) as err:
        parse_drbdsetup_show_84("resource r0 {\n    shiny {\n    }\n}\n")
    assert err.value.line == 2
    assert parse_drbdsetup_show_84("").resources == ()
