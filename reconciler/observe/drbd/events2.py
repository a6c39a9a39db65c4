"""`drbdsetup events2 [--now] [--statistics] [--timestamps]` (DRBD 9, drbd-utils 9.x).

Each line is `[timestamp ]<action> <object> key:value ...`, e.g.
`change peer-device name:r0 peer-node-id:1 conn-name:b volume:0 replication:SyncSource`.
The stream starts with the `exists` snapshot of every object, ended by `exists -`; then come
`create`/`change`/`destroy` (a change carries only the keys that changed), `call`/`response`
for helpers and `rename` for resources. drbd-utils 8.9.x printed `- skipped N` when it lost
notifications; such a line is an `Event` with `skipped=N` (the model must then be rebuilt).

`parse_events2_line` reads one line (for the streaming reader); `Events2Fold` applies events in
order and gives the `DrbdStatus` they amount to; `parse_events2` reads a whole capture
(`--now` gives the same `Resource` models as `drbdsetup status --json`).
"""

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from reconciler.observe.drbd.kv import (
    ConvertContext,
    Fields,
    connection_from,
    get_bool,
    peer_volume_from,
    resource_from,
    split_tokens,
    volume_from,
)
from reconciler.observe.drbd.models import Connection, DrbdStatus, Path, Resource
from reconciler.observe.drbd.states import ConnectionState
from reconciler.observe.facts import Fact, Unrecognised

KIND = "drbd-events2"
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+[+-]\d\d:\d\d")
_SKIPPED = re.compile(r"- skipped (\d+)")
K = TypeVar("K")


class EventAction(StrEnum):
    EXISTS = "exists"
    CREATE = "create"
    CHANGE = "change"
    DESTROY = "destroy"
    CALL = "call"
    RESPONSE = "response"
    RENAME = "rename"
    SKIPPED = "-"


class EventObject(StrEnum):
    RESOURCE = "resource"
    DEVICE = "device"
    CONNECTION = "connection"
    PEER_DEVICE = "peer-device"
    PATH = "path"
    HELPER = "helper"
    # `exists -` (end of the initial snapshot) and `- skipped N` name no object.
    NONE = "-"


class EventField(Fact):
    key: str
    value: str


class Event(Fact):
    line: int
    timestamp: str | None = None
    action: EventAction
    object: EventObject
    fields: tuple[EventField, ...] = ()
    skipped: int | None = None

    def get(self, key: str) -> str | None:
        return next((f.value for f in self.fields if f.key == key), None)


class Events2(Fact):
    """A captured events2 output: its events, and the resources after applying them in order."""

    events: tuple[Event, ...] = ()
    initial_state_done: bool = False
    lost_events: int = 0
    resources: tuple[Resource, ...] = ()
    unrecognised: tuple[Unrecognised, ...] = ()


# The keys that identify each object; an event without them is not drbdsetup's.
_IDENTITY: dict[EventObject, tuple[str, ...]] = {
    EventObject.RESOURCE: ("name",),
    EventObject.DEVICE: ("name", "volume"),
    EventObject.CONNECTION: ("name", "peer-node-id"),
    EventObject.PEER_DEVICE: ("name", "peer-node-id", "volume"),
    EventObject.PATH: ("name", "peer-node-id", "local", "peer"),
    EventObject.HELPER: ("name", "helper"),
    EventObject.NONE: (),
}


def parse_events2_line(line: str, line_number: int = 1) -> Event:
    """One events2 line -> `Event`. Raises `ParseError` for anything drbdsetup does not print."""
    ctx = ConvertContext(KIND, [line], first_line=line_number)
    words = line.split()
    timestamp = None
    if words and _TIMESTAMP.fullmatch(words[0]):
        timestamp, words = words[0], words[1:]
    if (match := _SKIPPED.fullmatch(" ".join(words))) is not None:
        return Event(
            line=line_number,
            timestamp=timestamp,
            action=EventAction.SKIPPED,
            object=EventObject.NONE,
            skipped=int(match.group(1)),
        )
    if len(words) < 2:
        ctx.fail("expected '<action> <object> key:value...'", line_number)
    try:
        action, obj = EventAction(words[0]), EventObject(words[1])
    except ValueError:
        ctx.fail(f"unknown event {words[0]!r} {words[1]!r}", line_number)
    if action is EventAction.SKIPPED:
        ctx.fail("expected '- skipped N'", line_number)
    if obj is EventObject.NONE and (action is not EventAction.EXISTS or len(words) > 2):
        ctx.fail("expected 'exists -'", line_number)
    tokens = split_tokens(" ".join(words[2:]), ctx, line_number)
    keys = {key for key, _ in tokens}
    for key in _IDENTITY[obj]:
        if key not in keys:
            ctx.fail(f"{obj} event without {key}:", line_number)
    return Event(
        line=line_number,
        timestamp=timestamp,
        action=action,
        object=obj,
        fields=tuple(EventField(key=k, value=v) for k, v in tokens),
    )


@dataclass
class _Conn:
    fields: Fields
    peer_devices: dict[str, Fields] = field(default_factory=dict)
    paths: dict[tuple[str, str], Fields] = field(default_factory=dict)


@dataclass
class _Res:
    fields: Fields
    devices: dict[str, Fields] = field(default_factory=dict)
    connections: dict[str, _Conn] = field(default_factory=dict)


class Events2Fold:
    """The state of every object after the events applied so far (what drbdsetup keeps too).

    An event for an object whose resource or connection was never seen is an error, except after
    lost notifications (`- skipped N`): then the model was cleared and, like drbdsetup, such events
    are ignored until the caller restarts events2 (`lost_events` says the state is incomplete).
    """

    def __init__(self, lines: list[str] | None = None) -> None:
        """`lines`: the text the events came from, quoted in errors (a stream has none)."""
        self._lines = lines or []
        self._resources: dict[str, _Res] = {}
        self.initial_state_done = False
        self.lost_events = 0

    def apply(self, event: Event) -> None:
        """Apply one event; `ParseError` if it names an object never created."""
        if event.action is EventAction.SKIPPED:
            self._resources.clear()
            self.lost_events += event.skipped or 0
        elif event.object is EventObject.NONE:
            self.initial_state_done = True
        elif event.object is EventObject.RESOURCE:
            self._apply_resource(event, event.get("name") or "")
        elif event.object is not EventObject.HELPER:
            self._apply_child(event)

    def _unknown(self, event: Event) -> None:
        if not self.lost_events:
            ConvertContext(KIND, self._lines).fail(
                f"{event.object} event for an object not seen before", event.line
            )

    def _apply_child(self, event: Event) -> None:
        res = self._resources.get(event.get("name") or "")
        conn = None if res is None else res.connections.get(event.get("peer-node-id") or "")
        if res is None or (conn is None and event.object in (EventObject.PEER_DEVICE, EventObject.PATH)):
            self._unknown(event)
            return
        if res is not None and event.object is EventObject.DEVICE:
            _upsert(res.devices, event.get("volume") or "", event)
        elif res is not None and event.object is EventObject.CONNECTION:
            self._apply_connection(res, event)
        elif conn is not None and event.object is EventObject.PEER_DEVICE:
            _upsert(conn.peer_devices, event.get("volume") or "", event)
        elif conn is not None:
            _upsert(conn.paths, (event.get("local") or "", event.get("peer") or ""), event)

    def _apply_resource(self, event: Event, name: str) -> None:
        if name not in self._resources and event.action in (EventAction.CHANGE, EventAction.RENAME):
            self._unknown(event)
        elif event.action is EventAction.DESTROY:
            self._resources.pop(name, None)
        elif event.action is EventAction.RENAME:
            res = self._resources.pop(name)
            self._resources[event.get("new_name") or name] = res
        elif name in self._resources:
            self._resources[name].fields.update(_tokens(event), event.line)
        else:
            self._resources[name] = _Res(fields=_new_fields(event))

    def _apply_connection(self, res: _Res, event: Event) -> None:
        key = event.get("peer-node-id") or ""
        if event.action is EventAction.DESTROY:
            res.connections.pop(key, None)
        elif key in res.connections:
            res.connections[key].fields.update(_tokens(event), event.line)
        else:
            res.connections[key] = _Conn(fields=_new_fields(event))

    def status(self) -> DrbdStatus:
        """The resources as they stand now, with the unknown state values among them."""
        ctx = ConvertContext(KIND, self._lines)
        resources = tuple(_resource(name, res, ctx) for name, res in self._resources.items())
        return DrbdStatus(resources=resources, unrecognised=ctx.issues.found())


def _tokens(event: Event) -> list[tuple[str, str]]:
    return [(f.key, f.value) for f in event.fields]


def _new_fields(event: Event) -> Fields:
    fields = Fields(line=event.line)
    fields.update(_tokens(event), event.line)
    return fields


def _upsert(table: dict[K, Fields], key: K, event: Event) -> None:
    if event.action is EventAction.DESTROY:
        table.pop(key, None)
    elif key in table:
        table[key].update(_tokens(event), event.line)
    else:
        table[key] = _new_fields(event)


def _resource(name: str, res: _Res, ctx: ConvertContext) -> Resource:
    volumes = [volume_from(f, ctx) for f in res.devices.values()]
    connections = [_connection(conn, ctx) for conn in res.connections.values()]
    return resource_from(res.fields, name, volumes, connections, ctx)


def _connection(conn: _Conn, ctx: ConvertContext) -> Connection:
    connected = conn.fields.values.get("connection") == ConnectionState.CONNECTED
    peer_volumes = [peer_volume_from(f, ctx, connected=connected) for f in conn.peer_devices.values()]
    paths = [
        Path(local=local, peer=peer, established=get_bool(f, "established", ctx))
        for (local, peer), f in conn.paths.items()
    ]
    name = conn.fields.values.get("conn-name")
    return connection_from(conn.fields, name, peer_volumes, paths, ctx)


def parse_events2(text: str) -> Events2:
    lines = text.splitlines()
    events = tuple(parse_events2_line(line, number) for number, line in enumerate(lines, 1) if line.strip())
    fold = Events2Fold(lines)
    for event in events:
        fold.apply(event)
    status = fold.status()
    return Events2(
        events=events,
        initial_state_done=fold.initial_state_done,
        lost_events=fold.lost_events,
        resources=status.resources,
        unrecognised=status.unrecognised,
    )


KINDS = {KIND: parse_events2}
