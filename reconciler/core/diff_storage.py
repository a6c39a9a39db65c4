"""The diff of an application's storage: volume group, logical volumes, DRBD resources."""

from collections.abc import Iterator, Mapping

from reconciler.core import refs
from reconciler.core.desired import DesiredVolume
from reconciler.core.diff_base import AppDiff, Path
from reconciler.core.drift import Drift, DriftCode, Severity
from reconciler.core.refs import ResourceRef
from reconciler.core.resources import find_resource
from reconciler.observe.drbd.models import Resource
from reconciler.observe.drbd.states import ConnectionState, DiskState, ReplicationState, Role, SyncState
from reconciler.observe.lvm_model import LvmLogicalVolume

_SYNCING = {
    ReplicationState.SYNC_SOURCE,
    ReplicationState.SYNC_TARGET,
    ReplicationState.PAUSED_SYNC_S,
    ReplicationState.PAUSED_SYNC_T,
    ReplicationState.STARTING_SYNC_S,
    ReplicationState.STARTING_SYNC_T,
    ReplicationState.WF_BITMAP_S,
    ReplicationState.WF_BITMAP_T,
    ReplicationState.WF_SYNC_UUID,
}
# DRBD 8 reports a resync as the connection state itself (`cs:SyncSource`): connected all the same.
_CONNECTED = {
    ConnectionState.CONNECTED,
    ConnectionState.SYNC_SOURCE,
    ConnectionState.SYNC_TARGET,
    ConnectionState.PAUSED_SYNC_S,
    ConnectionState.PAUSED_SYNC_T,
    ConnectionState.STARTING_SYNC_S,
    ConnectionState.STARTING_SYNC_T,
    ConnectionState.WF_SYNC_UUID,
}


def lvm_drift(d: AppDiff) -> Iterator[Drift]:
    lvm = d.observed.lvm
    assert lvm is not None
    vg_path: Path = ("spec", "storage", "volumeGroup", "name")
    if not any(vg.name == d.app.vg for vg in lvm.vgs):
        yield d.record(
            DriftCode.VG_MISSING,
            Severity.ERROR,
            refs.vg(d.app.vg),
            "present",
            "present",
            "absent",
            vg_path,
        )
    present = {lv.name: lv for lv in lvm.lvs if lv.vg == d.app.vg}
    yield from _declared_lvs(d, present)
    declared = {v.lv for v in d.app.volumes}
    for name, lv in present.items():
        if name not in declared and not lv.hidden:
            yield d.record(
                DriftCode.LV_UNDECLARED,
                Severity.WARNING,
                refs.lv(d.app.vg, name),
                "present",
                "absent",
                "present",
                vg_path,
                detail="removing it destroys its data",
            )


def _declared_lvs(d: AppDiff, present: Mapping[str, LvmLogicalVolume]) -> Iterator[Drift]:
    for i, vol in enumerate(d.app.volumes):
        lv = present.get(vol.lv)
        path: Path = ("spec", "storage", "logicalVolumes", i, "size")
        if lv is None:
            yield d.record(
                DriftCode.LV_MISSING,
                Severity.ERROR,
                refs.lv(vol.vg, vol.lv),
                "present",
                "present",
                "absent",
                path,
            )
        elif lv.size is not None and lv.size < vol.size:
            yield d.record(
                DriftCode.LV_TOO_SMALL,
                Severity.WARNING,
                refs.lv(vol.vg, vol.lv),
                "size",
                str(vol.size),
                str(lv.size),
                path,
            )


def drbd_drift(d: AppDiff) -> Iterator[Drift]:
    drbd = d.observed.drbd
    assert drbd is not None
    for i, vol in enumerate(d.app.volumes):
        path: Path = ("spec", "storage", "logicalVolumes", i, "drbd")
        resource = find_resource(drbd.resources, vol)
        if resource is None:
            yield d.record(
                DriftCode.DRBD_DOWN,
                Severity.ERROR,
                refs.drbd(vol.resource),
                "state",
                "up",
                "down" if drbd.loaded else "module not loaded",
                path,
            )
            continue
        yield from _drbd_resource(d, vol, resource, path)


def _drbd_resource(d: AppDiff, vol: DesiredVolume, r: Resource, path: Path) -> Iterator[Drift]:
    name = refs.drbd(vol.resource)
    want = Role.PRIMARY if d.active else Role.SECONDARY
    if r.role is not want:
        code = DriftCode.DRBD_ROLE if d.active else DriftCode.APP_UP_ON_WRONG_NODE
        yield d.record(code, Severity.ERROR, name, "role", want.value, r.role.value, path)
    peers = [c for c in r.connections]
    if r.role is Role.PRIMARY and any(c.peer_role is Role.PRIMARY for c in peers):
        yield d.record(
            DriftCode.DRBD_BOTH_PRIMARY,
            Severity.ERROR,
            name,
            "peer-role",
            "Secondary",
            "Primary",
            path,
            detail="both nodes are Primary: data may diverge",
        )
    if any(c.sync_state in (SyncState.SPLIT_BRAIN, SyncState.UNRELATED) for c in peers if c.sync_state):
        yield d.record(
            DriftCode.DRBD_SPLIT_BRAIN,
            Severity.ERROR,
            name,
            "connection",
            "Connected",
            "split brain",
            path,
            detail="resolving it discards one side's changes",
        )
    connected = [c for c in peers if c.connection_state in _CONNECTED]
    if not connected:
        state = ", ".join(c.connection_state.value for c in peers) or "no peer"
        yield d.record(
            DriftCode.DRBD_DISCONNECTED,
            Severity.WARNING if d.active else Severity.ERROR,
            name,
            "connection",
            "Connected",
            state,
            path,
        )
    yield from _drbd_disks(d, vol, r, name, path)


def _drbd_disks(
    d: AppDiff, vol: DesiredVolume, r: Resource, name: ResourceRef, path: Path
) -> Iterator[Drift]:
    local = [v.disk_state for v in r.volumes]
    peer_volumes = [p for c in r.connections for p in c.peer_volumes]
    if any(p.replication_state in _SYNCING for p in peer_volumes):
        done = next((p.done_percent for p in peer_volumes if p.done_percent is not None), None)
        yield d.record(
            DriftCode.DRBD_SYNCING,
            Severity.WARNING,
            name,
            "disk",
            "UpToDate",
            "syncing" + (f" {done:.1f}%" if done is not None else ""),
            path,
        )
    elif (
        local
        and all(s is DiskState.INCONSISTENT for s in local)
        and all(p.peer_disk_state in (DiskState.INCONSISTENT, DiskState.DUNKNOWN) for p in peer_volumes)
    ):
        yield d.record(
            DriftCode.DRBD_UNINITIALISED,
            Severity.ERROR,
            name,
            "disk",
            "UpToDate",
            "Inconsistent",
            path,
            detail="no side holds good data yet: the initial sync must be started",
        )
    elif any(s is not DiskState.UP_TO_DATE for s in local) or any(
        p.peer_disk_state is not DiskState.UP_TO_DATE for p in peer_volumes
    ):
        seen = "/".join([*(s.value for s in local), *(p.peer_disk_state.value for p in peer_volumes)])
        yield d.record(
            DriftCode.DRBD_DEGRADED, Severity.WARNING, name, "disk", "UpToDate/UpToDate", seen, path
        )
