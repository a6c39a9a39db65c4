"""The write probe: real writes in a real directory, and a write that never returns."""

import threading
from datetime import timedelta
from pathlib import Path

from reconciler.monitor.probe import PROBE_NAME, WriteProber, write_probe


def test_probe_writes_and_removes_its_file(tmp_path: Path) -> None:
    result = WriteProber().probe(tmp_path, timedelta(seconds=5))
    assert (result.rc, result.detail) == (0, f"{tmp_path} is writable")
    assert list(tmp_path.iterdir()) == []


def test_probe_replaces_a_file_left_by_a_killed_probe(tmp_path: Path) -> None:
    (tmp_path / PROBE_NAME).write_text("left over")
    assert write_probe(tmp_path / PROBE_NAME) is None
    assert list(tmp_path.iterdir()) == []


def test_probe_does_not_follow_a_symbolic_link(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("keep me")
    (tmp_path / PROBE_NAME).symlink_to(target)
    error = write_probe(tmp_path / PROBE_NAME)
    assert error is not None
    assert error.startswith(f"cannot write {tmp_path / PROBE_NAME}: ")
    assert target.read_text() == "keep me"


def test_probe_of_a_missing_directory_fails(tmp_path: Path) -> None:
    result = WriteProber().probe(tmp_path / "gone", timedelta(seconds=5))
    assert result.rc == 1
    assert result.detail == f"cannot write {tmp_path / 'gone' / PROBE_NAME}: No such file or directory"


def test_a_hung_write_is_a_failure_and_is_not_started_twice(tmp_path: Path) -> None:
    release = threading.Event()
    calls: list[Path] = []

    def blocking_write(path: Path) -> str | None:
        calls.append(path)
        release.wait()  # stands for a write blocked in the kernel
        return None

    prober = WriteProber(write=blocking_write)
    hung = prober.probe(tmp_path, timedelta(milliseconds=50))
    assert (hung.rc, hung.detail) == (1, f"write to {tmp_path / PROBE_NAME} hung for more than 50ms")
    assert prober.hung() == (tmp_path,)

    again = prober.probe(tmp_path, timedelta(milliseconds=50))
    assert again.rc == 1
    assert again.detail.startswith(f"write to {tmp_path / PROBE_NAME} still blocked after ")
    assert len(calls) == 1  # no second thread piled up behind the first

    release.set()
    for thread in threading.enumerate():
        if thread.name == f"fsmon {tmp_path}":
            thread.join()
    assert prober.hung() == ()
    assert prober.probe(tmp_path, timedelta(seconds=5)).rc == 0
    assert len(calls) == 2
