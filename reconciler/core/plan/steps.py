"""Every step the planner can take: its argv, the probe that says it is done, its inverse.

This module is the whole vocabulary of commands the product runs on a node (the lab's stand-ins
answer exactly these). Each argument comes from a validated manifest value as one argv element.
"""

import re
from dataclasses import dataclass

from reconciler.core import refs
from reconciler.core.desired import DesiredAddress, DesiredApp, DesiredDomain, DesiredVolume
from reconciler.core.plan.model import Action, ActionKind, Expect, FileWrite, Probe, StdoutTest, TcpProbe
from reconciler.core.refs import ResourceRef
from reconciler.render.drbd import DrbdFlavour

STORAGE_TIMEOUT = 120.0
QUICK_TIMEOUT = 30.0
MIN_SYNC_WAIT = 60.0
# A resync runs at the declared rate when the link allows it; twice that, plus a minute, before giving up.
SYNC_MARGIN = 2.0
PRIMARY = r"Primary(/\S+)*"
SECONDARY = r"Secondary(/\S+)*"
UP = r"(Primary|Secondary)(/\S+)*"
LOCAL_UPTODATE = r"UpToDate(/\S+)*"
ALL_UPTODATE = r"UpToDate(/UpToDate)+"
NO_METADATA = 255
BLKID_NOTHING_FOUND = 2


@dataclass(frozen=True)
class Step:
    """The common fields of one application's action; the constructors fill in the rest."""

    app: DesiredApp

    def action(self, kind: ActionKind, target: ResourceRef, **fields: object) -> Action:
        return Action.model_validate(
            {
                "id": f"{self.app.name}/{target}/{kind.value}",
                "app": self.app.name,
                "target": target,
                "kind": kind,
                **fields,
            }
        )


def _probe(
    argv: tuple[str, ...],
    expect: Expect = Expect.ZERO,
    matches: str | None = None,
    stdout: StdoutTest = StdoutTest.ANY,
) -> Probe:
    if matches is not None:
        return Probe(argv=argv, expect=expect, stdout=StdoutTest.MATCHES, text=matches)
    return Probe(argv=argv, expect=expect, stdout=stdout)


def vg_exists(vg: str) -> Probe:
    return _probe(("vgs", "--noheadings", "-o", "vg_name", vg))


def lv_exists(vg: str, lv: str, expect: Expect = Expect.ZERO) -> Probe:
    return _probe(("lvs", "--noheadings", "-o", "lv_name", f"{vg}/{lv}"), expect)


def drbd_role(resource: str, pattern: str) -> Probe:
    return _probe(("drbdadm", "role", resource), matches=pattern)


def mounted(mount_point: str, device: str) -> Probe:
    return _probe(("findmnt", "-n", "-o", "SOURCE", "--mountpoint", mount_point), matches=re.escape(device))


def not_mounted(mount_point: str) -> Probe:
    return _probe(("mountpoint", "-q", mount_point), Expect.NONZERO)


def address_present(a: DesiredAddress, present: bool = True) -> Probe:
    # `to A/P` would list every address inside A/P, the node's own among them: ask for A alone.
    return _probe(
        ("ip", "-o", "addr", "show", "dev", a.interface, "to", str(a.address)),
        stdout=StdoutTest.NONEMPTY if present else StdoutTest.EMPTY,
    )


def domain_running(d: DesiredDomain, running: bool = True) -> Probe:
    return _probe(d.status, Expect.ZERO if running else Expect.NONZERO)


def sync_wait_seconds(vol: DesiredVolume) -> float:
    return max(MIN_SYNC_WAIT, SYNC_MARGIN * vol.size / max(vol.sync_rate, 1) + MIN_SYNC_WAIT)


# --- storage -------------------------------------------------------------------------------------


def create_vg(s: Step) -> Action:
    return s.action(
        ActionKind.CREATE_VG,
        refs.vg(s.app.vg),
        do=("vgcreate", s.app.vg, *s.app.physical_volumes),
        check=vg_exists(s.app.vg),
        verify=vg_exists(s.app.vg),
        timeout=STORAGE_TIMEOUT,
        inverse=("vgremove", s.app.vg),
    )


def create_lv(s: Step, v: DesiredVolume) -> Action:
    return s.action(
        ActionKind.CREATE_LV,
        refs.lv(v.vg, v.lv),
        do=("lvcreate", "--yes", "--name", v.lv, "--size", f"{v.size}b", v.vg),
        check=lv_exists(v.vg, v.lv),
        verify=lv_exists(v.vg, v.lv),
        timeout=STORAGE_TIMEOUT,
        inverse=("lvremove", "--yes", f"{v.vg}/{v.lv}"),
    )


def remove_lv(s: Step, vg: str, lv: str) -> Action:
    return s.action(
        ActionKind.REMOVE_LV,
        refs.lv(vg, lv),
        do=("lvremove", "--yes", f"{vg}/{lv}"),
        check=lv_exists(vg, lv, Expect.NONZERO),
        verify=lv_exists(vg, lv, Expect.NONZERO),
        timeout=STORAGE_TIMEOUT,
        destructive=True,
        retryable=False,
    )


def write_file(s: Step, path: str, content: str) -> Action:
    return s.action(
        ActionKind.WRITE_FILE,
        refs.file(path),
        write=FileWrite(path=path, content=content),
        timeout=QUICK_TIMEOUT,
    )


def create_md(s: Step, v: DesiredVolume, force: bool) -> Action:
    # Without --force drbdadm asks before writing over a filesystem or old metadata; with no
    # terminal it then refuses. --force is the explicit opt-in of a destructive plan.
    argv = ("drbdadm", "create-md", *(("--force",) if force else ()), v.resource)
    # Only exit 255 ("No valid meta data found") means there is none: any other failure (the
    # device cannot be opened, the resource is up) must not read as "free to write".
    has_metadata = Probe(argv=("drbdadm", "dump-md", v.resource), expect=Expect.NOT_CODE, code=NO_METADATA)
    return s.action(
        ActionKind.CREATE_MD,
        refs.drbd(v.resource),
        do=argv,
        check=has_metadata,
        timeout=STORAGE_TIMEOUT,
        destructive=force,
        retryable=False,
    )


def drbd_up(s: Step, v: DesiredVolume) -> Action:
    return s.action(
        ActionKind.DRBD_UP,
        refs.drbd(v.resource),
        do=("drbdadm", "up", v.resource),
        check=drbd_role(v.resource, UP),
        verify=drbd_role(v.resource, UP),
        timeout=STORAGE_TIMEOUT,
        inverse=("drbdadm", "down", v.resource),
    )


def drbd_adjust(s: Step, v: DesiredVolume) -> Action:
    """Apply a changed resource file to a running resource (drbdadm compares and changes only that)."""
    return s.action(
        ActionKind.DRBD_UP,
        refs.drbd(v.resource),
        do=("drbdadm", "adjust", v.resource),
        verify=drbd_role(v.resource, UP),
        timeout=STORAGE_TIMEOUT,
    )


def wait_sync(s: Step, v: DesiredVolume, local_only: bool) -> Action:
    """Wait for UpToDate: the local disk (before promoting), or both (a standby in sync)."""
    pattern = LOCAL_UPTODATE if local_only else ALL_UPTODATE
    return s.action(
        ActionKind.WAIT_SYNC,
        refs.drbd(v.resource),
        wait=True,
        verify=_probe(("drbdadm", "dstate", v.resource), matches=pattern),
        timeout=sync_wait_seconds(v),
        estimate=v.size / max(v.sync_rate, 1),
    )


def initial_sync(s: Step, v: DesiredVolume, flavour: DrbdFlavour) -> Action:
    """Make this side the source of the first full sync: it overwrites whatever the peer holds."""
    if flavour is DrbdFlavour.V84:
        argv: tuple[str, ...] = ("drbdadm", "--", "--overwrite-data-of-peer", "primary", v.resource)
    else:
        argv = ("drbdadm", "primary", "--force", v.resource)
    return s.action(
        ActionKind.INITIAL_SYNC,
        refs.drbd(v.resource),
        do=argv,
        verify=drbd_role(v.resource, PRIMARY),
        timeout=QUICK_TIMEOUT,
        destructive=True,
        retryable=False,
    )


def promote(s: Step, v: DesiredVolume) -> Action:
    return s.action(
        ActionKind.PROMOTE,
        refs.drbd(v.resource),
        do=("drbdadm", "primary", v.resource),
        check=drbd_role(v.resource, PRIMARY),
        verify=drbd_role(v.resource, PRIMARY),
        timeout=QUICK_TIMEOUT,
        inverse=("drbdadm", "secondary", v.resource),
    )


def demote(s: Step, v: DesiredVolume) -> Action:
    return s.action(
        ActionKind.DEMOTE,
        refs.drbd(v.resource),
        do=("drbdadm", "secondary", v.resource),
        check=drbd_role(v.resource, SECONDARY),
        verify=drbd_role(v.resource, SECONDARY),
        timeout=QUICK_TIMEOUT,
        inverse=("drbdadm", "primary", v.resource),
    )


def connect(s: Step, v: DesiredVolume) -> Action:
    """Reconnect a StandAlone resource (after a partition, or as a split brain's survivor)."""
    return s.action(
        ActionKind.CONNECT,
        refs.drbd(v.resource),
        do=("drbdadm", "connect", v.resource),
        timeout=QUICK_TIMEOUT,
    )


def discard_split_brain(s: Step, v: DesiredVolume, flavour: DrbdFlavour) -> Action:
    """Reconnect this (standby) side as the split brain's victim: its changes since are discarded."""
    if flavour is DrbdFlavour.V84:
        argv: tuple[str, ...] = ("drbdadm", "--", "--discard-my-data", "connect", v.resource)
    else:
        argv = ("drbdadm", "connect", "--discard-my-data", v.resource)
    return s.action(
        ActionKind.DISCARD_SPLIT_BRAIN,
        refs.drbd(v.resource),
        do=argv,
        timeout=QUICK_TIMEOUT,
        destructive=True,
        retryable=False,
    )


# --- filesystems, addresses, domain ----------------------------------------------------------------


def mkdir(s: Step, mount_point: str) -> Action:
    return s.action(
        ActionKind.MKDIR,
        refs.directory(mount_point),
        do=("mkdir", "-p", mount_point),
        check=_probe(("test", "-d", mount_point)),
        verify=_probe(("test", "-d", mount_point)),
        timeout=QUICK_TIMEOUT,
    )


def has_filesystem(v: DesiredVolume) -> Probe:
    assert v.filesystem is not None
    return _probe(
        ("blkid", "-p", "-s", "TYPE", "-o", "value", v.device), matches=re.escape(v.filesystem.type.value)
    )


def any_signature(v: DesiredVolume) -> Probe:
    """Holds unless blkid says, with its exit status 2, that the device carries no signature at
    all: any other answer (a filesystem of another type, an error, blkid missing) keeps mkfs away."""
    # `-s` filters what blkid prints, not its exit status: a partition table alone still exits 0.
    argv = ("blkid", "-p", "-s", "TYPE", "-o", "value", v.device)
    return Probe(argv=argv, expect=Expect.NOT_CODE, code=BLKID_NOTHING_FOUND)


def mkfs(s: Step, v: DesiredVolume) -> Action:
    """A filesystem on a device that has none: skipped when blkid sees any signature on it.

    Destructive all the same: a superblock damaged beyond blkid's recognition also reads as
    "nothing", and formatting it would lose what fsck might have saved.
    """
    assert v.filesystem is not None
    return s.action(
        ActionKind.MKFS,
        refs.fs(v.filesystem.mount_point),
        do=("mkfs", "-t", v.filesystem.type.value, v.device),
        check=any_signature(v),
        verify=has_filesystem(v),
        timeout=max(STORAGE_TIMEOUT, 600.0),
        retryable=False,
        destructive=True,
    )


def fsck(s: Step, v: DesiredVolume) -> Action:
    assert v.filesystem is not None
    fs = v.filesystem
    # -p repairs what is safe to repair unattended; exit 1 means it did, and the filesystem is fine.
    return s.action(
        ActionKind.FSCK,
        refs.fs(fs.mount_point),
        do=("fsck", "-p", "-T", "-t", fs.type.value, v.device),
        check=mounted(fs.mount_point, v.device),
        ok_exit=(0, 1),
        timeout=max(STORAGE_TIMEOUT, 600.0),
        retryable=False,
    )


def mount(s: Step, v: DesiredVolume) -> Action:
    assert v.filesystem is not None
    fs = v.filesystem
    options = ("-o", ",".join(fs.options)) if fs.options else ()
    return s.action(
        ActionKind.MOUNT,
        refs.fs(fs.mount_point),
        do=("mount", "-t", fs.type.value, *options, v.device, fs.mount_point),
        check=mounted(fs.mount_point, v.device),
        verify=mounted(fs.mount_point, v.device),
        timeout=QUICK_TIMEOUT,
        inverse=("umount", fs.mount_point),
    )


def unmount(s: Step, mount_point: str, timeout: float) -> Action:
    return s.action(
        ActionKind.UNMOUNT,
        refs.fs(mount_point),
        do=("umount", mount_point),
        check=not_mounted(mount_point),
        verify=not_mounted(mount_point),
        timeout=timeout,
    )


def add_address(s: Step, a: DesiredAddress) -> Action:
    return s.action(
        ActionKind.ADD_ADDRESS,
        refs.ip(a.cidr),
        do=("ip", "addr", "add", a.cidr, "dev", a.interface),
        check=address_present(a),
        verify=address_present(a),
        timeout=QUICK_TIMEOUT,
        inverse=("ip", "addr", "del", a.cidr, "dev", a.interface),
    )


def remove_address(s: Step, a: DesiredAddress) -> Action:
    return s.action(
        ActionKind.REMOVE_ADDRESS,
        refs.ip(a.cidr),
        do=("ip", "addr", "del", a.cidr, "dev", a.interface),
        check=address_present(a, present=False),
        verify=address_present(a, present=False),
        timeout=QUICK_TIMEOUT,
    )


def start_domain(s: Step, d: DesiredDomain, timeout: float) -> Action:
    return s.action(
        ActionKind.START_DOMAIN,
        refs.domain(d.name),
        do=d.start,
        check=domain_running(d),
        verify=domain_running(d),
        timeout=timeout,
        inverse=d.stop,
        retryable=False,
    )


def stop_domain(s: Step, d: DesiredDomain, timeout: float, destroy: bool) -> Action:
    return s.action(
        ActionKind.STOP_DOMAIN,
        refs.domain(d.name),
        do=d.stop,
        check=domain_running(d, False),
        verify=domain_running(d, False),
        timeout=timeout,
        retryable=False,
        on_timeout=d.destroy if destroy else None,
        destructive=destroy and d.destroy is not None,
    )


def readiness(s: Step, timeout: float) -> Action:
    check = s.app.readiness
    assert check is not None
    if check.type == "tcp":
        probe: Probe | TcpProbe = TcpProbe(address=str(check.address), port=check.port)
    else:
        probe = _probe(("ping", "-c", "1", "-W", "1", str(check.address)))
    return s.action(
        ActionKind.READINESS, refs.domain(s.app.domain.name), wait=True, verify=probe, timeout=timeout
    )
