"""What DRBD prints: `drbdsetup status [--json]`, /proc/drbd (9, 8.4 and 8.3), `drbdadm role|dstate|dump-md`.

The JSON is laid out as drbd-utils 9's `status_cmd` prints it (drbdsetup.c: resource_status_json,
device_status_json, connection_status_json, peer_device_status_json), sizes and counters in KiB,
the resync details only while a resync runs; the text as its resource_status, device_status,
connection_status and peer_device_status print it to a pipe (not a terminal, so a Diskless disk
has its `client:`). /proc/drbd of DRBD 9 has the version lines only; of 8.3 and 8.4 it has a
line pair per minor, with the progress lines of a resync (8.4's speed line adds `want:`).
"""

from reconciler.lab.sim.drbd import Side as DrbdSide
from reconciler.lab.sim.drbd import World, disk_state, peer_view, replication, sync_of
from reconciler.lab.sim.model import KIB, DrbdMetadata, SimNode
from reconciler.lab.sim.versions import release
from reconciler.observe.drbd.states import ConnectionState, DiskState, ReplicationState

SECTOR = 512
_JSON_BOOL = {True: "true", False: "false"}


def _device_json(side: DrbdSide) -> str:
    res = side.res
    return (
        "    {\n"
        f'      "volume": {res.volume},\n'
        f'      "minor": {res.minor},\n'
        f'      "disk-state": "{disk_state(side).value}",\n'
        '      "client": false,\n'
        '      "quorum": true,\n'
        f'      "size": {res.size // KIB},\n'
        '      "read": 0,\n'
        f'      "written": {res.written // KIB},\n'
        '      "al-writes": 0,\n'
        '      "bm-writes": 0,\n'
        '      "upper-pending": 0,\n'
        '      "lower-pending": 0\n'
        "    }"
    )


def _sync_details(world: World, side: DrbdSide, left: int, total: int) -> str:
    rate_sectors_ms = side.res.rate / SECTOR / 1000 if side.res.rate else 0.0
    sync = sync_of(world, side.res.name)
    elapsed_ms = int((world.clock - sync.started_at) * 1000) if sync is not None else 0
    done = total - left
    mib_s = side.res.rate / (1024 * 1024)
    eta = left / side.res.rate if side.res.rate else 987654321
    return (
        f'          "rs-total": {total // SECTOR},\n'
        f'          "rs-dt-start-ms": {elapsed_ms},\n'
        '          "rs-paused-ms": 0,\n'
        '          "rs-dt0-ms": 3000,\n'
        f'          "rs-db0-sectors": {int(rate_sectors_ms * 3000)},\n'
        '          "rs-dt1-ms": 3000,\n'
        f'          "rs-db1-sectors": {int(rate_sectors_ms * 3000)},\n'
        '          "rs-failed": 0,\n'
        '          "rs-same-csum": 0,\n'
        f'          "want": {side.res.rate / KIB:.2f},\n'
        f'          "db0/dt0 [MiB/s]": {mib_s:.2f},\n'
        f'          "db1/dt1 [MiB/s]": {mib_s:.2f},\n'
        f'          "estimated-seconds-to-finish": {eta:.0f},\n'
        f'          "db/dt [MiB/s]": {mib_s:.2f},\n'
        f'          "percent-resync-done": {100.0 * done / total if total else 0:.2f}\n'
    )


def _peer_device_json(world: World, side: DrbdSide) -> str:
    repl = replication(world, side)
    _, peer_disk = peer_view(world, side)
    sync = (
        sync_of(world, side.res.name)
        if repl in (ReplicationState.SYNC_SOURCE, ReplicationState.SYNC_TARGET)
        else None
    )
    left = sync.left if sync is not None else 0
    done = sync.total - sync.left if sync is not None else 0
    size = side.res.size
    in_sync = 100 * (1 - left / size) if size else 0.0
    details = sync is not None and sync.total > 0
    return (
        "        {\n"
        f'          "volume": {side.res.volume},\n'
        f'          "replication-state": "{repl.value}",\n'
        f'          "peer-disk-state": "{peer_disk.value}",\n'
        '          "peer-client": false,\n'
        '          "resync-suspended": "no",\n'
        f'          "received": {done // KIB if repl is ReplicationState.SYNC_TARGET else 0},\n'
        f'          "sent": {done // KIB if repl is ReplicationState.SYNC_SOURCE else 0},\n'
        f'          "out-of-sync": {left // KIB},\n'
        '          "pending": 0,\n'
        '          "unacked": 0,\n'
        f'          "has-sync-details": {_JSON_BOOL[details]},\n'
        '          "has-online-verify-details": false,\n'
        f'          "percent-in-sync": {in_sync:.2f}{"," if details else ""}\n'
        + (_sync_details(world, side, left, sync.total) if details and sync is not None else "")
        + "        }"
    )


def _connection_json(world: World, side: DrbdSide) -> str:
    peer_role, _ = peer_view(world, side)
    return (
        "    {\n"
        f'      "peer-node-id": {side.res.peer_node_id},\n'
        f'      "name": "{side.res.peer_name}",\n'
        f'      "connection-state": "{side.res.connection.value}", \n'
        '      "congested": false,\n'
        f'      "peer-role": "{peer_role.value}",\n'
        '      "ap-in-flight": 0,\n'
        '      "rs-in-flight": 0,\n'
        '      "peer_devices": [\n'
        f"{_peer_device_json(world, side)} ]\n"
        "    }"
    )


def status_json(world: World, node: SimNode) -> str:
    """`drbdsetup status --json --statistics` (all resources, sorted by name)."""
    out = ["[\n"]
    for i, res in enumerate(sorted(node.drbd.resources, key=lambda r: r.name)):
        side = DrbdSide(node, res)
        if i:
            out.append(",\n")
        out.append(
            "{\n"
            f'  "name": "{res.name}",\n'
            f'  "node-id": {res.node_id},\n'
            f'  "role": "{res.role.value}",\n'
            '  "suspended": false,\n'
            '  "write-ordering": "flush",\n'
            '  "devices": [\n'
            f"{_device_json(side)} ],\n"
            '  "connections": [\n'
            f"{_connection_json(world, side)} ]\n"
            "}\n"
        )
    out.append("]\n\n")
    return "".join(out)


# --- drbdsetup status (text) ---------------------------------------------------------------


def _peer_device_text(world: World, side: DrbdSide) -> str:
    """The peer device line of a Connected peer: replication beyond Established only, the
    resync's progress while one runs (single volume 0: no `volume:`)."""
    repl = replication(world, side)
    _, peer_disk = peer_view(world, side)
    words = (
        [] if repl in (ReplicationState.OFF, ReplicationState.ESTABLISHED) else [f"replication:{repl.value}"]
    )
    words.append(f"peer-disk:{peer_disk.value}")
    if peer_disk is DiskState.DISKLESS:
        words.append("peer-client:no")  # detached, not a diskless client by configuration
    sync = sync_of(world, side.res.name)
    if sync is not None and sync.total > 0 and repl is not ReplicationState.ESTABLISHED:
        words.append(f"done:{100.0 * (sync.total - sync.left) / sync.total:.2f}")
    return "    " + " ".join(words) + "\n"


def status_text(world: World, node: SimNode) -> str:
    """`drbdsetup status` (all resources, sorted by name, a blank line after each)."""
    if not node.drbd.resources:
        return "# No currently configured DRBD found.\n"
    out = []
    for res in sorted(node.drbd.resources, key=lambda r: r.name):
        side = DrbdSide(node, res)
        disk = disk_state(side)
        client = " client:no" if disk is DiskState.DISKLESS else ""
        out.append(f"{res.name} role:{res.role.value}\n  disk:{disk.value}{client}\n")
        if res.connection is ConnectionState.CONNECTED:
            peer_role, _ = peer_view(world, side)
            out.append(f"  {res.peer_name} role:{peer_role.value}\n{_peer_device_text(world, side)}")
        else:
            out.append(f"  {res.peer_name} connection:{res.connection.value}\n")
        out.append("\n")
    return "".join(out)


# --- /proc/drbd ----------------------------------------------------------------------------


def _cs_84(world: World, side: DrbdSide) -> str:
    repl = replication(world, side)
    if repl in (ReplicationState.SYNC_SOURCE, ReplicationState.SYNC_TARGET):
        return repl.value
    if side.res.connection is ConnectionState.CONNECTING:
        return "WFConnection"
    return side.res.connection.value


def _grouped(number: int) -> str:
    return f"{number:,}"


def _progress_8(world: World, side: DrbdSide) -> str:
    """The resync's two lines; the speed line has `want:` (the target's) from 8.4 on."""
    sync = sync_of(world, side.res.name)
    if sync is None or sync.total == 0:
        return ""
    permille = 1000 * (sync.total - sync.left) // sync.total
    bar = min(20, max(1, permille // 50))
    speed = side.res.rate // KIB
    seconds = sync.left // side.res.rate if side.res.rate else 0
    wants = sync.target == side.node.name and side.node.drbd.family != "8.3"
    want = f" want: {_grouped(speed)}" if wants else ""
    return (
        f"\t[{'=' * (bar - 1)}>{'.' * (20 - bar)}] sync'ed:{permille // 10:3d}.{permille % 10}% "
        f"({sync.left // KIB}/{sync.total // KIB})K\n"
        f"\tfinish: {seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d} speed: {_grouped(speed)} "
        f"({_grouped(speed)}){want} K/sec\n"
    )


def _header(node: SimNode) -> list[str]:
    """The version line and the build line: 9 and 8.3 as LINBIT's packages build them (GIT-hash),
    8.4 as the mainline kernel's module (srcversion)."""
    rel = release(node.drbd.version)
    version = f"version: {node.drbd.version} (api:{rel.api}/proto:{rel.proto_min}-{rel.proto_max})\n"
    if rel.family == "8.4":
        return [version, "srcversion: 5A4F43804B37BB28FCB1F47\n"]
    return [version, f"GIT-hash: {rel.git_hash} build by lab@{node.name}, 2024-03-04 12:00:00\n"]


def proc_drbd(world: World, node: SimNode) -> str:
    """/proc/drbd: DRBD 9 lists no resources there; 8.x one line pair per minor (a blank line
    before a minor that does not follow the one before) and a resync's progress."""
    lines = _header(node)
    if node.drbd.nine:
        return "".join([*lines, f"Transports (api:21): tcp ({node.drbd.version})\n"])
    previous = -1
    for res in sorted(node.drbd.resources, key=lambda r: r.minor):
        side = DrbdSide(node, res)
        peer_role, peer_disk = peer_view(world, side)
        protocol = " " if res.connection is ConnectionState.STANDALONE else "C"
        sync = sync_of(world, res.name)
        oos = sync.left // KIB if sync is not None else 0
        if res.minor != previous + 1:
            lines.append("\n")
        lines.append(
            f"{res.minor:2d}: cs:{_cs_84(world, side)} ro:{res.role.value}/{peer_role.value} "
            f"ds:{disk_state(side).value}/{peer_disk.value} {protocol} r-----\n"
            f"    ns:0 nr:0 dw:{res.written // KIB} dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:{oos}\n"
        )
        lines.append(_progress_8(world, side))
        previous = res.minor
    return "".join(lines)


# --- drbdadm role / dstate / dump-md -------------------------------------------------------


def role_text(world: World, side: DrbdSide) -> str:
    if side.node.drbd.nine:
        return f"{side.res.role.value}\n"
    peer_role, _ = peer_view(world, side)
    return f"{side.res.role.value}/{peer_role.value}\n"


def dstate_text(world: World, side: DrbdSide) -> str:
    _, peer_disk = peer_view(world, side)
    return f"{disk_state(side).value}/{peer_disk.value}\n"


def offline_dstate_text(md: DrbdMetadata, nine: bool) -> str:
    """drbdmeta's `dstate` of a resource that is down (read from the metadata)."""
    if md.disk is DiskState.INCONSISTENT:
        word = "Inconsistent"
    elif md.disk is DiskState.OUTDATED:
        word = "Outdated"
    else:
        word = "UpToDate" if nine and md.peer_outdated else "Consistent"
    return f"{word}\n" if nine else f"{word}/DUnknown\n"


def dump_md_text(command: str, md: DrbdMetadata, size: int, nine: bool) -> str:
    flags = {DiskState.UP_TO_DATE: 0x1011, DiskState.OUTDATED: 0x0011}.get(md.disk, 0x0010)
    version = "v09" if nine else "v08"
    return (
        "# DRBD meta data dump\n"
        "# 2026-01-01 00:00:00 +0000 [1767225600]\n"
        f"# {command}\n"
        "#\n\n"
        f'version "{version}";\n' + ("max-peers 1;\n" if nine else "") + f"flags 0x{flags:08X};\n"
        f"la-size-sect {size // SECTOR};\n"
        "bm-byte-per-bit 4096;\n"
        "al-stripes 1;\n"
        "al-stripe-size-4k 8;\n"
    )
