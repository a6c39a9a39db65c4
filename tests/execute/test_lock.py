"""The node lock, with real processes: the holder's pid in the error, released however it ends."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from reconciler.execute import Busy, node_lock
from tests.conftest import REPO

# Takes the lock, says so, and holds it until its stdin closes (or it is killed).
HOLDER = """
import sys
from pathlib import Path
from reconciler.execute import node_lock
with node_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.read()
"""
# Tries the lock once and prints what happened.
TRY = """
import sys
from pathlib import Path
from reconciler.execute import Busy, node_lock
try:
    with node_lock(Path(sys.argv[1])):
        print("acquired")
except Busy as err:
    print(f"busy {err.pid}")
"""


@contextmanager
def holder(state_dir: Path) -> Iterator[subprocess.Popen[str]]:
    argv = [sys.executable, "-c", HOLDER, str(state_dir)]
    with subprocess.Popen(
        argv, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None and process.stdout.readline() == "locked\n"
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


def try_in_other_process(state_dir: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", TRY, str(state_dir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout.strip()


def test_second_holder_gets_busy_with_the_pid(tmp_path: Path) -> None:
    with holder(tmp_path) as process:
        with pytest.raises(Busy) as caught, node_lock(tmp_path):
            pass
        assert caught.value.pid == process.pid
        assert str(caught.value).startswith(f"another apply is running (pid {process.pid})")
        assert (tmp_path / "apply.lock").read_text() == f"{process.pid}\n"


def test_released_when_the_holder_exits(tmp_path: Path) -> None:
    with holder(tmp_path) as process:
        assert process.stdin is not None
        process.stdin.close()
        assert process.wait(timeout=10) == 0
    with node_lock(tmp_path) as path:
        assert path.read_text() == f"{os.getpid()}\n"
    assert (tmp_path / "apply.lock").read_text() == ""  # no stale pid left behind


def test_released_when_the_holder_is_killed(tmp_path: Path) -> None:
    with holder(tmp_path) as process:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        assert try_in_other_process(tmp_path) == "acquired"


def test_released_after_an_exception(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="boom"), node_lock(tmp_path):
        assert try_in_other_process(tmp_path) == f"busy {os.getpid()}"
        raise ValueError("boom")
    assert try_in_other_process(tmp_path) == "acquired"


def test_a_second_lock_in_the_same_process_is_busy_too(tmp_path: Path) -> None:
    # flock belongs to the open file description: two opens exclude each other even in one process.
    with node_lock(tmp_path), pytest.raises(Busy) as caught, node_lock(tmp_path):
        pass
    assert caught.value.pid == os.getpid()


def test_the_state_directory_is_created(tmp_path: Path) -> None:
    with node_lock(tmp_path / "var" / "lib" / "reconciler") as path:
        assert path == tmp_path / "var" / "lib" / "reconciler" / "apply.lock"
