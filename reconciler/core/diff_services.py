"""The diff of what an application serves with: its filesystems, network and addresses, domain."""

from collections.abc import Iterator

from reconciler.core import refs
from reconciler.core.diff_base import AppDiff, Path
from reconciler.core.drift import Drift, DriftCode, Severity
from reconciler.observe.xen import DomainStateFlag

_STOPPED_DOMAIN = {DomainStateFlag.SHUTDOWN, DomainStateFlag.DYING}


def mounts_drift(d: AppDiff) -> Iterator[Drift]:
    for i, vol in enumerate(d.app.volumes):
        if vol.filesystem is None:
            continue
        path: Path = ("spec", "storage", "logicalVolumes", i, "filesystem", "mountPoint")
        mount = d.observed.mount_at(vol.filesystem.mount_point)
        resource = refs.fs(vol.filesystem.mount_point)
        if d.active and mount is None:
            yield d.record(DriftCode.FS_NOT_MOUNTED, Severity.ERROR, resource, "mounted", "yes", "no", path)
        elif d.active and mount is not None and mount.source != vol.device:
            yield d.record(
                DriftCode.FS_WRONG_SOURCE,
                Severity.ERROR,
                resource,
                "source",
                vol.device,
                mount.source,
                path,
            )
        elif not d.active and mount is not None:
            yield d.record(
                DriftCode.FS_MOUNTED_ON_STANDBY, Severity.ERROR, resource, "mounted", "no", "yes", path
            )


def interfaces_drift(d: AppDiff) -> Iterator[Drift]:
    for i, (network, ifname) in enumerate(d.app.needed_interfaces):
        iface = d.observed.interface(ifname)
        if iface is None or not iface.admin_up:
            yield d.record(
                DriftCode.NETWORK_DOWN,
                Severity.ERROR if d.active else Severity.WARNING,
                refs.link(ifname),
                "state",
                "UP",
                "absent" if iface is None else "DOWN",
                ("spec", "networks", i, "name"),
                detail=f"network {network!r}",
            )
    for want in d.app.addresses:
        iface = d.observed.interface(want.interface)
        present = iface is not None and any(a.ip.ip == want.address for a in iface.addresses)
        anywhere = d.observed.interfaces is not None and any(
            a.ip.ip == want.address for i in d.observed.interfaces.interfaces for a in i.addresses
        )
        resource = refs.ip(want.cidr)
        if d.active and not present:
            yield d.record(
                DriftCode.IP_MISSING,
                Severity.ERROR,
                resource,
                want.interface,
                "present",
                "absent",
                want.declared,
            )
        elif not d.active and anywhere:
            yield d.record(
                DriftCode.IP_UNEXPECTED,
                Severity.ERROR,
                resource,
                want.interface,
                "absent",
                "present",
                want.declared,
            )


def domain_drift(d: AppDiff) -> Iterator[Drift]:
    dom = d.app.domain
    running = _domain_running(d)
    resource = refs.domain(dom.name)
    if running is None:
        if d.app.name in d.probed.unknown:  # the status command could not answer
            yield d.record(
                DriftCode.OBSERVATION_FAILED,
                Severity.WARNING,
                resource,
                "state",
                "observed",
                "unknown",
                ("spec", "domain", "status"),
                detail=d.probed.unknown[d.app.name],
            )
        return
    if _crashed(d):
        yield d.record(
            DriftCode.DOMAIN_CRASHED,
            Severity.ERROR,
            resource,
            "state",
            "running",
            "crashed",
            ("spec", "domain", "name"),
        )
    elif d.active and not running:
        yield d.record(
            DriftCode.APP_DOWN,
            Severity.ERROR,
            resource,
            "state",
            "running",
            "not running",
            ("spec", "domain", "name"),
        )
    elif not d.active and running:
        yield d.record(
            DriftCode.APP_UP_ON_WRONG_NODE,
            Severity.ERROR,
            resource,
            "state",
            "not running",
            "running",
            ("spec", "domain", "name"),
        )


def _crashed(d: AppDiff) -> bool:
    domains = d.observed.domains
    return domains is not None and any(
        dom.name == d.app.domain.name and DomainStateFlag.CRASHED in set(dom.state or ())
        for dom in domains.domains
    )


def _domain_running(d: AppDiff) -> bool | None:
    if d.app.domain.config_path is None:  # toolstack: commands
        return d.probed.running.get(d.app.name)
    domains = d.observed.domains
    if domains is None:
        return None
    return any(
        dom.name == d.app.domain.name and not (set(dom.state or ()) & _STOPPED_DOMAIN)
        for dom in domains.domains
    )
