"""Atomic writes: the target holds the old content or the new, whole, whatever fails when."""

import os
import stat
from pathlib import Path

import pytest

from reconciler.render.files import previous_path, unified_diff, write_atomically


def _listing(directory: Path) -> list[str]:
    return sorted(entry.name for entry in directory.iterdir())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_creates_the_file_with_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "r0.res"
    assert write_atomically(target, "one\n", mode=0o600) is True
    assert target.read_text() == "one\n"
    assert _mode(target) == 0o600
    assert _listing(tmp_path) == ["r0.res"]  # nothing to keep yet, no temporary left


def test_replaces_and_keeps_the_previous_version(tmp_path: Path) -> None:
    target = tmp_path / "r0.res"
    write_atomically(target, "one\n")
    assert write_atomically(target, "two\n") is True
    assert target.read_text() == "two\n"
    assert previous_path(target).read_text() == "one\n"
    write_atomically(target, "three\n")
    assert previous_path(target).read_text() == "two\n"
    assert _listing(tmp_path) == ["r0.res", "r0.res.previous"]
    assert target.stat().st_ino != previous_path(target).stat().st_ino


def test_keep_previous_false_keeps_nothing(tmp_path: Path) -> None:
    target = tmp_path / "apache"
    write_atomically(target, "one\n", keep_previous=False)
    write_atomically(target, "two\n", keep_previous=False)
    assert _listing(tmp_path) == ["apache"]


def test_unchanged_content_is_not_rewritten(tmp_path: Path) -> None:
    target = tmp_path / "r0.res"
    write_atomically(target, "same\n")
    past = 1_000_000_000
    os.utime(target, (past, past))
    inode = target.stat().st_ino
    assert write_atomically(target, "same\n") is False
    assert (target.stat().st_mtime, target.stat().st_ino) == (past, inode)
    assert not previous_path(target).exists()


def test_unchanged_content_with_another_mode_only_changes_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "r0.res"
    write_atomically(target, "same\n", mode=0o644)
    inode = target.stat().st_ino
    assert write_atomically(target, "same\n", mode=0o600) is True
    assert (_mode(target), target.stat().st_ino) == (0o600, inode)


def test_mode_ignores_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        write_atomically(tmp_path / "apache", "x = 1\n", mode=0o644)
    finally:
        os.umask(old)
    assert _mode(tmp_path / "apache") == 0o644


def _failing_replace(only_for: Path | None) -> object:
    real = os.replace

    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        if only_for is None or Path(target) == only_for:
            raise OSError("simulated crash before the rename")
        real(source, target)

    return replace


@pytest.mark.parametrize("fail_every_rename", [True, False])
def test_a_failure_before_the_rename_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_every_rename: bool
) -> None:
    target = tmp_path / "r0.res"
    write_atomically(target, "old\n")
    monkeypatch.setattr(os, "replace", _failing_replace(None if fail_every_rename else target))
    with pytest.raises(OSError, match="simulated crash"):
        write_atomically(target, "new\n")
    assert target.read_text() == "old\n"
    expected = ["r0.res"] if fail_every_rename else ["r0.res", "r0.res.previous"]
    assert _listing(tmp_path) == expected
    if not fail_every_rename:
        assert previous_path(target).read_text() == "old\n"  # a copy of what is still current


def test_a_temporary_left_by_a_killed_writer_is_removed_next_time(tmp_path: Path) -> None:
    target = tmp_path / "r0.res"
    write_atomically(target, "old\n")
    stale = tmp_path / ".r0.res.new.0123456789abcdef.tmp"
    stale.write_text("half of a ne")
    unrelated = tmp_path / ".r1.res.new.0123456789abcdef.tmp"
    unrelated.write_text("another target's")
    assert write_atomically(target, "old\n") is False
    assert _listing(tmp_path) == [unrelated.name, "r0.res"]


def test_previous_falls_back_to_a_copy_without_hard_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(*args: object, **kwargs: object) -> None:
        raise PermissionError("this file system has no hard links")

    target = tmp_path / "apache"
    write_atomically(target, "one\n", mode=0o640)
    monkeypatch.setattr(os, "link", no_links)
    write_atomically(target, "two\n", mode=0o640)
    assert (target.read_text(), previous_path(target).read_text()) == ("two\n", "one\n")
    assert _mode(previous_path(target)) == 0o640
    assert _listing(tmp_path) == ["apache", "apache.previous"]


def test_unified_diff() -> None:
    assert unified_diff("a\nb\n", "a\nb\n", "/etc/drbd.d/r0.res") == ""
    assert unified_diff("a\nb\n", "a\nc\n", "/etc/drbd.d/r0.res") == (
        "--- a/etc/drbd.d/r0.res\n+++ b/etc/drbd.d/r0.res\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n"
    )
    assert unified_diff(None, "x = 1\n", "/etc/xen/apache") == (
        "--- /dev/null\n+++ b/etc/xen/apache\n@@ -0,0 +1 @@\n+x = 1\n"
    )


def test_unified_diff_marks_a_missing_final_newline() -> None:
    diff = unified_diff("a", "a\n", "r0.res")
    assert diff == "--- a/r0.res\n+++ b/r0.res\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+a\n"
