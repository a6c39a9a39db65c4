"""plan(desired, observed, drift) -> actions: the steps that close the drift, in DESIGN.md's order.

Active: VG -> LVs -> DRBD config, metadata, up -> in sync -> promote -> fsck, mount -> addresses
-> domain -> readiness. Standby: the storage steps, Secondary and in sync; anything running there
is stopped first, in the exact reverse order. Pure.

Where DRBD's state cannot be known before a resource is up (fresh metadata, or old data?), the
plan stops after bringing it up, and `apply` observes again and plans the next round: nothing is
guessed about whose data is good.
"""

from dataclasses import dataclass, field
from pathlib import PurePosixPath

from reconciler.core import refs
from reconciler.core.desired import AppRole, DesiredAddress, DesiredApp, DesiredNode, DesiredVolume
from reconciler.core.diff import Probed
from reconciler.core.drift import Drift, DriftCode
from reconciler.core.plan import steps, storage_steps
from reconciler.core.plan.model import Action, ActionKind
from reconciler.core.refs import ResourceRef
from reconciler.core.resources import find_resource
from reconciler.manifest.application import StopEscalation, Takeover
from reconciler.observe.drbd.models import Resource
from reconciler.observe.drbd.states import ConnectionState, DiskState, ReplicationState, Role
from reconciler.observe.state import Observed
from reconciler.render.drbd import DrbdFlavour


@dataclass(frozen=True)
class Options:
    allow_destructive: bool = False
    # Only the first build of new volumes: the initial sync (that overwrites the peer) and the
    # mkfs of the empty device, as linuxha.net's `clbuildapp -sync` allowed; nothing else.
    allow_initial_sync: bool = False

    @property
    def initial_build(self) -> bool:
        return self.allow_destructive or self.allow_initial_sync


@dataclass
class Planned:
    actions: list[Action] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class _AppPlan:
    app: DesiredApp
    observed: Observed
    drift: list[Drift]
    options: Options
    flavour: DrbdFlavour
    out: Planned

    def __post_init__(self) -> None:
        self.step = steps.Step(self.app)
        self.codes = {(d.resource, d.code) for d in self.drift}

    def has(self, resource: ResourceRef, code: DriftCode) -> bool:
        return (resource, code) in self.codes

    def add(self, action: Action, *depends: Action | None) -> Action:
        deps = tuple(d.id for d in depends if d is not None)
        action = action.model_copy(update={"depends_on": deps, "drift": self.drift_of(action.target)})
        self.out.actions.append(action)
        return action

    def drift_of(self, target: ResourceRef) -> tuple[str, ...]:
        return tuple(sorted({d.code.value for d in self.drift if d.resource == target}))

    def refuse(self, message: str) -> None:
        self.out.errors.append(f"{self.app.name}: {message}")


def plan_node(
    desired: DesiredNode, observed: Observed, probed: Probed, drift: list[Drift], options: Options
) -> Planned:
    out = Planned()
    for app in desired.apps:
        mine = [d for d in drift if d.app == app.name]
        p = _AppPlan(app, observed, mine, options, desired.flavour, out)
        blind = any(d.code is DriftCode.OBSERVATION_FAILED for d in mine)
        if blind:
            # What cannot be seen is neither there nor absent: any step would be a guess. The
            # round says what failed (and makes the plan not applyable).
            continue
        if app.role is AppRole.ACTIVE:
            _plan_active(p, probed)
        else:
            _plan_standby(p, probed)
    return out


def _plan_storage(p: _AppPlan, after: Action | None = None) -> dict[str, Action | None]:
    """VG, LVs, resource files, metadata, up. Returns, per volume, the last action it waits on,
    or no entry when the resource is not known to be up yet (the round ends there)."""
    vg = (
        p.add(storage_steps.create_vg(p.step), after)
        if p.has(refs.vg(p.app.vg), DriftCode.VG_MISSING)
        else None
    )
    ready: dict[str, Action | None] = {}
    for vol in p.app.volumes:
        lv = (
            p.add(storage_steps.create_lv(p.step, vol), vg or after)
            if p.has(refs.lv(vol.vg, vol.lv), DriftCode.LV_MISSING)
            else None
        )
        config = None
        if p.has(refs.file(vol.config_path), DriftCode.DRBD_CONFIG_DIFFERS):
            config = p.add(steps.write_file(p.step, vol.config_path, vol.config), after)
        resource = _resource(p, vol)
        if resource is None:
            md = p.add(
                storage_steps.create_md(p.step, vol, force=p.options.allow_destructive),
                lv or vg or after,
                config,
            )
            p.add(storage_steps.drbd_up(p.step, vol), md)
            continue
        ready[vol.resource] = (
            p.add(storage_steps.drbd_adjust(p.step, vol), config) if config else (lv or after)
        )
        _reconnect(p, vol, resource, ready[vol.resource])
    return ready


def _reconnect(p: _AppPlan, vol: DesiredVolume, r: Resource, after: Action | None) -> None:
    """A StandAlone resource (a partition, an operator's disconnect, or a split brain: DRBD 9's
    status does not say which) is reconnected. The active side connects as it is; the standby,
    which is the side to lose in a split brain, discards its own changes only when allowed."""
    if not any(c.connection_state is ConnectionState.STANDALONE for c in r.connections):
        return
    if p.has(refs.drbd(vol.resource), DriftCode.DRBD_SPLIT_BRAIN):
        return  # handled with its explicit refusal in _plan_standby
    if p.app.role is AppRole.STANDBY and p.options.allow_destructive:
        p.add(storage_steps.discard_split_brain(p.step, vol, p.flavour), after)
    else:
        p.add(storage_steps.connect(p.step, vol), after)


def _resource(p: _AppPlan, vol: DesiredVolume) -> Resource | None:
    if p.observed.drbd is None:
        return None
    return find_resource(p.observed.drbd.resources, vol)


def _plan_active(p: _AppPlan, probed: Probed) -> None:
    ready = _plan_storage(p)
    domain_config = _domain_config(p)
    if len(ready) < len(p.app.volumes):
        return  # a resource is being brought up: promote in the next round, on what it then shows
    promoted: list[Action | None] = []
    for vol in p.app.volumes:
        resource = _resource(p, vol)
        assert resource is not None
        promoted.append(_promote(p, vol, resource, ready[vol.resource]))
    if any(a is None and not _is_primary(p, v) for a, v in zip(promoted, p.app.volumes, strict=True)):
        return
    wrong = [d for d in p.drift if d.code is DriftCode.FS_WRONG_SOURCE]
    if wrong:
        for d in wrong:
            p.refuse(
                f"{d.resource.name} is mounted from {d.observed}, not {d.desired}: the domain is not "
                "started on it until an operator unmounts it"
            )
        return
    mounts = _mounts(p, dict(zip((v.resource for v in p.app.volumes), promoted, strict=True)))
    addresses = [
        p.add(steps.add_address(p.step, a), *promoted, *mounts)
        for a in p.app.addresses
        if p.has(refs.ip(a.cidr), DriftCode.IP_MISSING)
    ]
    domain = p.app.domain
    crashed = p.has(refs.domain(domain.name), DriftCode.DOMAIN_CRASHED)
    if crashed:
        # What a crashed guest left holds its name and devices: `create` fails until it is gone.
        domain_config = p.add(_destroy_crashed(p), domain_config)
    if p.has(refs.domain(domain.name), DriftCode.APP_DOWN) or domain_config:
        start = p.add(
            steps.start_domain(p.step, p.app.domain, p.app.start_timeout.total_seconds()),
            *promoted,
            *mounts,
            *addresses,
            domain_config,
        )
        if p.app.readiness is not None:
            p.add(steps.readiness(p.step, p.app.start_timeout.total_seconds()), start)


def _destroy_crashed(p: _AppPlan) -> Action:
    d = p.app.domain
    assert d.destroy is not None  # only xm and xl domains crash; they have a destroy
    return p.step.action(
        ActionKind.DESTROY_DOMAIN,
        refs.domain(d.name),
        do=d.destroy,
        verify=steps.domain_running(d, running=False),
        timeout=steps.QUICK_TIMEOUT,
        retryable=False,
    )


def _is_primary(p: _AppPlan, vol: DesiredVolume) -> bool:
    resource = _resource(p, vol)
    return resource is not None and resource.role is Role.PRIMARY


def _promote(p: _AppPlan, vol: DesiredVolume, r: Resource, after: Action | None) -> Action | None:
    """The promotion of one volume, or None when it is Primary already or must not be promoted."""
    if r.role is Role.PRIMARY:
        return after
    if p.has(refs.drbd(vol.resource), DriftCode.DRBD_UNINITIALISED):
        if not p.options.initial_build:
            p.refuse(
                f"{vol.resource} holds no good data on either node; to make this node the source of the "
                "initial sync (overwriting the peer), apply with --allow-destructive"
            )
            return None
        return p.add(storage_steps.initial_sync(p.step, vol, p.flavour), after)
    blocked = _why_not_promote(p, vol, r)
    if blocked is not None:
        p.refuse(blocked)
        return None
    if all(v.disk_state is DiskState.UP_TO_DATE for v in r.volumes):
        return p.add(storage_steps.promote(p.step, vol), after)
    wait = p.add(storage_steps.wait_sync(p.step, vol, local_only=True), after)
    return p.add(storage_steps.promote(p.step, vol), wait)


def _why_not_promote(p: _AppPlan, vol: DesiredVolume, r: Resource) -> str | None:
    """Invariants 1 and 2: never a second Primary, never promote data that is not UpToDate
    (unless it is becoming UpToDate by a resync from the peer, which is waited for)."""
    if any(c.peer_role is Role.PRIMARY for c in r.connections):
        return f"{vol.resource} is Primary on the peer: it must be demoted there first (never two Primaries)"
    if all(v.disk_state is DiskState.UP_TO_DATE for v in r.volumes):
        return None
    if any(
        pv.replication_state is ReplicationState.SYNC_TARGET for c in r.connections for pv in c.peer_volumes
    ):
        return None
    seen = "/".join(v.disk_state.value for v in r.volumes)
    if p.app.takeover is Takeover.FORCE:
        return f"{vol.resource} is {seen}: takeover is 'force' but promoting stale data is not automated yet"
    return f"{vol.resource} is {seen}, not UpToDate: promoting it could serve stale data"


def _mounts(p: _AppPlan, promoted: dict[str, Action | None]) -> list[Action | None]:
    """Each filesystem after those it is mounted inside (/virt before /virt/data)."""
    done: dict[str, Action | None] = {}
    for vol in nesting_order(p.app.volumes):
        assert vol.filesystem is not None
        outer = [a for mp, a in done.items() if is_inside(vol.filesystem.mount_point, mp)]
        done[vol.filesystem.mount_point] = _mount(p, vol, promoted[vol.resource], *outer)
    return list(done.values())


def _mount(p: _AppPlan, vol: DesiredVolume, promoted: Action | None, *outer: Action | None) -> Action | None:
    fs = vol.filesystem
    assert fs is not None
    if not p.has(refs.fs(fs.mount_point), DriftCode.FS_NOT_MOUNTED):
        return None
    if p.options.initial_build:
        # Level-triggered: also after a crash between the initial sync and this step. Its check
        # skips it on any device that carries a signature.
        promoted = p.add(steps.mkfs(p.step, vol), promoted)
    made = p.add(steps.mkdir(p.step, fs.mount_point), promoted, *outer)
    checked = p.add(steps.fsck(p.step, vol), made) if fs.fsck else made
    return p.add(steps.mount(p.step, vol), checked)


def _domain_config(p: _AppPlan) -> Action | None:
    d = p.app.domain
    if d.config is None or d.config_path is None:
        return None
    if not p.has(refs.file(d.config_path), DriftCode.DOMAIN_CONFIG_DIFFERS):
        return None
    return p.add(steps.write_file(p.step, d.config_path, d.config))


def _plan_standby(p: _AppPlan, probed: Probed) -> None:
    stopped = _stop_running(p)
    ready = _plan_storage(p, stopped)
    _domain_config(p)
    for vol in p.app.volumes:
        name = refs.drbd(vol.resource)
        if vol.resource not in ready:
            continue
        if p.has(name, DriftCode.DRBD_SPLIT_BRAIN):
            if p.options.allow_destructive:
                p.add(storage_steps.discard_split_brain(p.step, vol, p.flavour), ready[vol.resource])
            else:
                p.refuse(
                    f"{vol.resource} is split brain; this standby's changes since the split are discarded "
                    "by reconnecting it with --allow-destructive"
                )
        elif p.has(name, DriftCode.DRBD_SYNCING):
            p.add(storage_steps.wait_sync(p.step, vol, local_only=False), ready[vol.resource])


def _where(p: _AppPlan, a: DesiredAddress) -> DesiredAddress:
    """The address as it is found: on whichever interface holds it, not only the declared one."""
    interfaces = p.observed.interfaces.interfaces if p.observed.interfaces is not None else ()
    holder = next((i.name for i in interfaces if any(x.ip.ip == a.address for x in i.addresses)), None)
    return a if holder is None else a.model_copy(update={"interface": holder})


def nesting_order(volumes: tuple[DesiredVolume, ...]) -> list[DesiredVolume]:
    """The volumes with a filesystem, outer mount points first (a stable order otherwise)."""
    mounted = [v for v in volumes if v.filesystem is not None]
    return sorted(
        mounted, key=lambda v: len(PurePosixPath(v.filesystem.mount_point).parts) if v.filesystem else 0
    )


def is_inside(mount_point: str, outer: str) -> bool:
    return PurePosixPath(outer) in PurePosixPath(mount_point).parents


def _stop_running(p: _AppPlan) -> Action | None:
    """What runs here though the peer is active: domain, addresses, mounts, Primary; reverse order."""
    app, last = p.app, None
    timeout = app.stop_timeout.total_seconds()
    if p.has(refs.domain(app.domain.name), DriftCode.DOMAIN_CRASHED):
        last = p.add(_destroy_crashed(p))  # a crashed guest does not shut down; it is dead already
    elif p.has(refs.domain(app.domain.name), DriftCode.APP_UP_ON_WRONG_NODE):
        destroy = app.escalation is StopEscalation.DESTROY and p.options.allow_destructive
        last = p.add(steps.stop_domain(p.step, app.domain, timeout, destroy))
    removed = [
        p.add(steps.remove_address(p.step, _where(p, a)), last)
        for a in app.addresses
        if p.has(refs.ip(a.cidr), DriftCode.IP_UNEXPECTED)
    ]
    unmounted: list[Action] = []
    for v in reversed(nesting_order(app.volumes)):
        assert v.filesystem is not None
        if p.has(refs.fs(v.filesystem.mount_point), DriftCode.FS_MOUNTED_ON_STANDBY):
            unmounted.append(
                p.add(steps.unmount(p.step, v.filesystem.mount_point, timeout), last, *removed, *unmounted)
            )
    demoted = [
        p.add(storage_steps.demote(p.step, v), last, *removed, *unmounted)
        for v in app.volumes
        if p.has(refs.drbd(v.resource), DriftCode.APP_UP_ON_WRONG_NODE)
    ]
    chain = [a for a in (last, *removed, *unmounted, *demoted) if a is not None]
    return chain[-1] if chain else None
