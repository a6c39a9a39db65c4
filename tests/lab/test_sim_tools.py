"""The lab's other tools (LVM, filesystems, addresses, Xen) and its faults and crash hook."""

import pytest

from reconciler.core.plan.model import FileWrite
from reconciler.lab.sim import Crash, CrashPoint, Fault, FaultKind, SimCrashed, SimHost, simple_cluster
from reconciler.lab.sim.commands import changes_state, read
from reconciler.lab.sim.model import GIB
from reconciler.observe.runner import Outcome
from tests.lab.helpers import DEVICE, RESOURCE, fresh_pair, must, run, storage, synced_pair

CONFIG = "name = 'web'\nmemory = 256\ndisk = ['phy:/dev/drbd0,xvda,w']\n"
FILE_CONFIG = "name = 'files'\nmemory = 256\ndisk = ['tap:aio:/srv/data/disk.img,xvda,w']\n"


def test_lvm_probes_and_actions_exit_as_lvm2_does() -> None:
    cluster = simple_cluster(disks={"/dev/sdb": 2 * GIB})
    vgs = run(cluster, "alpha", "vgs", "--noheadings", "-o", "vg_name", "vg0")
    assert (vgs.returncode, vgs.stderr) == (
        5,
        '  Volume group "vg0" not found\n  Cannot process volume group vg0\n',
    )
    assert (
        run(cluster, "alpha", "vgcreate", "vg0", "/dev/nosuch").stderr
        == "  No device found for /dev/nosuch.\n"
    )
    must(cluster, "alpha", "vgcreate", "vg0", "/dev/sdb")
    assert run(cluster, "alpha", "vgcreate", "vg0", "/dev/sdb").returncode == 5
    lvs = run(cluster, "alpha", "lvs", "--noheadings", "-o", "lv_name", "vg0/data")
    assert (lvs.returncode, lvs.stderr) == (5, '  Failed to find logical volume "vg0/data"\n')
    created = must(cluster, "alpha", "lvcreate", "--yes", "--name", "data", "--size", "1000000b", "vg0")
    assert "Rounding up size to full physical extent 4.00 MiB" in created.stdout
    assert run(cluster, "alpha", "lvcreate", "--yes", "--name", "data", "--size", "1m", "vg0").returncode == 5
    too_big = run(cluster, "alpha", "lvcreate", "--yes", "--name", "big", "--size", f"{3 * GIB}b", "vg0")
    assert (
        too_big.returncode == 5
        and "has insufficient free space (510 extents): 768 required." in too_big.stderr
    )
    assert must(cluster, "alpha", "lvs", "--noheadings", "-o", "lv_name", "vg0/data").stdout == "  data\n"
    assert run(cluster, "alpha", "vgremove", "vg0").returncode == 5  # not without asking, and nobody answers
    must(cluster, "alpha", "lvremove", "--yes", "vg0/data")
    must(cluster, "alpha", "vgremove", "vg0")
    assert run(cluster, "alpha", "lvs", "--all").returncode == 3  # not in the lab's vocabulary: a usage error


def test_mount_needs_a_primary_a_directory_and_a_filesystem() -> None:
    cluster = fresh_pair()
    no_dir = run(cluster, "alpha", "mount", "-t", "ext4", DEVICE, "/srv/data")
    assert (no_dir.returncode, no_dir.stderr) == (32, "mount: /srv/data: mount point does not exist.\n")
    must(cluster, "alpha", "mkdir", "-p", "/srv/data")
    secondary = run(cluster, "alpha", "mount", "-t", "ext4", DEVICE, "/srv/data")
    assert secondary.returncode == 32 and "wrong medium type" in secondary.stderr
    must(cluster, "alpha", "drbdadm", "primary", "--force", RESOURCE)
    no_fs = run(cluster, "alpha", "mount", "-t", "ext4", DEVICE, "/srv/data")
    assert no_fs.returncode == 32 and "wrong fs type" in no_fs.stderr
    assert run(cluster, "alpha", "fsck", "-p", "-T", "-t", "ext4", DEVICE).returncode == 8
    blkid = ("blkid", "-p", "-s", "TYPE", "-o", "value", DEVICE)
    assert (run(cluster, "alpha", *blkid).returncode, run(cluster, "alpha", *blkid).stdout) == (2, "")
    must(cluster, "alpha", "mkfs", "-t", "ext4", DEVICE)
    assert must(cluster, "alpha", *blkid).stdout == "ext4\n"
    assert run(cluster, "beta", *blkid).returncode == 2  # an Inconsistent Secondary cannot be read
    must(cluster, "alpha", "fsck", "-p", "-T", "-t", "ext4", DEVICE)
    must(cluster, "alpha", "mount", "-t", "ext4", DEVICE, "/srv/data")
    assert run(cluster, "alpha", "mountpoint", "-q", "/srv/data").returncode == 0
    assert run(cluster, "alpha", "fsck", "-p", "-T", "-t", "ext4", DEVICE).returncode == 8  # mounted
    must(cluster, "alpha", "umount", "/srv/data")
    assert run(cluster, "alpha", "mountpoint", "-q", "/srv/data").returncode == 32
    assert run(cluster, "alpha", "mountpoint", "-q", "/nowhere").returncode == 1
    assert run(cluster, "alpha", "umount", "/srv/data").stderr == "umount: /srv/data: not mounted.\n"
    assert run(cluster, "alpha", "findmnt", "-n", "-o", "SOURCE", "--mountpoint", "/srv/data").returncode == 1


def test_auto_promote_of_drbd_9_promotes_on_open_when_it_may() -> None:
    cluster = synced_pair()
    must(cluster, "alpha", "drbdadm", "secondary", RESOURCE)
    beta = cluster.node("beta")
    beta.drbd.auto_promote = True
    beta.directories.append("/srv/data")
    must(cluster, "beta", "mount", "-t", "ext4", DEVICE, "/srv/data")
    assert must(cluster, "beta", "drbdadm", "role", RESOURCE).stdout == "Primary\n"


def test_addresses_as_iproute2_and_its_prefix_match() -> None:
    cluster = simple_cluster()
    must(cluster, "alpha", "ip", "addr", "add", "192.168.1.50/24", "dev", "eth0")
    again = run(cluster, "alpha", "ip", "addr", "add", "192.168.1.50/24", "dev", "eth0")
    assert (again.returncode, again.stderr) == (2, "RTNETLINK answers: File exists\n")
    no_dev = run(cluster, "alpha", "ip", "addr", "add", "192.168.1.50/24", "dev", "eth9")
    assert (no_dev.returncode, no_dev.stderr) == (1, 'Cannot find device "eth9"\n')
    # `to PREFIX` lists every address inside PREFIX: the node's own 192.168.1.11 is inside /24.
    inside = must(cluster, "alpha", "ip", "-o", "addr", "show", "dev", "eth0", "to", "192.168.1.60/24").stdout
    assert [line.split()[3] for line in inside.splitlines()] == ["192.168.1.11/24", "192.168.1.50/24"]
    exact = must(cluster, "alpha", "ip", "-o", "addr", "show", "dev", "eth0", "to", "192.168.1.50/32").stdout
    assert exact.startswith("2: eth0    inet 192.168.1.50/24 scope global secondary eth0\\")
    must(cluster, "alpha", "ip", "addr", "del", "192.168.1.50/24", "dev", "eth0")
    gone = run(cluster, "alpha", "ip", "addr", "del", "192.168.1.50/24", "dev", "eth0")
    assert (gone.returncode, gone.stderr) == (2, "RTNETLINK answers: Cannot assign requested address\n")
    assert (
        must(cluster, "alpha", "ip", "-o", "addr", "show", "dev", "eth0", "to", "192.168.1.50/32").stdout
        == ""
    )
    assert must(cluster, "alpha", "ping", "-c", "1", "-W", "1", "192.168.1.12").ok
    cluster.set_link("public", False)
    assert run(cluster, "alpha", "ping", "-c", "1", "-W", "1", "192.168.1.12").returncode == 1
    assert cluster.clock == 1.0


def test_a_domain_needs_its_storage_and_runs_on_one_node_only() -> None:
    cluster = synced_pair()
    for node in ("alpha", "beta"):
        cluster.node(node).files["/etc/xen/web"] = CONFIG
        cluster.node(node).files["/etc/xen/files"] = FILE_CONFIG
    secondary = run(cluster, "beta", "xl", "create", "/etc/xen/web")
    assert secondary.returncode == 1 and "/dev/drbd0" in secondary.stderr
    assert run(cluster, "alpha", "xl", "create", "/etc/xen/files").returncode == 1  # /srv/data not mounted
    started = must(cluster, "alpha", "xl", "create", "/etc/xen/web")
    assert started.stderr == "Parsing config from /etc/xen/web\n"
    assert run(cluster, "alpha", "xl", "create", "/etc/xen/web").returncode == 1
    listed = must(cluster, "alpha", "xl", "list", "web").stdout.splitlines()
    assert listed[0].startswith("Name") and listed[1].split()[:3] == ["web", "1", "256"]
    absent = run(cluster, "beta", "xl", "list", "web")
    assert (absent.returncode, absent.stderr) == (1, "web is an invalid domain identifier (rc=-6)\n")
    assert run(cluster, "alpha", "xm", "list").outcome is Outcome.MISSING  # the node has xl only
    assert run(cluster, "alpha", "drbdadm", "secondary", RESOURCE).returncode == 11  # the domain holds it
    before = cluster.clock
    must(cluster, "alpha", "xl", "shutdown", "-w", "web")
    assert cluster.clock - before == 5.0  # the domain's shutdown time, on the virtual clock
    assert run(cluster, "alpha", "xl", "list", "web").returncode == 1


def test_a_domain_that_ignores_shutdown_times_out_and_can_be_destroyed() -> None:
    cluster = synced_pair()
    cluster.node("alpha").files["/etc/xen/web"] = CONFIG
    cluster.node("alpha").xen.shutdown_seconds = None
    must(cluster, "alpha", "xl", "create", "/etc/xen/web")
    before = cluster.clock
    waited = run(cluster, "alpha", "xl", "shutdown", "-w", "web", timeout=60)
    assert waited.outcome is Outcome.TIMEOUT and waited.seconds == 60 and cluster.clock - before == 60
    must(cluster, "alpha", "xl", "destroy", "web")
    assert cluster.node("alpha").xen.domains == []


def test_a_fault_fails_a_command_n_times_then_lets_it_run() -> None:
    cluster = simple_cluster()
    cluster.faults.append(Fault(argv=["vgcreate", "vg0"], times=2, exit_code=5, stderr="  injected\n"))
    for _ in range(2):
        failed = run(cluster, "alpha", "vgcreate", "vg0", "/dev/sdb")
        assert (failed.returncode, failed.stderr) == (5, "  injected\n")
    assert cluster.node("alpha").vg("vg0") is None
    must(cluster, "alpha", "vgcreate", "vg0", "/dev/sdb")


def test_a_hung_command_times_out_after_its_timeout_on_the_virtual_clock() -> None:
    cluster = simple_cluster()
    cluster.faults.append(Fault(argv=["lvm"], kind=FaultKind.HANG, node="beta", times=-1))
    report = ("lvm", "fullreport", "--reportformat", "json", "--units", "b", "--nosuffix")
    assert run(cluster, "alpha", *report).ok
    for _ in range(2):
        hung = run(cluster, "beta", *report, timeout=30)
        assert (hung.outcome, hung.seconds) == (Outcome.TIMEOUT, 30)
    assert cluster.clock == 60


def test_faults_apply_to_file_reads_and_writes_too() -> None:
    cluster = simple_cluster()
    host = SimHost(cluster, "alpha")
    cluster.faults += [Fault(argv=["<read>", "/etc/xen/web"]), Fault(argv=["<write>", "/etc/xen/web"])]
    assert host.read("/etc/xen/web").outcome is Outcome.ERROR
    with pytest.raises(OSError, match="injected"):
        host.write_file(FileWrite(path="/etc/xen/web", content="name = 'web'\n"))
    assert host.write_file(FileWrite(path="/etc/xen/web", content="name = 'web'\n")) is True
    assert host.write_file(FileWrite(path="/etc/xen/web", content="name = 'web'\n")) is False  # unchanged
    with pytest.raises(FileNotFoundError):
        host.write_file(FileWrite(path="/etc/nowhere/x", content=""))
    assert read(cluster, "alpha", "/etc/xen/web").stdout == "name = 'web'\n"


@pytest.mark.parametrize(("point", "created"), [(CrashPoint.BEFORE, False), (CrashPoint.AFTER, True)])
def test_the_crash_hook_cuts_at_the_nth_state_changing_command(point: CrashPoint, created: bool) -> None:
    cluster = simple_cluster()
    storage(cluster, "alpha")  # two actions: vgcreate, lvcreate
    cluster.crash = Crash(at=2, point=point, node="alpha")
    run(cluster, "alpha", "lvs", "--noheadings", "-o", "lv_name", "vg0/data")  # a probe does not count
    must(cluster, "alpha", "drbdadm", "create-md", RESOURCE)
    with pytest.raises(SimCrashed) as crashed:
        run(cluster, "alpha", "drbdadm", "up", RESOURCE)
    assert crashed.value.argv == ("drbdadm", "up", RESOURCE)
    assert (cluster.node("alpha").drbd.resource(RESOURCE) is not None) is created
    assert cluster.crash is None  # one shot


def test_only_commands_that_change_something_are_actions() -> None:
    assert not changes_state(("drbdadm", "dstate", RESOURCE))
    assert not changes_state(("blkid", "-p", "-s", "TYPE", "-o", "value", DEVICE))
    assert not changes_state(("ip", "-o", "addr", "show", "dev", "eth0", "to", "10.0.0.1/24"))
    assert changes_state(("ip", "addr", "add", "10.0.0.1/24", "dev", "eth0"))
    assert changes_state(("xl", "create", "/etc/xen/web"))


def test_a_powered_off_node_runs_nothing_and_its_unknown_programs_are_missing() -> None:
    cluster = simple_cluster()
    assert run(cluster, "alpha", "virsh", "list").outcome is Outcome.MISSING
    cluster.power_off("beta")
    assert run(cluster, "beta", "test", "-d", "/").outcome is Outcome.ERROR
    assert not SimHost(cluster, "alpha").tcp_connect("192.168.1.12", 80, 3.0)
    assert cluster.clock == 3.0  # nobody answers: the whole timeout passes
