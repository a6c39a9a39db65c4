"""The text of `drbdadm status` / `drbdsetup status [--verbose] [--statistics]`.

drbdsetup prints, per resource (a blank line after each):
    <name> [node-id:N] role:R [suspended:...]          indent 0
        write-ordering:...                              indent 4: more of the resource line
      [volume:V] disk:D [client:..] [quorum:..]         indent 2: a device
          size:... read:...                             indent 6: more of the device line
      <peer-name> [connection:C] [role:R]               indent 2: a connection
        [volume:V] [replication:X] peer-disk:D [done:P] indent 4: a peer device
            received:... out-of-sync:...                indent 8: more of the peer device line
Long lines are wrapped onto further lines of the continuation indent. Some keys are left out
when they hold the usual value: `volume:` for a single volume 0, `connection:` when Connected,
`role:` of a peer when not Connected, `replication:` up to Established, `peer-disk:` when
DUnknown; the models get those values (see kv.py).

Two dialects: DRBD 9 (drbd-utils 9.x) and drbd-utils 8.9 against a DRBD 8.4 kernel, which names
its one connection "peer" (a placeholder: the model gets `name=None`) and prints 8.4 states.
"""

from dataclasses import dataclass, field

from reconciler.observe.drbd.kv import (
    ConvertContext,
    Fields,
    connection_from,
    peer_volume_from,
    resource_from,
    split_tokens,
    volume_from,
)
from reconciler.observe.drbd.models import Connection, DrbdStatus, Resource
from reconciler.observe.drbd.states import ConnectionState, ReplicationState, Role

_CONTINUATION = {"resource": 4, "device": 6, "connection": 6, "peer": 8}
# Connection states (DRBD 9 and 8.4) in which nothing replicates.
_NOT_CONNECTED = frozenset(
    s.value
    for s in ConnectionState
    if s.value not in {r.value for r in ReplicationState} and s is not ConnectionState.CONNECTED
)


@dataclass
class _AdmConn:
    name: str | None
    fields: Fields
    peers: list[Fields] = field(default_factory=list)


@dataclass
class _AdmRes:
    name: str
    fields: Fields
    devices: list[Fields] = field(default_factory=list)
    connections: list[_AdmConn] = field(default_factory=list)
    # The object that continuation lines extend: "resource", "device", "connection" or "peer".
    level: str = "resource"

    def current(self) -> Fields:
        if self.level == "device":
            return self.devices[-1]
        if self.level == "connection":
            return self.connections[-1].fields
        if self.level == "peer":
            return self.connections[-1].peers[-1]
        return self.fields


class _Dialect:
    """DRBD 9 `drbdadm status`."""

    kind = "drbdadm-status"

    def connection_name(self, name: str | None) -> str | None:
        return name

    def peer_fields(self, fields: Fields) -> Fields:
        # The LINBIT DRBD 9 user's guide shows peer volumes as "disk:" where current drbd-utils
        # print "peer-disk:"; under a connection either can only be the peer's disk.
        if "peer-disk" not in fields.values and "disk" in fields.values:
            fields.values["peer-disk"] = fields.values.pop("disk")
            fields.lines["peer-disk"] = fields.lines.pop("disk")
        return fields


class _Dialect84(_Dialect):
    """drbd-utils 8.9 `drbdsetup status` on a DRBD 8.4 kernel."""

    kind = "drbdsetup-status-84-verbose"

    def connection_name(self, name: str | None) -> str | None:
        # drbd-utils prints the constant "peer": DRBD 8.4 connections have no name.
        return None

    def peer_fields(self, fields: Fields) -> Fields:
        # drbd_repl_str9() falls back to the 8.4 connection state name below WFReportParams:
        # with no connection there is no replication.
        if fields.values.get("replication") in _NOT_CONNECTED:
            fields.values["replication"] = ReplicationState.OFF.value
        return fields


def _parse(text: str, dialect: _Dialect) -> DrbdStatus:
    lines = text.splitlines()
    ctx = ConvertContext(dialect.kind, lines)
    resources: list[_AdmRes] = []
    current: _AdmRes | None = None
    for number, line in enumerate(lines, 1):
        body = line.lstrip(" ")
        indent = len(line) - len(body)
        if not body:
            current = None
        elif indent == 0 and body.startswith("#"):
            continue  # "# No currently configured DRBD found."
        elif indent == 0:
            name, _, rest = body.partition(" ")
            fields = Fields(line=number)
            fields.update(split_tokens(rest, ctx, number), number)
            current = _AdmRes(name=name, fields=fields)
            resources.append(current)
        elif current is None:
            ctx.fail("indented line outside a resource", number)
        else:
            _object_line(current, body, indent, number, ctx)
    return DrbdStatus(
        resources=tuple(_resource(res, dialect, ctx) for res in resources),
        unrecognised=ctx.issues.found(),
    )


def _object_line(res: _AdmRes, body: str, indent: int, number: int, ctx: ConvertContext) -> None:
    first = body.split(maxsplit=1)[0]
    key = first.partition(":")[0] if ":" in first else None
    if indent == 2 and key in ("volume", "disk"):
        if res.connections:
            ctx.fail("device line after the connections", number)
        res.devices.append(Fields(line=number))
        res.level = "device"
    elif indent == 2:
        # A connection without a name starts with "node-id:N".
        name = None if key is not None else first
        body = body if name is None else body[len(name) :]
        res.connections.append(_AdmConn(name=name, fields=Fields(line=number)))
        res.level = "connection"
    elif indent == 4 and res.level in ("connection", "peer"):
        res.connections[-1].peers.append(Fields(line=number))
        res.level = "peer"
    elif indent != _CONTINUATION[res.level]:
        ctx.fail(f"unexpected indentation {indent} after a {res.level} line", number)
    res.current().update(split_tokens(body, ctx, number), number)


def _connection(conn: _AdmConn, dialect: _Dialect, ctx: ConvertContext) -> Connection:
    state = conn.fields.values.get("connection", ConnectionState.CONNECTED.value)
    # Only a Connected connection has replicating peer volumes; its peers' replication: is left
    # out while Established.
    connected = state not in _NOT_CONNECTED
    peers = [peer_volume_from(dialect.peer_fields(fields), ctx, connected=connected) for fields in conn.peers]
    return connection_from(
        conn.fields,
        dialect.connection_name(conn.name),
        peers,
        (),
        ctx,
        defaults=(ConnectionState.CONNECTED, Role.UNKNOWN),
    )


def _resource(res: _AdmRes, dialect: _Dialect, ctx: ConvertContext) -> Resource:
    # Without --verbose drbdsetup prints suspended: only when the resource is suspended.
    res.fields.values.setdefault("suspended", "no")
    volumes = [volume_from(fields, ctx) for fields in res.devices]
    connections = [_connection(conn, dialect, ctx) for conn in res.connections]
    return resource_from(res.fields, res.name, volumes, connections, ctx)


def parse_drbdadm_status(text: str) -> DrbdStatus:
    return _parse(text, _Dialect())


def parse_drbdsetup_status_84_verbose(text: str) -> DrbdStatus:
    return _parse(text, _Dialect84())


KINDS = {
    _Dialect.kind: parse_drbdadm_status,
    _Dialect84.kind: parse_drbdsetup_status_84_verbose,
}
