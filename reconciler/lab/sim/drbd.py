"""DRBD's rules between the two nodes: connect, resync, promote, demote, split brain.

The kernel state of a resource is kept per node (`DrbdResource`), the data state on its backing
device (`DrbdMetadata`), and a running resync once for the pair (`Sync`). What a node shows of
its peer (role, disk) is read from the peer when connected, so the two sides never disagree.

The rules, as DRBD (8.4 and 9) applies them, without fencing or quorum:
- Two up sides whose link is up connect. At the handshake: both changed their data while apart
  (`diverged`) -> split brain, both StandAlone, unless one side asked to discard its data; one
  diverged -> it is the resync source; else an UpToDate side resyncs an Outdated or
  Inconsistent one; both Inconsistent stay so (the initial sync needs a forced primary).
- Losing the connection (link down, peer off, peer down) leaves a side Connecting; a Primary
  that loses its peer has diverged. A Secondary disconnected gracefully from a Primary (down,
  disconnect) is Outdated.
- Promotion needs access to UpToDate data (its own disk, or a connected UpToDate peer) and a
  peer that is not Primary; `--force` makes the local disk UpToDate and resyncs the peer.
- Demotion and down need the device closed (no mount, no domain using it).
- A Diskless side (its backing device failed, see `drbd_disk`) has no data to compare or resync:
  its I/O goes to the peer, and it can be Primary only through an UpToDate peer.
"""

import errno
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from reconciler.lab.sim.drbdconf import ResourceConf
from reconciler.lab.sim.model import KIB, DrbdMetadata, DrbdResource, SimNode, Sync, metadata_size
from reconciler.observe.drbd.states import ConnectionState, DiskState, ReplicationState, Role

NEED_UP_TO_DATE = (17, "State change failed: (-2) Need access to UpToDate data")
TWO_PRIMARIES = (11, "State change failed: (-1) Multiple primaries not allowed by config")
HELD_OPEN = (11, "State change failed: (-12) Device is held open by someone")
UNKNOWN_RESOURCE = (10, "Failure: (158) Unknown resource")
NET_CONFIGURED = (10, "Failure: (125) Device has a net-config (use disconnect first)")
MINOR_EXISTS = (10, "Failure: (161) Minor or volume exists already (delete it first)")


class Refused(Exception):
    """drbdsetup's refusal: its exit code and message (without the resource or minor prefix)."""

    def __init__(self, refusal: tuple[int, str]) -> None:
        super().__init__(refusal[1])
        self.exit_code, self.message = refusal


class World(Protocol):
    """What the rules need of the cluster (implemented by `state.Cluster`)."""

    nodes: list[SimNode]
    syncs: list[Sync]
    clock: float

    def peer(self, node: SimNode) -> SimNode: ...

    def reachable(self, node: SimNode, res: DrbdResource) -> bool: ...


@dataclass
class Side:
    node: SimNode
    res: DrbdResource

    @property
    def md(self) -> DrbdMetadata:
        # A Diskless side may have come up on a disk whose metadata could not be read: it gets a
        # blank one that is kept nowhere, as nothing can be written to that disk anyway.
        md = self.node.drbd.metadata.get(self.res.backing)
        return md if md is not None else DrbdMetadata()


def disk_state(side: Side) -> DiskState:
    """The disk state DRBD shows: the metadata's, or Diskless when no backing device is attached."""
    return side.md.disk if side.res.attached else DiskState.DISKLESS


def peer_side(world: World, side: Side) -> Side | None:
    peer = world.peer(side.node)
    res = peer.drbd.resource(side.res.name) if peer.powered else None
    return Side(peer, res) if res is not None else None


def connected_peer(world: World, side: Side) -> Side | None:
    if side.res.connection is not ConnectionState.CONNECTED:
        return None
    return peer_side(world, side)


def sync_of(world: World, name: str) -> Sync | None:
    return next((s for s in world.syncs if s.resource == name), None)


def replication(world: World, side: Side) -> ReplicationState:
    if connected_peer(world, side) is None:
        return ReplicationState.OFF
    sync = sync_of(world, side.res.name)
    if sync is None:
        return ReplicationState.ESTABLISHED
    return ReplicationState.SYNC_SOURCE if sync.source == side.node.name else ReplicationState.SYNC_TARGET


def peer_view(world: World, side: Side) -> tuple[Role, DiskState]:
    peer = connected_peer(world, side)
    if peer is None:
        return Role.UNKNOWN, DiskState.DUNKNOWN
    return peer.res.role, disk_state(peer)


def is_open(node: SimNode, res: DrbdResource) -> bool:
    return any(m.source == res.device for m in node.mounts) or any(
        res.device in d.devices for d in node.xen.domains
    )


# --- connection ----------------------------------------------------------------------------


def interrupt(world: World, name: str) -> None:
    sync = sync_of(world, name)
    if sync is None:
        return
    for node in world.nodes:
        if node.name == sync.target:
            res = node.drbd.resource(name)
            backing = res.backing if res is not None else None
            if backing is not None and backing in node.drbd.metadata:
                node.drbd.metadata[backing].pending = sync.left
    world.syncs.remove(sync)


def _lose(world: World, side: Side) -> None:
    """The connection broke: this side waits for the peer again."""
    interrupt(world, side.res.name)
    side.res.connection = ConnectionState.CONNECTING
    # A Diskless Primary wrote to the peer's disk only: its own (broken) disk holds no new data.
    if side.res.role is Role.PRIMARY and side.res.attached:
        side.md.diverged = True


def _start_sync(world: World, source: Side, target: Side, size: int) -> None:
    target.md.disk = DiskState.INCONSISTENT
    target.md.diverged = source.md.diverged = False
    world.syncs.append(
        Sync(
            resource=source.res.name,
            source=source.node.name,
            target=target.node.name,
            total=size,
            left=size,
            started_at=world.clock,
        )
    )
    if size == 0:
        _complete(world, world.syncs[-1])


def _complete(world: World, sync: Sync) -> None:
    world.syncs.remove(sync)
    by_name = {n.name: n for n in world.nodes}
    source, target = by_name[sync.source], by_name[sync.target]
    src, dst = source.drbd.resource(sync.resource), target.drbd.resource(sync.resource)
    if src is None or dst is None:
        return
    md = Side(target, dst).md
    md.disk, md.pending, md.dirty = DiskState.UP_TO_DATE, 0, 0
    md.fstype = Side(source, src).md.fstype
    Side(source, src).md.dirty = 0


def _split_brain(a: Side, b: Side) -> None:
    for side in (a, b):
        side.res.connection = ConnectionState.STANDALONE
        side.res.split_brain = True
        side.res.discard_my_data = False


def _resync_size(source: Side, target: Side) -> int:
    if target.md.pending is None:
        return target.res.size
    return max(target.md.pending, source.md.dirty, target.md.dirty)


def handshake(world: World, a: Side, b: Side) -> None:
    """Compare the data of two sides meeting (connecting, or attaching while connected)."""
    if not (a.res.attached and b.res.attached):
        # No data to compare with a Diskless side; but two Primaries refuse each other.
        if a.res.role is Role.PRIMARY and b.res.role is Role.PRIMARY:
            _split_brain(a, b)
        else:
            _connect(a, b)
        return
    if a.md.diverged and b.md.diverged:
        victim = a if a.res.discard_my_data else b if b.res.discard_my_data else None
        if victim is None or victim.res.role is Role.PRIMARY:
            _split_brain(a, b)
            return
        source = b if victim is a else a
        _connect(a, b)
        _start_sync(world, source, victim, max(a.md.dirty, b.md.dirty))
        return
    _connect(a, b)
    if a.md.diverged or b.md.diverged:
        source, target = (a, b) if a.md.diverged else (b, a)
        if source.md.disk is DiskState.UP_TO_DATE:
            _start_sync(world, source, target, _resync_size(source, target))
        return
    a_good, b_good = a.md.disk is DiskState.UP_TO_DATE, b.md.disk is DiskState.UP_TO_DATE
    if a_good != b_good:
        source, target = (a, b) if a_good else (b, a)
        _start_sync(world, source, target, _resync_size(source, target))


def _connect(a: Side, b: Side) -> None:
    for side in (a, b):
        side.res.connection = ConnectionState.CONNECTED
        side.res.split_brain = False
        side.res.discard_my_data = False


def _sides(world: World) -> Iterator[Side]:
    for node in world.nodes:
        if node.powered:
            yield from (Side(node, res) for res in node.drbd.resources)


def settle(world: World) -> None:
    """Bring every connection in line with what is up and reachable now."""
    for side in list(_sides(world)):
        peer = peer_side(world, side)
        if side.res.connection is ConnectionState.CONNECTED and (
            peer is None
            or peer.res.connection is not ConnectionState.CONNECTED
            or not world.reachable(side.node, side.res)
        ):
            _lose(world, side)
    for side in list(_sides(world)):
        peer = peer_side(world, side)
        if (
            peer is not None
            and side.res.connection is ConnectionState.CONNECTING
            and peer.res.connection is ConnectionState.CONNECTING
            and world.reachable(side.node, side.res)
        ):
            handshake(world, side, peer)


def advance(world: World, seconds: float) -> None:
    """Move every resync on by `seconds` at the source's resync rate."""
    for sync in list(world.syncs):
        source = next(n for n in world.nodes if n.name == sync.source)
        res = source.drbd.resource(sync.resource)
        rate = res.rate if res is not None else 0
        sync.left = max(0, sync.left - int(rate * seconds))
        if sync.left == 0:
            _complete(world, sync)


# --- commands ------------------------------------------------------------------------------


def bring_up(
    world: World, node: SimNode, conf: ResourceConf, peer_name: str, attach_failed: bool = False
) -> DrbdResource:
    """Attach and start connecting (the backing device and its metadata are checked first).

    `attach_failed`: drbdadm created the resource and the minor, then the attach failed; it
    stops there, so the resource stays Diskless and without its connection (StandAlone)."""
    if node.drbd.resource(conf.name) is not None or node.drbd.by_minor(conf.minor) is not None:
        raise Refused(MINOR_EXISTS)
    size = node.block_size(conf.disk) or 0
    res = DrbdResource(
        name=conf.name,
        minor=conf.minor,
        backing=conf.disk,
        node_id=conf.node_id,
        peer_node_id=conf.peer_node_id,
        peer_name=conf.peer or peer_name,
        rate=conf.rate,
        size=max(0, size - metadata_size(size)) // (4 * KIB) * (4 * KIB),
        address=conf.address,
        attached=not attach_failed,
        connection=ConnectionState.STANDALONE if attach_failed else ConnectionState.CONNECTING,
    )
    node.drbd.resources.append(res)
    settle(world)
    return res


def _graceful(world: World, side: Side) -> None:
    """Leaving the peer on purpose: a Secondary leaving a Primary is Outdated."""
    peer = connected_peer(world, side)
    if peer is None:
        return
    interrupt(world, side.res.name)
    if side.res.role is Role.SECONDARY and peer.res.role is Role.PRIMARY:
        # Only an attached disk can record it (a Diskless side has none, or a broken one).
        if side.res.attached and side.md.disk is DiskState.UP_TO_DATE:
            side.md.disk = DiskState.OUTDATED
        if peer.res.attached:
            peer.md.peer_outdated = True


def take_down(world: World, node: SimNode, res: DrbdResource) -> None:
    if is_open(node, res):
        raise Refused(HELD_OPEN)
    side = Side(node, res)
    res.role = Role.SECONDARY
    _graceful(world, side)
    node.drbd.resources.remove(res)
    settle(world)


def disconnect(world: World, node: SimNode, res: DrbdResource) -> None:
    _graceful(world, Side(node, res))
    res.connection = ConnectionState.STANDALONE
    settle(world)


def connect(world: World, node: SimNode, res: DrbdResource, discard_my_data: bool) -> None:
    if res.connection is not ConnectionState.STANDALONE:
        raise Refused(NET_CONFIGURED)
    res.connection = ConnectionState.CONNECTING
    res.discard_my_data = discard_my_data
    settle(world)


def _force(world: World, side: Side, peer: Side | None) -> None:
    """`primary --force`: the local data becomes UpToDate; a peer with a disk resyncs from it."""
    target = peer if peer is not None and peer.res.attached else None
    if side.md.disk is not DiskState.UP_TO_DATE:
        side.md.disk, side.md.pending = DiskState.UP_TO_DATE, 0
        if target is not None:
            interrupt(world, side.res.name)
            _start_sync(world, side, target, target.res.size)
    elif (
        target is not None
        and target.md.disk is not DiskState.UP_TO_DATE
        and sync_of(world, side.res.name) is None
    ):
        _start_sync(world, side, target, _resync_size(side, target))


def promote(world: World, node: SimNode, res: DrbdResource, force: bool) -> None:
    side = Side(node, res)
    peer = connected_peer(world, side)
    if peer is not None and peer.res.role is Role.PRIMARY:
        raise Refused(TWO_PRIMARIES)
    peer_good = peer is not None and disk_state(peer) is DiskState.UP_TO_DATE
    if not res.attached:
        # A Diskless Primary reads and writes through its peer; --force cannot make up a disk.
        if not peer_good:
            raise Refused(NEED_UP_TO_DATE)
    elif force:
        _force(world, side, peer)
    elif side.md.disk is not DiskState.UP_TO_DATE and not peer_good:
        raise Refused(NEED_UP_TO_DATE)
    res.role = Role.PRIMARY
    if peer is None:
        side.md.diverged = True


def demote(node: SimNode, res: DrbdResource) -> None:
    if is_open(node, res):
        raise Refused(HELD_OPEN)
    res.role = Role.SECONDARY


def write(world: World, node: SimNode, res: DrbdResource, nbytes: int) -> None:
    """The application writes `nbytes` to the Primary: replicated while connected to a peer with
    a disk, else marked out of sync in the bitmap of the side that holds the data, for the next
    resync. A Diskless Primary writes to its UpToDate peer only; without one it has no data at
    all and the write fails as the device does (EIO)."""
    side = Side(node, res)
    peer = connected_peer(world, side)
    if not res.attached:
        if peer is None or disk_state(peer) is not DiskState.UP_TO_DATE:
            raise OSError(errno.EIO, "Input/output error", res.device)
        peer.md.dirty = min(peer.res.size, peer.md.dirty + nbytes)
    elif peer is None or not peer.res.attached:
        side.md.dirty = min(res.size, side.md.dirty + nbytes)
    res.written += nbytes


def make_filesystem(world: World, node: SimNode, res: DrbdResource, fstype: str) -> None:
    """mkfs on the device: the filesystem is in the data, so a connected peer gets it too."""
    side = Side(node, res)
    side.md.fstype = fstype
    peer = connected_peer(world, side)
    if peer is not None:
        peer.md.fstype = fstype


def power_off(world: World, node: SimNode) -> None:
    """The node is gone at once: no graceful disconnect, the peer just loses it."""
    for res in list(node.drbd.resources):
        interrupt(world, res.name)
    node.drbd.resources.clear()
    node.drbd.loaded = False
    settle(world)
