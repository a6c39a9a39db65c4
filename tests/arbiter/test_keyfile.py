"""The heartbeat key file: only a private regular file with a long enough key is accepted."""

import os
import re
from pathlib import Path

import pytest

from reconciler.arbiter.keyfile import MAX_KEY_FILE_BYTES, KeyFileError, load_key

KEY = b"0123456789abcdef0123456789abcdef"


def _key_file(tmp_path: Path, content: bytes = KEY + b"\n", mode: int = 0o600) -> Path:
    path = tmp_path / "heartbeat.key"
    path.write_bytes(content)
    path.chmod(mode)
    return path


def test_a_private_file_gives_the_key_without_its_trailing_newline(tmp_path: Path) -> None:
    assert load_key(_key_file(tmp_path)) == KEY


def test_echo_and_printf_give_the_same_key(tmp_path: Path) -> None:
    assert load_key(_key_file(tmp_path, KEY + b" \r\n\n")) == load_key(_key_file(tmp_path, KEY))


def test_owner_read_only_is_fine(tmp_path: Path) -> None:
    assert load_key(_key_file(tmp_path, mode=0o400)) == KEY


@pytest.mark.parametrize("mode", [0o640, 0o644, 0o604, 0o620, 0o602, 0o660])
def test_a_file_others_may_read_or_write_is_refused_with_the_fix(tmp_path: Path, mode: int) -> None:
    path = _key_file(tmp_path, mode=mode)
    with pytest.raises(KeyFileError, match=rf"mode {mode:04o}.*chmod 600 {re.escape(str(path))}"):
        load_key(path)


def test_a_symlink_is_refused_even_to_a_private_file(tmp_path: Path) -> None:
    target = _key_file(tmp_path)
    link = tmp_path / "link.key"
    link.symlink_to(target)
    with pytest.raises(KeyFileError, match=rf"{re.escape(str(link))} is a symbolic link"):
        load_key(link)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    directory.mkdir(mode=0o700)
    with pytest.raises(KeyFileError, match="not a regular file"):
        load_key(directory)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(KeyFileError, match="not a regular file"):
        load_key(fifo)


@pytest.mark.parametrize("content", [b"", b"\n", b"   \n"])
def test_an_empty_key_is_refused(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(KeyFileError, match="empty"):
        load_key(_key_file(tmp_path, content))


def test_a_short_key_is_refused_counting_without_the_newline(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="15 bytes long, shorter than 16"):
        load_key(_key_file(tmp_path, b"x" * 15 + b"\n\n"))
    assert load_key(_key_file(tmp_path, b"x" * 16 + b"\n")) == b"x" * 16


def test_a_huge_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="larger than"):
        load_key(_key_file(tmp_path, b"x" * (MAX_KEY_FILE_BYTES + 1)))
    assert len(load_key(_key_file(tmp_path, b"x" * MAX_KEY_FILE_BYTES))) == MAX_KEY_FILE_BYTES


def test_a_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(
        KeyFileError, match=re.escape(f"cannot open heartbeat key file {tmp_path / 'absent'}")
    ):
        load_key(tmp_path / "absent")
