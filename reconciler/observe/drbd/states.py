"""DRBD state names, spelled exactly as the kernel module and drbd-utils print them.

The spellings come from drbd's `drbd_strings.c` (DRBD 9: `drbd_conn_str`, `drbd_repl_str`,
`drbd_role_str`, `drbd_disk_str`) and the DRBD 8.x `drbd_conn_s_names` table, where the
connection and replication states were still one enum (`cs:` in /proc/drbd). DRBD itself prints
"?" for a value outside its tables, which is also our `UNRECOGNISED`.
"""

from collections.abc import Callable
from enum import StrEnum
from typing import TypeVar

from reconciler.observe.facts import Unrecognised


class Role(StrEnum):
    PRIMARY = "Primary"
    SECONDARY = "Secondary"
    UNKNOWN = "Unknown"
    UNRECOGNISED = "?"


class DiskState(StrEnum):
    DISKLESS = "Diskless"
    ATTACHING = "Attaching"
    DETACHING = "Detaching"
    FAILED = "Failed"
    NEGOTIATING = "Negotiating"
    INCONSISTENT = "Inconsistent"
    OUTDATED = "Outdated"
    DUNKNOWN = "DUnknown"
    CONSISTENT = "Consistent"
    UP_TO_DATE = "UpToDate"
    UNRECOGNISED = "?"


class ConnectionState(StrEnum):
    """DRBD 9 connection states, plus the DRBD 8.x `cs:` values (which include replication states).

    For DRBD 8 sources the raw `cs:` value is kept here verbatim (so `SyncTarget` can appear as a
    connection state); the parsers also derive the DRBD 9 style `ReplicationState` of the peer
    volume from it. See `reconciler.observe.drbd.models` for the mapping.
    """

    STANDALONE = "StandAlone"
    DISCONNECTING = "Disconnecting"
    UNCONNECTED = "Unconnected"
    TIMEOUT = "Timeout"
    BROKEN_PIPE = "BrokenPipe"
    NETWORK_FAILURE = "NetworkFailure"
    PROTOCOL_ERROR = "ProtocolError"
    TEAR_DOWN = "TearDown"
    CONNECTING = "Connecting"
    CONNECTED = "Connected"
    # DRBD 8.x only from here on.
    UNCONFIGURED = "Unconfigured"
    WF_CONNECTION = "WFConnection"
    WF_REPORT_PARAMS = "WFReportParams"
    STARTING_SYNC_S = "StartingSyncS"
    STARTING_SYNC_T = "StartingSyncT"
    WF_BITMAP_S = "WFBitMapS"
    WF_BITMAP_T = "WFBitMapT"
    WF_SYNC_UUID = "WFSyncUUID"
    SYNC_SOURCE = "SyncSource"
    SYNC_TARGET = "SyncTarget"
    PAUSED_SYNC_S = "PausedSyncS"
    PAUSED_SYNC_T = "PausedSyncT"
    VERIFY_S = "VerifyS"
    VERIFY_T = "VerifyT"
    AHEAD = "Ahead"
    BEHIND = "Behind"
    UNRECOGNISED = "?"


class ReplicationState(StrEnum):
    OFF = "Off"
    ESTABLISHED = "Established"
    STARTING_SYNC_S = "StartingSyncS"
    STARTING_SYNC_T = "StartingSyncT"
    WF_BITMAP_S = "WFBitMapS"
    WF_BITMAP_T = "WFBitMapT"
    WF_SYNC_UUID = "WFSyncUUID"
    SYNC_SOURCE = "SyncSource"
    SYNC_TARGET = "SyncTarget"
    PAUSED_SYNC_S = "PausedSyncS"
    PAUSED_SYNC_T = "PausedSyncT"
    VERIFY_S = "VerifyS"
    VERIFY_T = "VerifyT"
    AHEAD = "Ahead"
    BEHIND = "Behind"
    UNRECOGNISED = "?"


class SyncState(StrEnum):
    """Why a StandAlone connection will not resync (events2 `sync-state:`, drbd-utils 9.x)."""

    SPLIT_BRAIN = "SplitBrain"
    UNRELATED = "Unrelated"
    UNRECOGNISED = "?"


E = TypeVar("E", bound=StrEnum)


class Issues:
    """Collects unknown state values while a parser runs; becomes the model's `unrecognised`."""

    def __init__(self) -> None:
        self._items: list[Unrecognised] = []

    def state(self, enum: type[E], raw: str, *, line: int | Callable[[], int], field: str) -> E:
        """`line` may be a function: finding a line in a large JSON text is only worth doing for
        the rare unknown value, not for every state of every resource."""
        try:
            return enum(raw)
        except ValueError:
            number = line() if callable(line) else line
            self._items.append(Unrecognised(line=number, field=field, value=raw))
            return enum("?")

    def found(self) -> tuple[Unrecognised, ...]:
        return tuple(self._items)


def repl_state_from_84_cs(cs: ConnectionState) -> ReplicationState:
    """The DRBD 9 replication state implied by a DRBD 8.x `cs:` value.

    DRBD 8 had one enum: the states up to WFReportParams describe the network (no replication:
    `Off`), `Connected` is DRBD 9's `Established`, and the rest are replication states with the same
    names in both versions (as drbd-utils' own `drbd_repl_str9` maps them).
    """
    if cs is ConnectionState.CONNECTED:
        return ReplicationState.ESTABLISHED
    if cs is ConnectionState.UNRECOGNISED:
        return ReplicationState.UNRECOGNISED
    try:
        return ReplicationState(cs.value)
    except ValueError:
        return ReplicationState.OFF
