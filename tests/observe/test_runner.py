"""The runner with real processes: output, exit codes, missing programs, and timeouts that kill."""

import os
import sys
import time
from pathlib import Path

from reconciler.observe.runner import Outcome, SubprocessRunner

PY = sys.executable


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


def test_tools_run_in_the_c_locale() -> None:
    result = SubprocessRunner().run([PY, "-c", "import os; print(os.environ['LC_ALL'])"])
    assert result.ok and result.stdout == "C\n"


def test_missing_program() -> None:
    result = SubprocessRunner().run(["/nonexistent/drbdsetup", "status"])
    assert result.outcome is Outcome.MISSING and not result.ok
    assert result.describe().startswith("'/nonexistent/drbdsetup status' not found")


def test_a_hang_is_cut_by_the_timeout_and_its_children_die_with_it(tmp_path: Path) -> None:
    """The tool and what it forked both go: a hung `xl list` must not leave a process behind."""
    pids = tmp_path / "pids"
    script = (
        "import os, subprocess, sys, time\n"
        f"child = subprocess.Popen([{PY!r}, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        "time.sleep(60)\n"
    )
    start = time.monotonic()
    result = SubprocessRunner().run([PY, "-c", script], timeout=1.0)
    assert result.outcome is Outcome.TIMEOUT
    assert time.monotonic() - start < 30
    for pid in map(int, pids.read_text().split()):
        deadline = time.monotonic() + 5
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid), f"process {pid} survived the timeout"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purpose.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ", 1)[1].startswith(("R", "S", "D"))


def test_read_a_file_and_a_missing_one(tmp_path: Path) -> None:
    (tmp_path / "drbd").write_text("version: 8.4.11\n")
    runner = SubprocessRunner()
    assert runner.read(str(tmp_path / "drbd")).stdout == "version: 8.4.11\n"
    assert runner.read(str(tmp_path / "absent")).outcome is Outcome.MISSING


def test_host_probe_describes_this_machine() -> None:
    result = SubprocessRunner().host()
    assert result.ok and os.uname().nodename in result.stdout
