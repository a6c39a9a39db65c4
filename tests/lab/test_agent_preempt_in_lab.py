"""A self-fence preempts the plan that is running: two applications on one node, the graceful
stop of one hangs (its manifest allows 600 s), every heartbeat link is cut, and the holder must
still destroy the other application's domain before its lease ends, while the hanging stop is
still in progress.

The seed's manifests are copied with a second application, xbackup (its own disk, volume group,
DRBD resource and domain `backup`), and both placed on centos5s1. The agent used to run its
passes and its self-fencing in one thread, so a hung `xm shutdown -w` kept it from fencing for
ten minutes: the peer then took xbackup over while it still ran here. Needs root.
"""

import json
import os
import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.lab import agents, failover, faults, invariants
from reconciler.lab import lab as labs
from reconciler.lab.errors import LabError
from reconciler.lab.inventory import Lab
from tests.lab.inlab import cli, edited_manifests, in_node, journal, lab_up

N1, N2 = "centos5s1", "centos5s2"
RECONCILER = (sys.executable, "-m", "reconciler")
HANGING_APP, HANGING_DOMAIN = "xapache", "apache"
FENCED_APP, FENCED_DOMAIN = "xbackup", "backup"
DEAD_TIME = 1.0  # the seed's deadTime: a lease lasts at most this long after the last contact
PLACED = ("    preferredNode: LEAST_CPU_LOAD ", f"    preferredNode: {N1} ")
SECOND_APP = [
    ("name: xapache", f"name: {FENCED_APP}"),
    ('Xen VM "apache"', 'Xen VM "backup"'),
    ("name: virtvg", "name: backupvg"),
    ("centos5s1: [/dev/hda]", "centos5s1: [/dev/hdb]"),
    ("centos5s2: [/dev/hda]", "centos5s2: [/dev/hdb]"),
    ("resource: xapache-lv01", "resource: xbackup-lv01"),
    ("minor: 0", "minor: 1"),
    ("port: 7789", "port: 7790"),
    ("mountPoint: /virt", "mountPoint: /backup"),
    ("name: apache\n    config:", f"name: {FENCED_DOMAIN}\n    config:"),
    ("      name: apache\n", f"      name: {FENCED_DOMAIN}\n"),
    ("24bc09da-8dae-061d-0ce3-0dbcb1cb90f3", "24bc09da-8dae-061d-0ce3-0dbcb1cb90f4"),
    ("tap:aio:/virt/apache.img", "tap:aio:/backup/backup.img"),
    ("mac=00:16:3e:01:13:97,bridge=xenbr4", "mac=00:16:3e:01:13:98,bridge=xenbr4"),
    ("mac=00:16:3e:01:13:97,bridge=xenbr0", "mac=00:16:3e:01:13:98,bridge=xenbr0"),
]


@pytest.fixture(scope="module", autouse=True)
def _need_root() -> None:
    assert os.geteuid() == 0, "the lab tests need root (network namespaces)"


@pytest.fixture(scope="module")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copied = edited_manifests(tmp_path_factory.mktemp("preempt"), [("xapache.yaml", *PLACED)])
    text = (copied / "xapache.yaml").read_text()
    for old, new in SECOND_APP:
        assert old in text, f"xapache.yaml no longer holds {old!r}"
        text = text.replace(old, new)
    (copied / f"{FENCED_APP}.yaml").write_text(text)
    return copied


@pytest.fixture(scope="module")
def lab(manifests: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with lab_up(tmp_path_factory.mktemp("labs"), "p" + secrets.token_hex(3), manifests) as made:
        failover.build(made, manifests)
        for node in (N1, N2):
            agents.start(made, node, manifests)
        for domain in (HANGING_DOMAIN, FENCED_DOMAIN):
            failover.wait_for(f"{domain} on {N1}", lambda d=domain: failover.owner(made, d) == N1, 60)
        # The peer must have heard the holder's expiring leases: a lease it never heard of is
        # never waited out, so nothing would be taken over.
        for app in (HANGING_APP, FENCED_APP):
            failover.wait_for(f"{app}'s lease heard", lambda a=app: _heard_lease(made, a), 30, 0.1)
        yield made
        assert not invariants.violations(made), invariants.report(made)


def _heard_lease(lab: Lab, app: str) -> bool:
    path = agents.log_path(lab, N2)
    return path.exists() and f'"app":"{app}","what":"lease","why":"holder {N1}' in path.read_text()


def _stop_domain_ended(lab: Lab) -> bool:
    """The holder's journal has the end of the graceful stop of the hanging domain (a command is
    journaled when it ends; the self-fence's destroy is another command)."""
    graceful = ["xm", "shutdown", "-w", HANGING_DOMAIN]
    return any(r.get("phase") == "do" and r.get("argv") == graceful for r in journal(lab, N1))


def _show(lab: Lab, err: LabError) -> str:
    logs = {n: agents.log_path(lab, n).read_text().splitlines()[-15:] for n in (N1, N2)}
    return f"{err}\n" + "\n".join(f"{n}: {line}" for n, lines in logs.items() for line in lines)


def test_a_self_fence_preempts_a_hanging_stop(lab: Lab) -> None:
    # (A fault on `xm shutdown -w` is armed on `xm shutdown`: the lab's simulator is asked without -w.)
    armed = cli(lab.root, "fault", "hang", "--id", lab.id, N1, "--", "xm", "shutdown", HANGING_DOMAIN)
    assert armed.returncode == 0, armed.stderr
    stopped = in_node(lab.root, lab.id, N1, *RECONCILER, "stop", HANGING_APP)
    assert stopped.returncode == 0, stopped.stderr
    # The graceful stop has begun (the fault is used up) and hangs: its pass holds the node's lock.
    failover.wait_for("the hanging stop begun", lambda: not faults.listed(lab), 30, 0.05)
    assert failover.owner(lab, HANGING_DOMAIN) == N1
    cut = time.monotonic()
    labs.partition(lab)
    try:
        try:
            failover.wait_for(
                f"{FENCED_DOMAIN} stopped on {N1}",
                lambda: failover.owner(lab, FENCED_DOMAIN) is None,
                10,
                0.01,
            )
        except LabError as err:
            pytest.fail(_show(lab, err))
        seconds = time.monotonic() - cut
        # The holder's lease ends at most DEAD_TIME after its last contact, which came before the cut.
        assert seconds < DEAD_TIME, f"{FENCED_DOMAIN} stopped {seconds:.2f} s after the cut"
        assert not _stop_domain_ended(lab), "the graceful stop ended: nothing was preempted"
        # The peer takes it over once the lease has run out; never both at once.
        failover.wait_for(
            f"{FENCED_DOMAIN} on {N2}", lambda: failover.owner(lab, FENCED_DOMAIN) == N2, 30, 0.05
        )
        assert not _stop_domain_ended(lab), "the graceful stop is still in progress"
        fenced = agents.log_path(lab, N1).read_text()
        assert f'"app":"{FENCED_APP}","what":"self-fence"' in fenced
        assert f'"app":"{FENCED_APP}","what":"hard-stop' in fenced  # hard-stop or hard-stop-incomplete
    finally:
        labs.heal(lab)
    assert not invariants.violations(lab), invariants.report(lab)
    records = [json.dumps(r) for r in journal(lab, N1) if FENCED_DOMAIN in json.dumps(r.get("argv"))]
    assert any("destroy" in r for r in records), "the hard stop went through the executor and the journal"
