"""diff(desired, observed) -> drift: what differs, why it matters, and where it is declared.

Pure. A section that could not be observed yields one OBSERVATION_FAILED record per application
instead of guesses: a failed `lvm` is not "no volume groups".
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from reconciler.core import refs
from reconciler.core.desired import AppRole, DesiredApp, DesiredNode, DesiredVolume
from reconciler.core.drift import Drift, DriftCode, Severity
from reconciler.core.refs import ResourceRef
from reconciler.core.resources import find_resource
from reconciler.observe.drbd.models import Resource
from reconciler.observe.drbd.states import ConnectionState, DiskState, ReplicationState, Role, SyncState
from reconciler.observe.state import Observed, Section, ToolError
from reconciler.observe.xen import DomainStateFlag
from reconciler.render.files import unified_diff

Path = tuple[str | int, ...]
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
_STOPPED_DOMAIN = {DomainStateFlag.SHUTDOWN, DomainStateFlag.DYING, DomainStateFlag.CRASHED}


@dataclass(frozen=True)
class Probed:
    """Facts gathered per application beside the observation: config files and status commands."""

    files: dict[str, str | None] = field(default_factory=dict)  # path -> content, None if absent
    running: dict[str, bool] = field(default_factory=dict)  # app -> status command said running


def diff(desired: DesiredNode, observed: Observed, probed: Probed) -> list[Drift]:
    failed = {e.section: e for e in observed.errors}
    drift: list[Drift] = []
    for app in desired.apps:
        d = _AppDiff(app, observed, probed, failed)
        drift.extend(d.run())
    for section, unknown in observed.surprises():
        drift.append(
            Drift(
                code=DriftCode.STATE_UNRECOGNISED,
                severity=Severity.WARNING,
                app="-",
                resource=refs.section(section.value),
                field=unknown.field,
                desired="a known state",
                observed=unknown.value,
                declared_at="-",
                detail=f"line {unknown.line} of the output",
            )
        )
    return drift


class _AppDiff:
    def __init__(
        self, app: DesiredApp, observed: Observed, probed: Probed, failed: Mapping[Section, ToolError]
    ) -> None:
        self.app, self.observed, self.probed, self.failed = app, observed, probed, failed
        self.active = app.role is AppRole.ACTIVE

    def record(
        self,
        code: DriftCode,
        severity: Severity,
        resource: ResourceRef,
        fld: str,
        desired: str,
        observed: str,
        path: Path,
        detail: str = "",
    ) -> Drift:
        where = self.app.source.source.locate(path)
        return Drift(
            code=code,
            severity=severity,
            app=self.app.name,
            resource=resource,
            field=fld,
            desired=desired,
            observed=observed,
            declared_at=f"{where.file}:{where.line}",
            detail=detail,
        )

    def run(self) -> Iterator[Drift]:
        for section, check in (
            (Section.LVM, self.lvm),
            (Section.DRBD, self.drbd),
            (Section.MOUNTS, self.mounts),
            (Section.INTERFACES, self.interfaces),
            (Section.DOMAINS, self.domain),
        ):
            if section in self.failed and not (
                section is Section.DOMAINS
                and self.app.domain.config is None
                and self.app.domain.config_path is None
            ):
                yield self.record(
                    DriftCode.OBSERVATION_FAILED,
                    Severity.WARNING,
                    refs.section(section.value),
                    "observation",
                    "observed",
                    "failed",
                    ("metadata", "name"),
                    detail=self.failed[section].message,
                )
                continue
            yield from check()
        yield from self.config_files()

    # --- storage -----------------------------------------------------------------------------
    def lvm(self) -> Iterator[Drift]:
        lvm = self.observed.lvm
        assert lvm is not None
        vg_path: Path = ("spec", "storage", "volumeGroup", "name")
        if not any(vg.name == self.app.vg for vg in lvm.vgs):
            yield self.record(
                DriftCode.VG_MISSING,
                Severity.ERROR,
                refs.vg(self.app.vg),
                "present",
                "present",
                "absent",
                vg_path,
            )
        present = {lv.name: lv for lv in lvm.lvs if lv.vg == self.app.vg}
        for i, vol in enumerate(self.app.volumes):
            lv = present.get(vol.lv)
            path: Path = ("spec", "storage", "logicalVolumes", i, "size")
            if lv is None:
                yield self.record(
                    DriftCode.LV_MISSING,
                    Severity.ERROR,
                    refs.lv(vol.vg, vol.lv),
                    "present",
                    "present",
                    "absent",
                    path,
                )
            elif lv.size is not None and lv.size < vol.size:
                yield self.record(
                    DriftCode.LV_TOO_SMALL,
                    Severity.WARNING,
                    refs.lv(vol.vg, vol.lv),
                    "size",
                    str(vol.size),
                    str(lv.size),
                    path,
                )
        declared = {v.lv for v in self.app.volumes}
        for name, lv in present.items():
            if name not in declared and not lv.hidden:
                yield self.record(
                    DriftCode.LV_UNDECLARED,
                    Severity.WARNING,
                    refs.lv(self.app.vg, name),
                    "present",
                    "absent",
                    "present",
                    vg_path,
                    detail="removing it destroys its data",
                )

    def drbd(self) -> Iterator[Drift]:
        drbd = self.observed.drbd
        assert drbd is not None
        for i, vol in enumerate(self.app.volumes):
            path: Path = ("spec", "storage", "logicalVolumes", i, "drbd")
            resource = find_resource(drbd.resources, vol)
            if resource is None:
                yield self.record(
                    DriftCode.DRBD_DOWN,
                    Severity.ERROR,
                    refs.drbd(vol.resource),
                    "state",
                    "up",
                    "down" if drbd.loaded else "module not loaded",
                    path,
                )
                continue
            yield from self.drbd_resource(vol, resource, path)

    def drbd_resource(self, vol: DesiredVolume, r: Resource, path: Path) -> Iterator[Drift]:
        name = refs.drbd(vol.resource)
        want = Role.PRIMARY if self.active else Role.SECONDARY
        if r.role is not want:
            code = DriftCode.DRBD_ROLE if self.active else DriftCode.APP_UP_ON_WRONG_NODE
            yield self.record(code, Severity.ERROR, name, "role", want.value, r.role.value, path)
        peers = [c for c in r.connections]
        if r.role is Role.PRIMARY and any(c.peer_role is Role.PRIMARY for c in peers):
            yield self.record(
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
            yield self.record(
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
            yield self.record(
                DriftCode.DRBD_DISCONNECTED,
                Severity.WARNING if self.active else Severity.ERROR,
                name,
                "connection",
                "Connected",
                state,
                path,
            )
        yield from self.drbd_disks(vol, r, name, path)

    def drbd_disks(self, vol: DesiredVolume, r: Resource, name: ResourceRef, path: Path) -> Iterator[Drift]:
        local = [v.disk_state for v in r.volumes]
        peer_volumes = [p for c in r.connections for p in c.peer_volumes]
        if any(p.replication_state in _SYNCING for p in peer_volumes):
            done = next((p.done_percent for p in peer_volumes if p.done_percent is not None), None)
            yield self.record(
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
            yield self.record(
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
            yield self.record(
                DriftCode.DRBD_DEGRADED, Severity.WARNING, name, "disk", "UpToDate/UpToDate", seen, path
            )

    # --- filesystems, addresses, domain ------------------------------------------------------
    def mounts(self) -> Iterator[Drift]:
        for i, vol in enumerate(self.app.volumes):
            if vol.filesystem is None:
                continue
            path: Path = ("spec", "storage", "logicalVolumes", i, "filesystem", "mountPoint")
            mount = self.observed.mount_at(vol.filesystem.mount_point)
            resource = refs.fs(vol.filesystem.mount_point)
            if self.active and mount is None:
                yield self.record(
                    DriftCode.FS_NOT_MOUNTED, Severity.ERROR, resource, "mounted", "yes", "no", path
                )
            elif self.active and mount is not None and mount.source != vol.device:
                yield self.record(
                    DriftCode.FS_WRONG_SOURCE,
                    Severity.ERROR,
                    resource,
                    "source",
                    vol.device,
                    mount.source,
                    path,
                )
            elif not self.active and mount is not None:
                yield self.record(
                    DriftCode.FS_MOUNTED_ON_STANDBY, Severity.ERROR, resource, "mounted", "no", "yes", path
                )

    def interfaces(self) -> Iterator[Drift]:
        for i, (network, ifname) in enumerate(self.app.needed_interfaces):
            iface = self.observed.interface(ifname)
            if iface is None or not iface.admin_up:
                yield self.record(
                    DriftCode.NETWORK_DOWN,
                    Severity.ERROR if self.active else Severity.WARNING,
                    refs.link(ifname),
                    "state",
                    "UP",
                    "absent" if iface is None else "DOWN",
                    ("spec", "networks", i, "name"),
                    detail=f"network {network!r}",
                )
        for want in self.app.addresses:
            iface = self.observed.interface(want.interface)
            present = iface is not None and any(a.ip.ip == want.address for a in iface.addresses)
            anywhere = self.observed.interfaces is not None and any(
                a.ip.ip == want.address for i in self.observed.interfaces.interfaces for a in i.addresses
            )
            resource = refs.ip(want.cidr)
            if self.active and not present:
                yield self.record(
                    DriftCode.IP_MISSING,
                    Severity.ERROR,
                    resource,
                    want.interface,
                    "present",
                    "absent",
                    want.declared,
                )
            elif not self.active and anywhere:
                yield self.record(
                    DriftCode.IP_UNEXPECTED,
                    Severity.ERROR,
                    resource,
                    want.interface,
                    "absent",
                    "present",
                    want.declared,
                )

    def domain(self) -> Iterator[Drift]:
        dom = self.app.domain
        running = self.domain_running()
        if running is None:
            return
        resource = refs.domain(dom.name)
        if self.active and not running:
            yield self.record(
                DriftCode.APP_DOWN,
                Severity.ERROR,
                resource,
                "state",
                "running",
                "not running",
                ("spec", "domain", "name"),
            )
        elif not self.active and running:
            yield self.record(
                DriftCode.APP_UP_ON_WRONG_NODE,
                Severity.ERROR,
                resource,
                "state",
                "not running",
                "running",
                ("spec", "domain", "name"),
            )

    def domain_running(self) -> bool | None:
        if self.app.domain.config_path is None:  # toolstack: commands
            return self.probed.running.get(self.app.name)
        domains = self.observed.domains
        if domains is None:
            return None
        return any(
            d.name == self.app.domain.name and not (set(d.state or ()) & _STOPPED_DOMAIN)
            for d in domains.domains
        )

    def config_files(self) -> Iterator[Drift]:
        for i, vol in enumerate(self.app.volumes):
            yield from self.config_file(
                DriftCode.DRBD_CONFIG_DIFFERS,
                refs.file(vol.config_path),
                vol.config_path,
                vol.config,
                ("spec", "storage", "logicalVolumes", i, "drbd"),
            )
        dom = self.app.domain
        if dom.config is not None and dom.config_path is not None:
            yield from self.config_file(
                DriftCode.DOMAIN_CONFIG_DIFFERS,
                refs.file(dom.config_path),
                dom.config_path,
                dom.config,
                ("spec", "domain", "config"),
            )

    def config_file(
        self, code: DriftCode, resource: ResourceRef, path: str, content: str, declared: Path
    ) -> Iterator[Drift]:
        current = self.probed.files.get(path)
        if current != content:
            yield self.record(
                code,
                Severity.WARNING,
                resource,
                "content",
                "generated",
                "absent" if current is None else "differs",
                declared,
                detail=unified_diff(current, content, path),
            )
