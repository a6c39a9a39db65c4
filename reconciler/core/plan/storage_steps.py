"""The storage steps: volume group, logical volumes, DRBD metadata, resource, role and sync.

Part of the planner's vocabulary with `steps`, whose `Step` and `probe` they use.
"""

import re

from reconciler.core import refs
from reconciler.core.desired import DesiredVolume
from reconciler.core.plan.model import Action, ActionKind, Probe, StderrTest
from reconciler.core.plan.steps import QUICK_TIMEOUT, STORAGE_TIMEOUT, Step, probe
from reconciler.render.drbd import DrbdFlavour

# A resync runs at the declared rate when the link allows it; twice that, plus a minute, before giving up.
MIN_SYNC_WAIT = 60.0
SYNC_MARGIN = 2.0
PRIMARY = r"Primary(/\S+)*"
SECONDARY = r"Secondary(/\S+)*"
UP = r"(Primary|Secondary)(/\S+)*"
LOCAL_UPTODATE = r"UpToDate(/\S+)*"
ALL_UPTODATE = r"UpToDate(/UpToDate)+"
# drbdmeta exits 255 (-1) for "No valid meta data found", and for most of its other errors too.
NO_METADATA = 255
NO_METADATA_SAID = r"No valid meta.?data found"
# LVM: 5 (ECMD_FAILED) for a volume group or volume that is not there, and for any other failure.
LVM_FAILED = 5
# drbdsetup: 10 for a failure the kernel reports, as a resource that is not up (8.4: "Device
# minor not allocated", 9: "Unknown resource"); drbdadm: 10 for a configuration it cannot use too.
# DRBD 8.3 says "Unconfigured" with exit 0 instead.
DRBD_FAILURE = 10
DRBD_NOT_UP_SAID = r"(?i)minor not allocated|unknown resource"


def vg_exists(vg: str) -> Probe:
    """`vgs VG`: 0 when it exists, 5 saying it is not found when it does not; else an error."""
    missing = (StderrTest(code=LVM_FAILED, pattern=f'Volume group "{re.escape(vg)}" not found'),)
    argv = ("vgs", "--noheadings", "-o", "vg_name", vg)
    return probe(argv, holds=(0,), fails=(LVM_FAILED,), stderr=missing)


def lv_exists(vg: str, lv: str) -> Probe:
    """`lvs VG/LV`: 0 when it exists, 5 saying that it (or its group) is not found; else an error."""
    said = (
        f'Failed to find logical volume "{re.escape(vg)}/{re.escape(lv)}"'
        f'|Volume group "{re.escape(vg)}" not found'
        r"|One or more specified logical volume\(s\) not found"  # older LVM2 wording
    )
    missing = (StderrTest(code=LVM_FAILED, pattern=said),)
    argv = ("lvs", "--noheadings", "-o", "lv_name", f"{vg}/{lv}")
    return probe(argv, holds=(0,), fails=(LVM_FAILED,), stderr=missing)


def drbd_role(resource: str, pattern: str) -> Probe:
    """The role matches `pattern` (exit 0), or it does not, or the resource is not up (10 saying
    so); anything else (drbdadm's 10 for a resource file it cannot parse, 20 for a module that
    cannot load, 1 for a resource it does not know) is an error."""
    not_up = (StderrTest(code=DRBD_FAILURE, pattern=DRBD_NOT_UP_SAID),)
    argv = ("drbdadm", "role", resource)
    return probe(argv, matches=pattern, holds=(0,), fails=(DRBD_FAILURE,), stderr=not_up)


def has_metadata(resource: str) -> Probe:
    """`drbdadm dump-md R`: 0 = metadata present, 255 saying none was found = none. Anything
    else (10: the resource file does not parse; 20: the device cannot be opened, or the resource
    is up) is an error: it must not read as "free to write"."""
    none = (StderrTest(code=NO_METADATA, pattern=NO_METADATA_SAID),)
    return probe(("drbdadm", "dump-md", resource), holds=(0,), fails=(NO_METADATA,), stderr=none)


def sync_wait_seconds(vol: DesiredVolume) -> float:
    return max(MIN_SYNC_WAIT, SYNC_MARGIN * vol.size / max(vol.sync_rate, 1) + MIN_SYNC_WAIT)


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


def create_md(s: Step, v: DesiredVolume, force: bool) -> Action:
    # Without --force drbdadm asks before writing over a filesystem or old metadata; with no
    # terminal it then refuses. --force is the explicit opt-in of a destructive plan.
    argv = ("drbdadm", "create-md", *(("--force",) if force else ()), v.resource)
    return s.action(
        ActionKind.CREATE_MD,
        refs.drbd(v.resource),
        do=argv,
        check=has_metadata(v.resource),
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
        verify=probe(("drbdadm", "dstate", v.resource), matches=pattern, holds=(0,)),
        timeout=sync_wait_seconds(v),
        estimate=v.size / max(v.sync_rate, 1),
    )


def initial_sync(s: Step, v: DesiredVolume, flavour: DrbdFlavour) -> Action:
    """Make this side the source of the first full sync: it overwrites whatever the peer holds.
    drbdadm 8.3 and 8.4 pass the option to drbdsetup after `--`; 9 has `primary --force`."""
    if flavour is not DrbdFlavour.V9:
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
    """Reconnect this (standby) side as the split brain's victim: its changes since are discarded
    (8.3 and 8.4: `drbdadm -- --discard-my-data connect`; 9: `drbdadm connect --discard-my-data`)."""
    if flavour is not DrbdFlavour.V9:
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
