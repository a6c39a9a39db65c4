"""The DRBD facts every DRBD parser returns, whatever the tool or version.

DRBD 9 (`drbdsetup status --json`, `drbdsetup events2`, `drbdadm status`) maps directly:
resource -> `Resource`, device -> `Volume`, connection -> `Connection`, peer device -> `PeerVolume`.

DRBD 8 (/proc/drbd, the 8.4 `drbdsetup status`) has one peer per minor and no node ids:
- /proc/drbd: one `Resource` per configured minor, with `name=None` (the file does not name
  resources; join on `Volume.minor`), one `Volume(number=0, minor=N)`, and one `Connection` with
  `name=None`, `peer_node_id=None` holding the `cs:` value and the peer role, and one `PeerVolume`
  with the peer disk state. The `cs:` value is kept verbatim in `Connection.connection_state`
  (it may be `WFConnection` or `SyncTarget`); `PeerVolume.replication_state` is derived from it
  (`Connected` -> `Established`, sync states keep their name, network states -> `Off`).
  Unconfigured minors are listed in `ProcDrbd.unconfigured_minors`, not as resources.
- drbd-utils 8.9's `drbdsetup status` against an 8.4 kernel prints the placeholder "peer" as the
  name of the single connection: the model gets `name=None`, as for /proc/drbd.

Sizes and counters are bytes (the tools print KiB). Fields a given output does not show are None.
"""

from reconciler.observe.drbd.states import (
    ConnectionState,
    DiskState,
    ReplicationState,
    Role,
    SyncState,
)
from reconciler.observe.facts import Fact, Unrecognised


class ResyncProgress(Fact):
    """The resync (or online verify) progress lines of /proc/drbd."""

    verify: bool = False
    percent: float
    left: int
    total: int
    finish_seconds: int | None = None
    speed: int | None = None
    average_speed: int | None = None
    want: int | None = None
    stalled: bool = False
    delay_probe: int | None = None


class Volume(Fact):
    number: int
    minor: int | None = None
    disk_state: DiskState
    client: bool | None = None
    quorum: bool | None = None
    open: bool | None = None
    backing_dev: str | None = None
    size: int | None = None
    read: int | None = None
    written: int | None = None


class PeerVolume(Fact):
    number: int
    replication_state: ReplicationState
    peer_disk_state: DiskState
    peer_client: bool | None = None
    resync_suspended: tuple[str, ...] = ()
    done_percent: float | None = None
    percent_in_sync: float | None = None
    out_of_sync: int | None = None
    received: int | None = None
    sent: int | None = None
    resync: ResyncProgress | None = None


class Path(Fact):
    local: str
    peer: str
    established: bool | None = None


class Connection(Fact):
    name: str | None = None
    peer_node_id: int | None = None
    connection_state: ConnectionState
    peer_role: Role
    congested: bool | None = None
    sync_state: SyncState | None = None
    peer_volumes: tuple[PeerVolume, ...] = ()
    paths: tuple[Path, ...] = ()


class Resource(Fact):
    name: str | None
    node_id: int | None = None
    role: Role
    suspended: bool | None = None
    suspended_reasons: tuple[str, ...] = ()
    write_ordering: str | None = None
    may_promote: bool | None = None
    promotion_score: int | None = None
    volumes: tuple[Volume, ...] = ()
    connections: tuple[Connection, ...] = ()


class DrbdStatus(Fact):
    """The resources of one node, as `drbdsetup status` / `drbdadm status` show them."""

    resources: tuple[Resource, ...] = ()
    unrecognised: tuple[Unrecognised, ...] = ()
