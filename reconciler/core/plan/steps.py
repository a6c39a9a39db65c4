"""Every step the planner can take: its argv, the probe that says it is done, its inverse.

This module and `storage_steps` (LVM and DRBD) are the whole vocabulary of commands the product
runs on a node (the lab's stand-ins answer exactly these); here are what every step shares, the
configuration files, filesystems, addresses and the domain. Each argument comes from a validated
manifest value as one argv element.
"""

import re
from dataclasses import dataclass

from reconciler.core import refs
from reconciler.core.desired import DesiredAddress, DesiredApp, DesiredDomain, DesiredVolume
from reconciler.core.plan.model import (
    Action,
    ActionKind,
    Expect,
    FileWrite,
    Probe,
    StderrTest,
    StdoutTest,
    TcpProbe,
)
from reconciler.core.refs import ResourceRef
from reconciler.manifest.domain import Toolstack

STORAGE_TIMEOUT = 120.0
QUICK_TIMEOUT = 30.0
# blkid(8): 2 = nothing found, and also "the device could not be probed" (said on stderr); 4 =
# usage or other error; 8 = ambivalent result (several signatures).
BLKID_NOTHING_FOUND = 2
# findmnt(8): 1 = nothing found, and also any error (said on stderr).
FINDMNT_NOTHING = 1
# test(1): 1 = false, 2 and more = an error.
TEST_FALSE = 1
# xl(1), xm(1): 1 for a domain that does not exist, and for most other failures too.
XEN_NO_DOMAIN = 1
XEN_NO_DOMAIN_SAID = r"invalid domain identifier|does not exist"
QUIET = r"\A\Z"  # a stderr test: nothing on stderr


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


def probe(
    argv: tuple[str, ...],
    expect: Expect = Expect.ZERO,
    matches: str | None = None,
    stdout: StdoutTest = StdoutTest.ANY,
    *,
    holds: tuple[int, ...] = (),
    fails: tuple[int, ...] = (),
    stderr: tuple[StderrTest, ...] = (),
) -> Probe:
    """A probe; `holds` and `fails` name the exit statuses that answer, any other is an error."""
    if matches is not None:
        stdout = StdoutTest.MATCHES
    text = matches or ""
    exits = {"holds": holds, "fails": fails, "stderr": stderr} if holds else {"expect": expect}
    return Probe.model_validate({"argv": argv, **exits, "stdout": stdout, "text": text})


def quiet(code: int) -> tuple[StderrTest, ...]:
    """`code` answers only when the tool said nothing on stderr (else it reported an error)."""
    return (StderrTest(code=code, pattern=QUIET),)


def findmnt(mount_point: str) -> tuple[str, ...]:
    return ("findmnt", "-n", "-o", "SOURCE", "--mountpoint", mount_point)


def mounted(mount_point: str, device: str) -> Probe:
    """Holds when `device` is what is mounted there; another device or nothing: does not hold."""
    return probe(
        findmnt(mount_point),
        matches=re.escape(device),
        holds=(0,),
        fails=(FINDMNT_NOTHING,),
        stderr=quiet(FINDMNT_NOTHING),
    )


def not_mounted(mount_point: str) -> Probe:
    """Holds when nothing is mounted there (`mountpoint -q` would say 1 for both "not mounted"
    and an error with older util-linux; findmnt's quiet 1 is "nothing found")."""
    return probe(findmnt(mount_point), holds=(FINDMNT_NOTHING,), fails=(0,), stderr=quiet(FINDMNT_NOTHING))


def address_present(a: DesiredAddress, present: bool = True) -> Probe:
    # `to A/P` would list every address inside A/P, the node's own among them: ask for A alone.
    # Exit 0 is the only answer: ip says 1 for a device that does not exist, an error here.
    return probe(
        ("ip", "-o", "addr", "show", "dev", a.interface, "to", str(a.address)),
        stdout=StdoutTest.NONEMPTY if present else StdoutTest.EMPTY,
        holds=(0,),
    )


def domain_running(d: DesiredDomain, running: bool = True) -> Probe:
    """`xl list NAME` / `xm list NAME`: 0 when the domain exists (running, paused, blocked), 1
    saying it does not exist when it is gone; anything else is an error. A domain of
    `toolstack: commands` has only "exit 0 when running": any other exit status is "not running"."""
    if d.toolstack is Toolstack.COMMANDS:
        return probe(d.status, Expect.ZERO if running else Expect.NONZERO)
    gone = (StderrTest(code=XEN_NO_DOMAIN, pattern=XEN_NO_DOMAIN_SAID),)
    here, absent = (0,), (XEN_NO_DOMAIN,)
    if running:
        return probe(d.status, holds=here, fails=absent, stderr=gone)
    return probe(d.status, holds=absent, fails=here, stderr=gone)


def directory(path: str) -> Probe:
    return probe(("test", "-d", path), holds=(0,), fails=(TEST_FALSE,))


def write_file(s: Step, path: str, content: str) -> Action:
    return s.action(
        ActionKind.WRITE_FILE,
        refs.file(path),
        write=FileWrite(path=path, content=content),
        timeout=QUICK_TIMEOUT,
    )


def mkdir(s: Step, mount_point: str) -> Action:
    return s.action(
        ActionKind.MKDIR,
        refs.directory(mount_point),
        do=("mkdir", "-p", mount_point),
        check=directory(mount_point),
        verify=directory(mount_point),
        timeout=QUICK_TIMEOUT,
    )


def blkid(v: DesiredVolume) -> tuple[str, ...]:
    return ("blkid", "-p", "-s", "TYPE", "-o", "value", v.device)


def has_filesystem(v: DesiredVolume) -> Probe:
    assert v.filesystem is not None
    fs_type = re.escape(v.filesystem.type.value)
    nothing = (BLKID_NOTHING_FOUND,)
    return probe(blkid(v), matches=fs_type, holds=(0,), fails=nothing, stderr=quiet(BLKID_NOTHING_FOUND))


def any_signature(v: DesiredVolume) -> Probe:
    """Holds when blkid finds any signature (exit 0), does not hold when it finds none (a quiet
    exit 2). Anything else (a device it cannot open, several signatures, blkid missing) is an
    error that fails mkfs rather than let it format what blkid could not see."""
    # `-s` filters what blkid prints, not its exit status: a partition table alone still exits 0.
    nothing = (BLKID_NOTHING_FOUND,)
    return probe(blkid(v), holds=(0,), fails=nothing, stderr=quiet(BLKID_NOTHING_FOUND))


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
        verify: Probe | TcpProbe = TcpProbe(address=str(check.address), port=check.port)
    else:
        # ping(8): 1 = no reply, 2 = another error (no route, unknown host).
        verify = probe(("ping", "-c", "1", "-W", "1", str(check.address)), holds=(0,), fails=(1,))
    return s.action(
        ActionKind.READINESS, refs.domain(s.app.domain.name), wait=True, verify=verify, timeout=timeout
    )
