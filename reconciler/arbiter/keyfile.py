"""The shared secret that authenticates heartbeats, read with the checks that keep it secret.

Whoever holds the key can forge heartbeats, and a forged heartbeat can keep a dead peer looking
alive (so nothing fails over) or, together with a lease, make a node stop what it runs. So the key
file is refused, not just warned about, when anyone but its owner can read or write it, as ssh does
with private keys. The file is opened once with O_NOFOLLOW and every check is made on the open
descriptor (fstat), so the file cannot be swapped between the check and the read.
"""

import errno
import os
import stat
from pathlib import Path

MIN_KEY_BYTES = 16
# A key is a line of random text; a file much larger than that is the wrong file.
MAX_KEY_FILE_BYTES = 4096


class KeyFileError(Exception):
    """The heartbeat key file is missing, unsafe or unusable; the message says how to fix it."""


def load_key(path: str | os.PathLike[str]) -> bytes:
    """Return the key in `path`, without its trailing whitespace, or raise `KeyFileError`.

    Trailing whitespace is dropped so that a key written with `echo` (newline) and one written with
    `printf` (none) are the same key on both nodes.
    """
    name = str(Path(path))
    fd = _open(name)
    try:
        _check(fd, name)
        data = _read(fd, name)
    finally:
        os.close(fd)
    key = data.rstrip()
    if not key:
        raise KeyFileError(f"heartbeat key file {name} is empty; write a random key into it")
    if len(key) < MIN_KEY_BYTES:
        raise KeyFileError(
            f"heartbeat key in {name} is {len(key)} bytes long, shorter than {MIN_KEY_BYTES}; "
            f"write a longer random key, e.g. `openssl rand -base64 32 > {name}`"
        )
    return key


def _open(name: str) -> int:
    # O_NONBLOCK: opening a FIFO would otherwise wait for a writer; fstat then refuses it.
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    try:
        return os.open(name, flags)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise KeyFileError(
                f"heartbeat key file {name} is a symbolic link; point keyFile at the real file"
            ) from error
        raise KeyFileError(f"cannot open heartbeat key file {name}: {error.strerror}") from error


def _check(fd: int, name: str) -> None:
    """Refuse anything but a regular file that only its owner may read or write."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise KeyFileError(f"heartbeat key file {name} is not a regular file; point keyFile at a file")
    if st.st_mode & 0o077:
        mode = stat.S_IMODE(st.st_mode)
        raise KeyFileError(
            f"heartbeat key file {name} has mode {mode:04o}: group or others may access it; "
            f"run `chmod 600 {name}` (and consider changing the key, it may have been read)"
        )


def _read(fd: int, name: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_KEY_FILE_BYTES:
        chunk = os.read(fd, MAX_KEY_FILE_BYTES + 1 - size)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    raise KeyFileError(
        f"heartbeat key file {name} is larger than {MAX_KEY_FILE_BYTES} bytes; is keyFile the right file?"
    )
