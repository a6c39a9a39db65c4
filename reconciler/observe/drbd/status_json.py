"""`drbdsetup status --json [--statistics]` (DRBD 9, drbd-utils >= 9.x).

A JSON list of resources, each with `devices` and `connections[].peer_devices`. Sizes and
counters are KiB. drbdsetup prints `nan` for a percentage it cannot compute (see jsontext).
"""

from typing import Any

from reconciler.observe.drbd.jsontext import line_of, load_json
from reconciler.observe.drbd.kv import KIB, reasons
from reconciler.observe.drbd.models import Connection, DrbdStatus, PeerVolume, Resource, Volume
from reconciler.observe.drbd.states import ConnectionState, DiskState, Issues, ReplicationState, Role
from reconciler.observe.errors import ParseError

KIND = "drbd-status-json"


class _JsonReader:
    """Typed access to the decoded JSON, raising `ParseError` for a wrong shape."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.issues = Issues()

    def obj(self, value: Any, what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ParseError(KIND, f"{what}: expected an object, got {type(value).__name__}")
        return value

    def items(self, data: dict[str, Any], key: str) -> list[dict[str, Any]]:
        value = data.get(key, [])
        if not isinstance(value, list):
            raise ParseError(KIND, f"{key}: expected a list", line=line_of(self.text, key, "["))
        return [self.obj(item, key) for item in value]

    def typed(self, data: dict[str, Any], key: str, kind: type | tuple[type, ...], required: bool) -> Any:
        value = data.get(key)
        if value is None and not required:
            return None
        # bool is an int in Python: a count must not be a JSON true/false.
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            raise ParseError(KIND, f"{key}: expected {kind}, got {value!r}")
        return value

    def kib(self, data: dict[str, Any], key: str) -> int | None:
        value = self.typed(data, key, int, required=False)
        return None if value is None else int(value) * KIB

    def state(self, data: dict[str, Any], key: str, enum: Any) -> Any:
        raw = self.typed(data, key, str, required=True)
        return self.issues.state(enum, raw, line=lambda: line_of(self.text, key, raw), field=key)


def _volume(r: _JsonReader, data: dict[str, Any]) -> Volume:
    return Volume(
        number=r.typed(data, "volume", int, required=True),
        minor=r.typed(data, "minor", int, required=False),
        disk_state=r.state(data, "disk-state", DiskState),
        client=r.typed(data, "client", bool, required=False),
        quorum=r.typed(data, "quorum", bool, required=False),
        size=r.kib(data, "size"),
        read=r.kib(data, "read"),
        written=r.kib(data, "written"),
    )


def _peer_volume(r: _JsonReader, data: dict[str, Any]) -> PeerVolume:
    done = r.typed(data, "percent-resync-done", (int, float), required=False)
    return PeerVolume(
        number=r.typed(data, "volume", int, required=True),
        replication_state=r.state(data, "replication-state", ReplicationState),
        peer_disk_state=r.state(data, "peer-disk-state", DiskState),
        peer_client=r.typed(data, "peer-client", bool, required=False),
        resync_suspended=reasons(r.typed(data, "resync-suspended", str, required=False)),
        done_percent=done,
        percent_in_sync=r.typed(data, "percent-in-sync", (int, float), required=False),
        out_of_sync=r.kib(data, "out-of-sync"),
        received=r.kib(data, "received"),
        sent=r.kib(data, "sent"),
    )


def _connection(r: _JsonReader, data: dict[str, Any]) -> Connection:
    return Connection(
        name=r.typed(data, "name", str, required=False),
        peer_node_id=r.typed(data, "peer-node-id", int, required=False),
        connection_state=r.state(data, "connection-state", ConnectionState),
        peer_role=r.state(data, "peer-role", Role),
        congested=r.typed(data, "congested", bool, required=False),
        peer_volumes=tuple(_peer_volume(r, pv) for pv in r.items(data, "peer_devices")),
    )


def _resource(r: _JsonReader, data: dict[str, Any]) -> Resource:
    node_id = r.typed(data, "node-id", int, required=False)
    return Resource(
        name=r.typed(data, "name", str, required=True),
        # drbdsetup prints -1 when the resource has no node-id option.
        node_id=None if node_id == -1 else node_id,
        role=r.state(data, "role", Role),
        suspended=r.typed(data, "suspended", bool, required=False),
        write_ordering=r.typed(data, "write-ordering", str, required=False),
        volumes=tuple(_volume(r, d) for d in r.items(data, "devices")),
        connections=tuple(_connection(r, c) for c in r.items(data, "connections")),
    )


def parse_status_json(text: str) -> DrbdStatus:
    data = load_json(text, KIND)
    if not isinstance(data, list):
        raise ParseError(KIND, "expected a JSON list of resources", line=1, text=text.splitlines()[0])
    reader = _JsonReader(text)
    resources = tuple(_resource(reader, reader.obj(item, "resource")) for item in data)
    return DrbdStatus(resources=resources, unrecognised=reader.issues.found())


KINDS = {KIND: parse_status_json}
