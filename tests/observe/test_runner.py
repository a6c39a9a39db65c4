"""The runner with real processes: output, exit codes, missing programs, timeouts that kill, pipes
held open by what a command left behind, and output or files past the cap.

Every process these tests start carries the test's unique marker in its argv; the `marker`
fixture ends whatever still carries it, by PID, when the test ends (passed or failed).
"""

import contextlib
import os
import sys
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from reconciler.observe.runner import MAX_OUTPUT, Outcome, SubprocessRunner

PY = sys.executable
# Generous on a busy 2-core machine: a bound that proves "not the full wait", not a benchmark.
SLACK = 3.0

# argv: marker pidfile exit_code setsid|group hang|exit. Starts a child that sleeps 30 s on the
# same stdout and stderr (in a new session with `setsid`), records both PIDs, prints "started",
# then hangs or exits.
LEADER = """
import os, subprocess, sys, time
marker, pidfile, code, session, then = sys.argv[1:6]
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", marker],
                         start_new_session=session == "setsid")
with open(pidfile, "w") as f:
    f.write(f"{os.getpid()} {child.pid}")
print("started", flush=True)
print("the tool's own last words", file=sys.stderr, flush=True)
if then == "hang":
    time.sleep(30)
sys.exit(int(code))
"""

# argv: marker pidfile stream size|endless. Writes `size` bytes to the stream, or without end.
WRITER = """
import os, sys
marker, pidfile, stream, size = sys.argv[1:5]
open(pidfile, "w").write(str(os.getpid()))
out = getattr(sys, stream).buffer
if size == "endless":
    while True:
        out.write(b"x" * 65536)
out.write(b"x" * int(size))
"""


@pytest.fixture
def marker() -> Iterator[str]:
    token = f"runner-test-{uuid.uuid4().hex}"
    yield token
    for process in psutil.process_iter(["cmdline"]):
        if token in (process.info["cmdline"] or []):
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()


def _alive(pid: int, marker: str) -> bool:
    """Running and still ours (the marker guards against a reused PID); a zombie is dead."""
    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE and marker in process.cmdline()
    except psutil.NoSuchProcess:
        return False


def _gone(pid: int, marker: str) -> bool:
    deadline = time.monotonic() + 5
    while _alive(pid, marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid, marker)


def _pids(pidfile: Path) -> list[int]:
    return [int(word) for word in pidfile.read_text().split()]


def _leader(marker: str, pidfile: Path, session: str, then: str, code: int = 0) -> list[str]:
    return [PY, "-c", LEADER, marker, str(pidfile), str(code), session, then]


def test_output_and_exit_code() -> None:
    result = SubprocessRunner().run(
        [PY, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"]
    )
    assert (result.outcome, result.returncode, result.stdout, result.stderr) == (
        Outcome.FAILED,
        3,
        "out\n",
        "err\n",
    )
    assert "failed (exit 3): err" in result.describe()


def test_undecodable_output_is_replaced_not_raised() -> None:
    result = SubprocessRunner().run([PY, "-c", "import sys; sys.stdout.buffer.write(b'ok \\xff\\xfe\\r\\n')"])
    assert result.ok and result.stdout == "ok \ufffd\ufffd\n"


def test_tools_run_in_the_c_locale() -> None:
    result = SubprocessRunner().run([PY, "-c", "import os; print(os.environ['LC_ALL'])"])
    assert result.ok and result.stdout == "C\n"


def test_missing_program() -> None:
    result = SubprocessRunner().run(["/nonexistent/drbdsetup", "status"])
    assert result.outcome is Outcome.MISSING and not result.ok
    assert result.describe().startswith("'/nonexistent/drbdsetup status' not found")


def test_a_hang_is_cut_by_the_timeout_and_its_children_die_with_it(marker: str, tmp_path: Path) -> None:
    """The tool and what it forked both go: a hung `xl list` must not leave a process behind."""
    pidfile = tmp_path / "pids"
    start = time.monotonic()
    result = SubprocessRunner().run(_leader(marker, pidfile, "group", "hang"), timeout=1.0)
    assert time.monotonic() - start < 1.0 + SLACK
    assert result.outcome is Outcome.TIMEOUT and result.returncode is None
    assert result.stdout == "started\n"  # what it wrote before the kill is kept
    assert "timed out after" in result.describe()
    for pid in _pids(pidfile):
        assert _gone(pid, marker), f"process {pid} survived the timeout"


def test_a_command_that_closed_its_pipes_and_hangs_still_times_out(marker: str, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    script = (
        "import os, sys, time\n"
        f"open({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
        "os.close(1); os.close(2)\n"
        "time.sleep(30)\n"
    )
    start = time.monotonic()
    result = SubprocessRunner().run([PY, "-c", script, marker], timeout=1.0)
    assert time.monotonic() - start < 1.0 + SLACK
    assert result.outcome is Outcome.TIMEOUT
    assert _gone(_pids(pidfile)[0], marker)


def test_a_setsid_grandchild_holding_stdout_does_not_stretch_a_timeout(marker: str, tmp_path: Path) -> None:
    """It left the process group, so the kill misses it, and it keeps the pipes open for 30 s."""
    pidfile = tmp_path / "pids"
    start = time.monotonic()
    result = SubprocessRunner().run(_leader(marker, pidfile, "setsid", "hang"), timeout=1.0)
    assert time.monotonic() - start < 1.0 + SLACK
    assert result.outcome is Outcome.TIMEOUT and result.stdout == "started\n"
    leader, _ = _pids(pidfile)
    assert _gone(leader, marker)


@pytest.mark.parametrize("session", ["group", "setsid"])
def test_a_command_that_exits_while_a_child_holds_stdout_returns_promptly(
    marker: str, tmp_path: Path, session: str
) -> None:
    """`daemon &` in a script: the command is done; its result is its own exit status."""
    pidfile = tmp_path / "pids"
    start = time.monotonic()
    result = SubprocessRunner().run(_leader(marker, pidfile, session, "exit"), timeout=20.0)
    assert time.monotonic() - start < 1.0 + SLACK  # not the 20 s timeout, nor the child's 30 s
    assert (result.outcome, result.returncode, result.stdout) == (Outcome.OK, 0, "started\n")
    assert "output may be incomplete" in result.stderr
    _, child = _pids(pidfile)
    # Left alone on purpose: an action may start a daemon that forgot to close its streams.
    assert _alive(child, marker)


def test_a_failure_with_a_held_pipe_keeps_the_tools_own_last_line(marker: str, tmp_path: Path) -> None:
    result = SubprocessRunner().run(_leader(marker, tmp_path / "pids", "group", "exit", code=3), timeout=20.0)
    assert (result.outcome, result.returncode) == (Outcome.FAILED, 3)
    assert result.describe().endswith("failed (exit 3): the tool's own last words")
    assert result.stderr.startswith("[reconciler]") and "output may be incomplete" in result.stderr


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_output_past_the_cap_is_cut_and_the_command_killed(marker: str, tmp_path: Path, stream: str) -> None:
    pidfile = tmp_path / "pid"
    cap = 64 * 1024
    start = time.monotonic()
    result = SubprocessRunner(max_output=cap).run([PY, "-c", WRITER, marker, str(pidfile), stream, "endless"])
    assert time.monotonic() - start < SLACK + 2
    assert result.outcome is Outcome.ERROR and not result.ok and result.returncode is None
    assert getattr(result, stream).split("\n", 1)[0] == "x" * cap  # then, on stderr, the note
    assert f"{stream} passed {cap} bytes: output cut, command killed" in result.describe()
    assert _gone(_pids(pidfile)[0], marker)


def test_output_of_exactly_the_cap_is_whole(marker: str, tmp_path: Path) -> None:
    cap = 64 * 1024
    argv = [PY, "-c", WRITER, marker, str(tmp_path / "pid"), "stdout", str(cap)]
    result = SubprocessRunner(max_output=cap).run(argv)
    assert result.ok and result.stdout == "x" * cap


def test_endless_output_is_held_to_the_default_cap_in_bounded_memory(marker: str, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    tracemalloc.start()
    try:
        result = SubprocessRunner().run([PY, "-c", WRITER, marker, str(pidfile), "stdout", "endless"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.outcome is Outcome.ERROR and len(result.stdout) == MAX_OUTPUT
    # The buffer, and the text decoded from it, with room to spare; without the cap the writer
    # would fill memory until the timeout.
    assert peak < 4 * MAX_OUTPUT
    assert _gone(_pids(pidfile)[0], marker)


def test_read_a_file_and_a_missing_one(tmp_path: Path) -> None:
    (tmp_path / "drbd").write_text("version: 8.4.11\n")
    runner = SubprocessRunner()
    assert runner.read(str(tmp_path / "drbd")).stdout == "version: 8.4.11\n"
    assert runner.read(str(tmp_path / "absent")).outcome is Outcome.MISSING
    assert runner.read(str(tmp_path)).outcome is Outcome.ERROR  # a directory


def test_read_replaces_undecodable_bytes(tmp_path: Path) -> None:
    (tmp_path / "odd").write_bytes(b"name \xff\n")
    result = SubprocessRunner().read(str(tmp_path / "odd"))
    assert result.ok and result.stdout == "name \ufffd\n"


def test_read_of_dev_zero_is_capped() -> None:
    result = SubprocessRunner().read("/dev/zero")
    assert result.outcome is Outcome.ERROR and len(result.stdout) == MAX_OUTPUT
    assert f"holds more than {MAX_OUTPUT} bytes" in result.describe()


def test_read_of_a_file_past_the_cap_keeps_the_cap_and_says_so(tmp_path: Path) -> None:
    big, exact = tmp_path / "big", tmp_path / "exact"
    big.write_bytes(b"a" * 1001)
    exact.write_bytes(b"a" * 1000)
    runner = SubprocessRunner(max_output=1000)
    cut = runner.read(str(big))
    assert (cut.outcome, cut.stdout) == (Outcome.ERROR, "a" * 1000)
    assert "read cut" in cut.stderr
    assert runner.read(str(exact)).stdout == "a" * 1000


def test_host_probe_describes_this_machine() -> None:
    result = SubprocessRunner().host()
    assert result.ok and os.uname().nodename in result.stdout
