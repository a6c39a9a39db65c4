"""Where a command writes what it is asked to save: one policy for `plan --out`, `capture -o`,
`schema --out` and `import linuxha -o` (docs/limits.md, "Output paths").

- `-` is standard output.
- A path that does not exist, or names a regular file, gets the content atomically: a temporary
  file beside it, renamed over it (a reader sees the old file or the new one, never half of one).
- A FIFO or a character device (`/dev/null`, a terminal) is written into: opened for writing, never
  renamed over, never replaced. A FIFO with no reader is refused rather than waited on.
- A symbolic link is refused, whatever it points to: name its target, or `-` for standard output.
  (A root process following a link planted in a shared directory would overwrite the link's target.)
- A directory, a block device or a socket is refused; so is a path whose directory is missing.

Refusals are `OutputError`s with a one-line message; nothing is written then.
"""

import contextlib
import errno
import fcntl
import os
import stat
import sys
from pathlib import Path
from typing import Any

import click

from reconciler.inputs import file_kind
from reconciler.render.files import write_atomically

STDOUT = "-"
HELP = "'-' for standard output; a FIFO or a character device is written into; a symbolic link is refused."


class OutputError(Exception):
    """An output path that the policy refuses; the message names it and says what to do."""


def check_output(path: Path) -> os.stat_result | None:
    """Refuse an output path before any work is done; its `lstat`, or None if it does not exist."""
    if str(path) == STDOUT:
        return None
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as err:
        raise OutputError(f"{path}: cannot write there: {err.strerror or err}") from None
    if st is None:
        parent = path.parent
        if not parent.is_dir():
            raise OutputError(f"{path}: the directory {parent} does not exist; create it first")
        return None
    if stat.S_ISLNK(st.st_mode):
        raise OutputError(
            f"{path}: is a symbolic link; outputs never follow or replace one: name its target"
            " (or '-' for standard output)"
        )
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode)):
        raise OutputError(f"{path}: is {file_kind(st.st_mode)}; write to a file, a FIFO or '-'")
    return st


def write_output(path: Path, content: str | bytes, mode: int = 0o644) -> None:
    """Write `content` to `path` under the policy above; an existing file keeps its permissions."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    if str(path) == STDOUT:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    st = check_output(path)
    if st is not None and not stat.S_ISREG(st.st_mode):
        _write_into(path, data)
        return
    keep = stat.S_IMODE(st.st_mode) if st is not None else mode
    try:
        write_atomically(path, data, mode=keep, keep_previous=False)
    except OSError as err:
        raise OutputError(f"{path}: cannot write: {err.strerror or err}") from None


def _write_into(path: Path, data: bytes) -> None:
    """A FIFO or a character device: opened as it is (no create, no truncate, no rename)."""
    flags = os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as err:
        if err.errno == errno.ENXIO:
            raise OutputError(f"{path}: a FIFO with no reader; start the reader first") from None
        raise OutputError(f"{path}: cannot write: {err.strerror or err}") from None
    try:
        st = os.fstat(fd)
        if not (stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode)):
            raise OutputError(f"{path}: changed while being opened; not written")
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except OSError as err:
        raise OutputError(f"{path}: cannot write: {err.strerror or err}") from None
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


class OutputPath(click.ParamType):  # type: ignore[type-arg]  # generic in click 8.2+ only
    """A click parameter for an output path: checked against the policy as the command starts,
    so that a refused path costs nothing (no observation, no plan) and exits 1 as a usage error."""

    name = "path"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = value if isinstance(value, Path) else Path(str(value))
        try:
            check_output(path)
        except OutputError as err:
            self.fail(str(err), param, ctx)
        return path
