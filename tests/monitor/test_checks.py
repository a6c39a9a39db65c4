"""The checks on real things: captured tables through the real parsers, real sockets, real
processes, real commands. Nothing here asserts how fast anything is."""

import shutil
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psutil
import pytest

from reconciler.manifest.monitor import (
    CommandMonitor,
    DomainMonitor,
    FilesystemMonitor,
    MemoryMonitor,
    PingMonitor,
    ProcessMonitor,
    TcpMonitor,
)
from reconciler.monitor.checks import (
    CheckContext,
    check_command,
    check_domain,
    check_fsmon,
    check_memory,
    check_ping,
    check_process,
    check_tcp,
    ping_argv,
    run_check,
)
from reconciler.monitor.judge import MemoryUsage, judge_domain, judge_memory, judge_mounts
from reconciler.monitor.probe import PROBE_NAME, WriteProber
from reconciler.observe.mounts import MountTable, parse_mountinfo
from reconciler.observe.node import observe_node
from reconciler.observe.runner import CommandResult, Outcome, ReplayRunner, SubprocessRunner
from reconciler.observe.state import DomainState, Section
from reconciler.observe.xen import parse_xl_list, parse_xm_list
from tests.conftest import FIXTURES
from tests.monitor.helpers import monitor, spec_mounted_at, spec_with, xapache_spec
from tests.observe.cases import PROJECT_DATA

HOST_MOUNTS = PROJECT_DATA / "mounts" / "mountinfo-host.txt"
ESCAPED_MOUNTS = PROJECT_DATA / "mounts" / "mountinfo-escaped-paths.txt"
RO_TMPFS = "/tmp/rcltest-mnt.nncV62/back\\slash"


def context(**fields: object) -> CheckContext:
    base: dict[str, object] = {"runner": SubprocessRunner(), "app": "xapache", "spec": xapache_spec()}
    return CheckContext(**{**base, **fields})  # type: ignore[arg-type]


def program(name: str) -> str:
    path = shutil.which(name)
    assert path is not None, f"{name} is not installed"
    return path


# --- fsmon -------------------------------------------------------------------------------------


def host_table() -> MountTable:
    return parse_mountinfo(HOST_MOUNTS.read_text())


def test_fsmon_not_mounted_from_a_captured_table() -> None:
    fs = monitor(type="fsmon")
    assert isinstance(fs, FilesystemMonitor)
    result = check_fsmon(fs, context(mounts=host_table()))
    assert (result.rc, result.detail) == (1, "/virt is not mounted")


def test_fsmon_mounted_and_read_only_from_captured_tables() -> None:
    table = parse_mountinfo(ESCAPED_MOUNTS.read_text())
    assert judge_mounts(["/run/netns"], table).detail == "mounted: /run/netns (ext4 from /dev/vda)"
    read_only = judge_mounts([RO_TMPFS, "/virt"], table)
    assert read_only.rc == 1
    assert read_only.detail == f"{RO_TMPFS} is mounted read-only (tmpfs from rcltest); /virt is not mounted"


def test_fsmon_without_a_mount_table_says_why() -> None:
    fs = monitor(type="fsmon")
    assert isinstance(fs, FilesystemMonitor)
    ctx = context(mounts=None, unobserved={Section.MOUNTS: "'<read> /proc/self/mountinfo' could not run"})
    result = check_fsmon(fs, ctx)
    assert result.rc == 1
    assert result.detail == "mount table not observed: '<read> /proc/self/mountinfo' could not run"


def line_mounting(point: Path, options: str = "rw,relatime") -> str:
    # One mountinfo line in the kernel's format, for a directory of this test: the real parser
    # reads it; the write that follows is real.
    return f"99 1 0:99 / {point} {options} - tmpfs tmpfs rw,size=1024k\n"


def test_fsmon_writable_on_a_real_directory(tmp_path: Path) -> None:
    fs = monitor(type="fsmon")
    assert isinstance(fs, FilesystemMonitor)
    table = parse_mountinfo(HOST_MOUNTS.read_text() + line_mounting(tmp_path))
    result = check_fsmon(fs, context(spec=spec_mounted_at(tmp_path), mounts=table))
    assert result.rc == 0
    assert result.detail == f"mounted: {tmp_path} (tmpfs from tmpfs); writable"
    assert not (tmp_path / PROBE_NAME).exists()


def test_fsmon_fails_when_the_write_fails(tmp_path: Path) -> None:
    fs = monitor(type="fsmon")
    assert isinstance(fs, FilesystemMonitor)
    (tmp_path / PROBE_NAME).mkdir()  # the probe's name taken by a directory: open() fails
    table = parse_mountinfo(line_mounting(tmp_path))
    result = check_fsmon(fs, context(spec=spec_mounted_at(tmp_path), mounts=table))
    assert result.rc == 1
    assert result.detail == f"cannot write {tmp_path / PROBE_NAME}: Is a directory"


# --- domain ------------------------------------------------------------------------------------


def xm_list(name: str) -> DomainState:
    listing = parse_xm_list((FIXTURES / "xen" / name).read_text())
    return DomainState(toolstack="xm", domains=listing.domains)


def xl_list(path: Path) -> DomainState:
    listing = parse_xl_list(path.read_text())
    return DomainState(toolstack="xl", domains=listing.domains, unrecognised=listing.unrecognised)


@pytest.mark.parametrize(
    ("name", "rc", "detail"),
    [
        ("Fedora3", 0, "Fedora3: r----- (running) in `xm list`"),
        ("Mandrake2006", 0, "Mandrake2006: -b---- (blocked) in `xm list`"),
        ("Fedora4", 0, "Fedora4: ------ (runnable) in `xm list`"),
        ("apache", 1, "apache: not in `xm list`"),
    ],
)
def test_domain_in_the_xm_man_page_listing(name: str, rc: int, detail: str) -> None:
    result = judge_domain(name, xm_list("xm-list-man-example.txt"))
    assert (result.rc, result.detail) == (rc, detail)


def test_domain_crashed_in_a_captured_xl_list() -> None:
    listing = xl_list(PROJECT_DATA / "xen" / "xl-list-4.4-crashed-instances.txt")
    crashed = judge_domain("alsodying.example.com", listing)
    assert (crashed.rc, crashed.detail) == (
        1,
        "alsodying.example.com: --psc- (paused, shutdown, crashed) in `xl list`",
    )
    assert judge_domain("server01.example.com", listing).rc == 0


def test_domain_check_uses_the_spec_and_the_observation() -> None:
    dom = monitor(type="domain")
    assert isinstance(dom, DomainMonitor)
    result = check_domain(dom, context(domains=xl_list(FIXTURES / "xen" / "xl-list-four-domains.txt")))
    assert (result.rc, result.detail) == (1, "apache: not in `xl list`")
    unobserved = check_domain(dom, context(domains=None, unobserved={Section.DOMAINS: "xl list hung"}))
    assert (unobserved.rc, unobserved.detail) == (1, "domain list not observed: xl list hung")


@pytest.mark.parametrize(("status", "rc"), [("true", 0), ("false", 1)])
def test_domain_of_toolstack_commands_runs_its_status(status: str, rc: int) -> None:
    domain = {
        "toolstack": "commands",
        "name": "apache",
        "start": [program("true")],
        "stop": [program("true")],
        "status": [program(status)],
    }
    dom = monitor(type="domain")
    assert isinstance(dom, DomainMonitor)
    assert check_domain(dom, context(spec=spec_with(domain=domain))).rc == rc


# --- tcp and ping ------------------------------------------------------------------------------


@pytest.fixture
def listening() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        yield server.getsockname()[1]


@pytest.fixture
def closed_port() -> Iterator[int]:
    # Bound but not listening: the kernel answers a connection with a reset, and no other program
    # can take the port while the socket is held.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def test_tcp_connects_to_a_listening_socket(listening: int) -> None:
    tcp = monitor(type="tcp", address="127.0.0.1", port=listening)
    assert isinstance(tcp, TcpMonitor)
    result = check_tcp(tcp, context())
    assert (result.rc, result.detail) == (0, f"127.0.0.1:{listening} accepted a connection")


def test_tcp_refused_by_a_closed_port(closed_port: int) -> None:
    tcp = monitor(type="tcp", address="127.0.0.1", port=closed_port)
    assert isinstance(tcp, TcpMonitor)
    result = check_tcp(tcp, context())
    assert (result.rc, result.detail) == (1, f"127.0.0.1:{closed_port} refused")


def test_ping_argv_rounds_the_timeout_up_to_whole_seconds() -> None:
    ping = monitor(type="ping", address="10.0.0.5", timeout="200ms")
    assert isinstance(ping, PingMonitor)
    assert ping_argv(ping.address, ping.timeout) == ("ping", "-c", "1", "-W", "1", "10.0.0.5")


@pytest.mark.parametrize(
    ("outcome", "returncode", "rc", "detail"),
    [
        (Outcome.OK, 0, 0, "10.0.0.5 answered a ping"),
        (Outcome.FAILED, 1, 1, "10.0.0.5: no reply to ping within 5s"),
        (Outcome.FAILED, 2, 2, "'ping -c 1 -W 5 10.0.0.5' exit 2: ping: sendmsg: Network is unreachable"),
    ],
)
def test_ping_takes_pings_exit_code(outcome: Outcome, returncode: int, rc: int, detail: str) -> None:
    ping = monitor(type="ping", address="10.0.0.5")
    assert isinstance(ping, PingMonitor)
    stderr = "ping: sendmsg: Network is unreachable\n" if returncode == 2 else ""
    recorded = CommandResult(
        argv=ping_argv(ping.address, ping.timeout), outcome=outcome, returncode=returncode, stderr=stderr
    )
    result = check_ping(ping, context(runner=ReplayRunner([recorded])))
    assert (result.rc, result.detail) == (rc, detail)


def test_ping_not_installed_is_127() -> None:
    ping = monitor(type="ping", address="10.0.0.5")
    assert isinstance(ping, PingMonitor)
    assert check_ping(ping, context(runner=ReplayRunner([]))).rc == 127


# --- process and memory ------------------------------------------------------------------------


def test_process_present_and_absent() -> None:
    own = monitor(type="process", process=psutil.Process().name())
    absent = monitor(type="process", process="no-such-process-reconciler-test")
    assert isinstance(own, ProcessMonitor)
    assert isinstance(absent, ProcessMonitor)
    assert check_process(own, context()).rc == 0
    result = check_process(absent, context())
    assert (result.rc, result.detail) == (1, "process 'no-such-process-reconciler-test' is not running")


def test_memory_at_the_extremes_of_real_usage() -> None:
    # Usage never exceeds 100%, and some memory is always in use: both outcomes are certain.
    roomy = monitor(type="memory", maxMemoryPercent=100, maxSwapPercent=100)
    tight = monitor(type="memory", maxMemoryPercent=0.001, maxSwapPercent=100)
    assert isinstance(roomy, MemoryMonitor)
    assert isinstance(tight, MemoryMonitor)
    assert check_memory(roomy, context()).rc == 0
    over = check_memory(tight, context())
    assert over.rc == 1
    assert over.detail.startswith("over: memory ")


@pytest.mark.parametrize(
    ("memory", "swap", "rc"),
    [(95.0, 50.0, 0), (95.1, 0.0, 1), (10.0, 50.1, 1), (0.0, 0.0, 0)],
)
def test_memory_thresholds(memory: float, swap: float, rc: int) -> None:
    assert judge_memory(MemoryUsage(memory, swap), 95.0, 50.0).rc == rc


def test_memory_detail() -> None:
    result = judge_memory(MemoryUsage(97.25, 3.0), 95.0, 50.0)
    assert result.detail == "over: memory 97.2% (max 95%), swap 3.0% (max 50%)"


# --- command -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "rc"),
    [(["true"], 0), (["false"], 1), (["sh", "-c", "exit 3"], 3), (["sh", "-c", "kill -TERM $$"], 128 + 15)],
)
def test_command_rc_is_the_commands(argv: list[str], rc: int) -> None:
    command = monitor(type="command", argv=[program(argv[0]), *argv[1:]])
    assert isinstance(command, CommandMonitor)
    assert check_command(command, context()).rc == rc


def test_command_detail_has_the_last_line_of_output() -> None:
    command = monitor(type="command", argv=[program("sh"), "-c", "echo checking; echo disk full >&2; exit 3"])
    assert isinstance(command, CommandMonitor)
    result = check_command(command, context())
    assert (
        result.detail == f"'{program('sh')} -c echo checking; echo disk full >&2; exit 3' exit 3: disk full"
    )


def test_command_timeout_is_a_failure() -> None:
    command = monitor(type="command", argv=[program("sleep"), "5"], timeout="200ms")
    assert isinstance(command, CommandMonitor)
    result = check_command(command, context())
    assert result.rc == 1
    assert result.detail == f"'{program('sleep')} 5' timed out after 200ms"


def test_command_not_found_is_127() -> None:
    command = monitor(type="command", argv=["/nonexistent/reconciler-check"])
    assert isinstance(command, CommandMonitor)
    result = check_command(command, context())
    assert result.rc == 127
    assert result.detail.startswith("'/nonexistent/reconciler-check': program not found")


# --- dispatch ----------------------------------------------------------------------------------


def test_run_check_dispatches_on_the_type(listening: int, tmp_path: Path) -> None:
    table = parse_mountinfo(line_mounting(tmp_path))
    ctx = context(
        spec=spec_mounted_at(tmp_path),
        mounts=table,
        domains=xm_list("xm-list-man-example.txt"),
        process_names=lambda: frozenset({"httpd"}),
        memory_usage=lambda: MemoryUsage(50.0, 0.0),
    )
    healthy = [
        monitor(type="fsmon"),
        monitor(type="tcp", address="127.0.0.1", port=listening),
        monitor(type="process", process="httpd"),
        monitor(type="memory"),
        monitor(type="command", argv=[program("true")]),
    ]
    assert [run_check(m, ctx).rc for m in healthy] == [0] * len(healthy)
    assert run_check(monitor(type="domain"), ctx).detail == "apache: not in `xm list`"
    assert run_check(monitor(type="process", process="sshd"), ctx).rc == 1


def test_durations_are_measured() -> None:
    command = monitor(type="command", argv=[program("true")])
    assert run_check(command, context()).duration >= timedelta(0)


def test_context_from_an_observation_that_failed_says_why() -> None:
    # A node where nothing could be read: every section comes back absent with its error.
    observed = observe_node(ReplayRunner([]))
    ctx = CheckContext.from_observed(ReplayRunner([]), "xapache", xapache_spec(), observed, WriteProber())
    fs = monitor(type="fsmon")
    result = run_check(fs, ctx)
    assert result.rc == 1
    assert result.detail.startswith("mount table not observed: '<read> /proc/self/mountinfo' not found")
    assert run_check(monitor(type="domain"), ctx).detail == (
        "domain list not observed: neither xl nor xm is installed"
    )
