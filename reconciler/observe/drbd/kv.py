"""The `key:value` vocabulary shared by `drbdsetup events2` and the `drbdadm status` text.

Both print each object (resource, device, connection, peer device) as space separated
`key:value` tokens with the same keys and units (sizes and counters in KiB), so one set of
converters turns the collected tokens of an object into the common models.
"""

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NoReturn, TypeVar

from reconciler.observe.drbd.models import Connection, Path, PeerVolume, Resource, Volume
from reconciler.observe.drbd.states import (
    ConnectionState,
    DiskState,
    Issues,
    ReplicationState,
    Role,
    SyncState,
)
from reconciler.observe.errors import ParseError

KIB = 1024
E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


@dataclass
class ConvertContext:
    """What a converter needs to report: the kind, the input's lines, the unknown states."""

    kind: str
    lines: list[str]
    first_line: int = 1
    issues: Issues = field(default_factory=Issues)

    def fail(self, message: str, line: int) -> NoReturn:
        index = line - self.first_line
        text = self.lines[index] if 0 <= index < len(self.lines) else None
        raise ParseError(self.kind, message, line=line, text=text)


@dataclass
class Fields:
    """The `key:value` tokens seen for one object, each remembering its (1-based) line."""

    line: int
    values: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)

    def update(self, tokens: Iterable[tuple[str, str]], line: int) -> None:
        for key, value in tokens:
            self.values[key] = value
            self.lines[key] = line

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)


def split_tokens(text: str, ctx: ConvertContext, line: int) -> list[tuple[str, str]]:
    """`a:b c:d:e` -> [("a", "b"), ("c", "d:e")]: values may hold colons (addresses), keys not."""
    tokens = []
    for token in text.split():
        key, sep, value = token.partition(":")
        if not sep or not key:
            ctx.fail(f"expected key:value, got {token!r}", line)
        tokens.append((key, value))
    return tokens


def _get(fields: Fields, key: str, ctx: ConvertContext, convert: Callable[[str], T], what: str) -> T | None:
    raw = fields.values.get(key)
    if raw is None:
        return None
    try:
        return convert(raw)
    except ValueError:
        ctx.fail(f"{key}: expected {what}, got {raw!r}", fields.line_of(key))


def get_int(fields: Fields, key: str, ctx: ConvertContext) -> int | None:
    return _get(fields, key, ctx, int, "an integer")


def get_kib(fields: Fields, key: str, ctx: ConvertContext) -> int | None:
    value = get_int(fields, key, ctx)
    return None if value is None else value * KIB


def get_float(fields: Fields, key: str, ctx: ConvertContext) -> float | None:
    """A float; drbd-utils prints `nan` (e.g. `eta:nan` while nothing moves): that is no value."""
    value = _get(fields, key, ctx, float, "a number")
    return None if value is None or not math.isfinite(value) else value


def _yes_no(raw: str) -> bool | None:
    # drbd-utils' no_yes_unknown_str() prints "unknown" for a tri-state it could not read.
    table = {"yes": True, "no": False, "unknown": None}
    if raw not in table:
        raise ValueError(raw)
    return table[raw]


def get_bool(fields: Fields, key: str, ctx: ConvertContext) -> bool | None:
    return _get(fields, key, ctx, _yes_no, "yes/no")


def get_state(fields: Fields, key: str, enum: type[E], ctx: ConvertContext, default: E | None = None) -> E:
    raw = fields.values.get(key)
    if raw is None:
        if default is None:
            ctx.fail(f"no {key}: value", fields.line)
        return default
    return ctx.issues.state(enum, raw, line=fields.line_of(key), field=key)


def reasons(raw: str | None) -> tuple[str, ...]:
    """`no` -> (); `user,no-data` -> ("user", "no-data") (suspended:, resync-suspended:)."""
    if raw is None or raw == "no":
        return ()
    return tuple(raw.split(","))


def resource_from(
    fields: Fields,
    name: str,
    volumes: Iterable[Volume],
    connections: Iterable[Connection],
    ctx: ConvertContext,
) -> Resource:
    suspended = fields.values.get("suspended")
    may_promote = get_bool(fields, "may_promote", ctx)
    return Resource(
        name=name,
        node_id=get_int(fields, "node-id", ctx),
        role=get_state(fields, "role", Role, ctx),
        suspended=None if suspended is None else suspended != "no",
        suspended_reasons=reasons(suspended),
        write_ordering=fields.values.get("write-ordering"),
        may_promote=may_promote,
        promotion_score=get_int(fields, "promotion_score", ctx),
        volumes=tuple(sorted(volumes, key=lambda v: v.number)),
        connections=tuple(connections),
    )


def volume_from(fields: Fields, ctx: ConvertContext) -> Volume:
    backing = fields.values.get("backing_dev")
    number = get_int(fields, "volume", ctx)
    return Volume(
        # drbdsetup omits "volume:" only for a resource whose single volume is 0.
        number=0 if number is None else number,
        minor=get_int(fields, "minor", ctx),
        disk_state=get_state(fields, "disk", DiskState, ctx),
        client=get_bool(fields, "client", ctx),
        quorum=get_bool(fields, "quorum", ctx),
        open=get_bool(fields, "open", ctx),
        backing_dev=None if backing in (None, "none") else backing,
        size=get_kib(fields, "size", ctx),
        read=get_kib(fields, "read", ctx),
        written=get_kib(fields, "written", ctx),
    )


def peer_volume_from(fields: Fields, ctx: ConvertContext, *, connected: bool) -> PeerVolume:
    # The status text prints replication: only beyond Established and peer-disk: only when it is
    # known: an absent value is the state the tool chose not to print (events2 prints both).
    repl_default = ReplicationState.ESTABLISHED if connected else ReplicationState.OFF
    number = get_int(fields, "volume", ctx)
    return PeerVolume(
        number=0 if number is None else number,
        replication_state=get_state(fields, "replication", ReplicationState, ctx, repl_default),
        peer_disk_state=get_state(fields, "peer-disk", DiskState, ctx, DiskState.DUNKNOWN),
        peer_client=get_bool(fields, "peer-client", ctx),
        resync_suspended=reasons(fields.values.get("resync-suspended")),
        done_percent=get_float(fields, "done", ctx),
        out_of_sync=get_kib(fields, "out-of-sync", ctx),
        received=get_kib(fields, "received", ctx),
        sent=get_kib(fields, "sent", ctx),
    )


def connection_from(
    fields: Fields,
    name: str | None,
    peer_volumes: Iterable[PeerVolume],
    paths: Iterable[Path],
    ctx: ConvertContext,
    *,
    defaults: tuple[ConnectionState, Role] | None = None,
) -> Connection:
    """`defaults`: what the status text means by leaving out connection: (Connected) and role:."""
    peer_node_id = get_int(fields, "peer-node-id", ctx)
    if peer_node_id is None:
        peer_node_id = get_int(fields, "node-id", ctx)
    sync_state = fields.values.get("sync-state")
    return Connection(
        name=name,
        peer_node_id=peer_node_id,
        connection_state=get_state(
            fields, "connection", ConnectionState, ctx, defaults[0] if defaults else None
        ),
        peer_role=get_state(fields, "role", Role, ctx, defaults[1] if defaults else None),
        congested=get_bool(fields, "congested", ctx),
        sync_state=None if sync_state is None else get_state(fields, "sync-state", SyncState, ctx),
        peer_volumes=tuple(sorted(peer_volumes, key=lambda v: v.number)),
        paths=tuple(paths),
    )
