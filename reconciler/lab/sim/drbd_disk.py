"""A backing device that fails, and DRBD's default answer to it: `on-io-error detach`.

A broken device (`Node.failed_devices`) fails every I/O, so DRBD detaches it and the side is
Diskless (DRBD 9 prints `disk:Diskless client:no`, 8.4 `ds:Diskless/...`); the connection
stays. What follows, as DRBD applies it:
- A Primary connected to an UpToDate peer stays Primary and does its I/O through the peer, so
  the peer's data moves ahead: the failed side's data is Outdated from then on.
- A Primary without an UpToDate peer has no data left: it stays Primary, but its I/O fails
  (DRBD 9's default `on-no-data-accessible io-error`); it can still be demoted when closed.
- A Secondary just becomes Diskless.
- While the device is broken, attaching it (`drbdadm attach`, `up`, `adjust`) fails: the kernel
  cannot read the metadata. Once repaired, an attach compares the data with a connected peer as
  a handshake does: the side that is behind resyncs, with the bitmap of what was written since.
"""

from reconciler.lab.sim.drbd import (
    Refused,
    Side,
    World,
    connected_peer,
    disk_state,
    handshake,
    interrupt,
    settle,
)
from reconciler.lab.sim.drbdconf import ConfError, ResourceConf, find_resource
from reconciler.lab.sim.model import DrbdResource, SimNode
from reconciler.observe.drbd.states import ConnectionState, DiskState

# drbdsetup's texts (its error table) of the kernel's ERR_IO_MD_DISK, ERR_MD_INVALID and
# ERR_DISK_CONFIGURED. Two of them end in a newline, to which drbdsetup adds its own: a blank
# line follows. 'res' is literal: drbdsetup does not know the resource's name.
IO_ERROR_MD = (10, "Failure: (118) IO error(s) occurred during initial access to meta-data.\n")
NO_METADATA = (
    10,
    "Failure: (119) No valid meta-data signature found.\n\n"
    "\t==> Use 'drbdadm create-md res' to initialize meta-data area. <==\n",
)
ALREADY_ATTACHED = (10, "Failure: (124) Device is attached to a disk (use detach first)")


def backing_device(node: SimNode, backing_or_resource: str) -> str:
    """The block device meant: a path as given, or the disk of a resource (up, or in its file)."""
    res = node.drbd.resource(backing_or_resource)
    if res is not None:
        return res.backing
    if backing_or_resource.startswith("/"):
        if node.block_size(backing_or_resource) is None:
            raise ValueError(f"{node.name} has no block device {backing_or_resource}")
        return backing_or_resource
    try:
        return find_resource(node.files, backing_or_resource, node.name).disk
    except ConfError as err:
        raise ValueError(f"{node.name}: {backing_or_resource} is neither a device nor a resource") from err


def is_failed(node: SimNode, device: str) -> bool:
    """The device's I/O fails: it is broken, or it is an LV with extents on a broken disk."""
    if device in node.failed_devices:
        return True
    lv = node.lv_at(device)
    return lv is not None and any(seg.pv in node.failed_devices for seg in lv.segments)


def fail_disk(world: World, node: SimNode, backing_or_resource: str) -> str:
    """The device breaks: every resource attached to it (or to an LV on it) is detached.
    Returns the device."""
    device = backing_device(node, backing_or_resource)
    if device not in node.failed_devices:
        node.failed_devices.append(device)
    if node.powered:
        for res in node.drbd.resources:
            if res.attached and is_failed(node, res.backing):
                detach(world, Side(node, res))
    return device


def repair_disk(world: World, node: SimNode, backing_or_resource: str) -> str:
    """The device works again, its data as the failure left it. DRBD does not notice by itself:
    the disk stays detached until an attach (or adjust). Returns the device."""
    device = backing_device(node, backing_or_resource)
    if device in node.failed_devices:
        node.failed_devices.remove(device)
    return device


def detach(world: World, side: Side) -> None:
    """`on-io-error detach`: the side goes Diskless, its resync (if any) stops."""
    interrupt(world, side.res.name)
    peer = connected_peer(world, side)
    # With an UpToDate peer the I/O goes on there, so this side's data falls behind; without
    # one nothing can be written anywhere, and the data here stays the latest there is.
    if peer is not None and disk_state(peer) is DiskState.UP_TO_DATE and side.md.disk is DiskState.UP_TO_DATE:
        side.md.disk = DiskState.OUTDATED
    side.res.attached = False


def attach(world: World, node: SimNode, res: DrbdResource) -> None:
    """Attach the backing device again; with a connected peer that has a disk, the two compare
    their data and the side that is behind resyncs from the other."""
    if res.attached:
        raise Refused(ALREADY_ATTACHED)
    if is_failed(node, res.backing):
        raise Refused(IO_ERROR_MD)
    if res.backing not in node.drbd.metadata:
        raise Refused(NO_METADATA)
    res.attached = True
    side = Side(node, res)
    peer = connected_peer(world, side)
    if peer is not None:
        handshake(world, side, peer)


def adjust(world: World, node: SimNode, res: DrbdResource, conf: ResourceConf) -> None:
    """`drbdadm adjust`: what the file says and the kernel lacks: the disk first, then the
    network (drbdadm stops at the first step that fails, so a failed attach connects nothing)."""
    if not res.attached:
        attach(world, node, res)
    res.rate = conf.rate
    if res.connection is ConnectionState.STANDALONE:
        res.connection = ConnectionState.CONNECTING
    settle(world)
