"""LocalHost with real commands, files and sockets."""

import socket
import stat
from pathlib import Path

from reconciler.core.plan.model import ActionKind, FileWrite, Probe, TcpProbe
from reconciler.execute import LocalHost, NullJournal, execute
from reconciler.execute.report import ExecutionSettings
from reconciler.observe.runner import Outcome
from tests.execute.fakes import action, plan


def test_runs_real_commands() -> None:
    host = LocalHost()
    assert host.run(["/bin/true"], 5).outcome is Outcome.OK
    failed = host.run(["/bin/false"], 5)
    assert (failed.outcome, failed.returncode) == (Outcome.FAILED, 1)
    assert host.run(["/nonexistent/tool"], 5).outcome is Outcome.MISSING


def test_writes_and_reads_a_real_file(tmp_path: Path) -> None:
    host = LocalHost()
    target = tmp_path / "r0.res"
    write = FileWrite(path=str(target), content="resource r0 {}\n", mode=0o600)
    assert host.write_file(write) is True
    assert target.read_text() == "resource r0 {}\n" and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert host.write_file(write) is False
    assert host.read(str(target)).stdout == "resource r0 {}\n"
    assert host.read(str(tmp_path / "absent")).outcome is Outcome.MISSING


def test_tcp_connect_to_a_listening_and_a_closed_port() -> None:
    host = LocalHost()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        assert host.tcp_connect("127.0.0.1", port, 2) is True
    # The port is closed now (nothing listens there any more).
    assert host.tcp_connect("127.0.0.1", port, 2) is False


def test_a_real_plan_end_to_end(tmp_path: Path) -> None:
    marker = tmp_path / "made"
    config = tmp_path / "web.cfg"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        actions = (
            action(
                "touch",
                do=("touch", str(marker)),
                check=Probe(argv=("test", "-e", str(marker))),
                verify=Probe(argv=("test", "-e", str(marker))),
            ),
            action(
                "config",
                "touch",
                do=None,
                kind=ActionKind.WRITE_FILE,
                write=FileWrite(path=str(config), content="name = 'web'\n"),
            ),
            action(
                "ready",
                "config",
                do=None,
                wait=True,
                kind=ActionKind.READINESS,
                timeout=5,
                verify=TcpProbe(address="127.0.0.1", port=port),
            ),
        )
        settings = ExecutionSettings(backoff_initial=0, verify_grace=1, poll_interval=0.1)
        first = execute(plan(*actions), LocalHost(), NullJournal(), settings=settings)
        second = execute(plan(*actions), LocalHost(), NullJournal(), settings=settings)
    assert [a.status.value for a in first.actions] == ["done", "done", "skipped"]
    assert [a.status.value for a in second.actions] == ["skipped", "skipped", "skipped"]
    assert marker.exists() and config.read_text() == "name = 'web'\n"
