"""Writing generated files so that a crash at any moment leaves the old file or the new, whole.

The new content goes to a temporary file in the target's directory (a rename is atomic only
within one file system), is flushed to disk, and is renamed over the target; the directory is
then flushed so the rename itself survives a power cut. Until the rename, readers (drbdadm, xm)
see the old file; after it, the new one; never a mix. A run killed half-way leaves at most a
temporary file, which the next write for the same target removes (DESIGN.md, invariant 5).

Only a regular file (or a symbolic link, which is replaced) is ever renamed over: a target that is
a device, a FIFO, a socket or a directory is refused with `NotRegularFileError`, so that a path
given by mistake (`/dev/null`) is never destroyed. Outputs named on the command line follow the
stricter policy of `reconciler.outputs`, which uses this function for regular files.
"""

import contextlib
import difflib
import errno
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

PREVIOUS_SUFFIX = ".previous"


class NotRegularFileError(OSError):
    """The target exists and is not a regular file (nor a symbolic link): it is left alone."""


_TEMP_SUFFIX = ".tmp"


def previous_path(path: Path) -> Path:
    return path.with_name(path.name + PREVIOUS_SUFFIX)


def write_atomically(path: Path, content: str | bytes, mode: int = 0o644, keep_previous: bool = True) -> bool:
    """Make `path` hold `content` with `mode`; True if anything changed.

    Unchanged content is not rewritten (the mtime stays, so tools that watch it see nothing).
    With `keep_previous`, the version being replaced stays as `<name>.previous`, for a manual
    rollback and for drift reports. A symbolic link at `path` is replaced by the file itself.
    """
    data = content.encode("utf-8") if isinstance(content, str) else content
    _refuse_special(path)
    _remove_stale_temporaries(path)
    current = _read_if_present(path)
    if current == data:
        if stat.S_IMODE(path.stat().st_mode) == mode:
            return False
        os.chmod(path, mode)
        fsync_directory(path.parent)
        return True
    temporary = _write_temporary(path, data, mode)
    try:
        if keep_previous and current is not None:
            _keep_previous(path)
        os.replace(temporary, path)
    except BaseException:
        _unlink_quietly(temporary)
        raise
    fsync_directory(path.parent)
    return True


def unified_diff(old: str | None, new: str, path: str) -> str:
    """What writing `new` would change in `path` (`old` None: the file does not exist yet);
    empty when nothing would change. Git-style: `a/` and `b/` names, `/dev/null` for none."""
    if old == new:
        return ""
    before = "/dev/null" if old is None else f"a{path}" if path.startswith("/") else f"a/{path}"
    after = f"b{path}" if path.startswith("/") else f"b/{path}"
    lines = difflib.unified_diff(_lines(old or ""), _lines(new), fromfile=before, tofile=after)
    return "".join(lines)


def _lines(text: str) -> list[str]:
    # difflib glues a last line without "\n" to the next one; mark it as diff(1) does.
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


def _refuse_special(path: Path) -> None:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        raise NotRegularFileError(errno.EINVAL, "not a regular file: never replaced", str(path))


def _read_if_present(path: Path) -> bytes | None:
    """The current content; None if there is none, or if a symbolic link leads to no regular file
    (read non-blocking, so that a link to a FIFO cannot hang the write)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as stream:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return stream.read()


def _temporary_name(path: Path, tag: str) -> Path:
    # Hidden and suffixed, so that neither drbdadm (`drbd.d/*.res`) nor xm picks it up.
    return path.with_name(f".{path.name}.{tag}.{secrets.token_hex(8)}{_TEMP_SUFFIX}")


def _temporaries(path: Path) -> Iterator[Path]:
    prefix = f".{path.name}."
    for entry in path.parent.iterdir():
        if entry.name.startswith(prefix) and entry.name.endswith(_TEMP_SUFFIX):
            yield entry


def _remove_stale_temporaries(path: Path) -> None:
    """Temporaries left by a writer killed before its rename: never a version of the target."""
    if path.parent.is_dir():
        for stale in list(_temporaries(path)):
            _unlink_quietly(stale)


def _write_temporary(path: Path, data: bytes, mode: int) -> Path:
    temporary = _temporary_name(path, "new")
    # O_EXCL: never follow or reuse something already at the temporary name.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fchmod(stream.fileno(), mode)  # exactly `mode`, whatever the umask
            os.fsync(stream.fileno())
    except BaseException:
        _unlink_quietly(temporary)
        raise
    return temporary


def _keep_previous(path: Path) -> None:
    """Make `<name>.previous` the current version, atomically: a hard link to the current inode
    under a temporary name, renamed over the old `.previous`; a copy where links are refused."""
    staged = _temporary_name(path, "previous")
    try:
        try:
            os.link(path, staged, follow_symlinks=True)
        except OSError:
            # File systems without hard links (vfat, some FUSE) or a link count at its limit.
            _copy_durably(path, staged)
        os.replace(staged, previous_path(path))
    except BaseException:
        _unlink_quietly(staged)
        raise


def _copy_durably(source: Path, target: Path) -> None:
    with source.open("rb") as reader, target.open("xb") as writer:
        shutil.copyfileobj(reader, writer)
        writer.flush()
        shutil.copymode(source, target)
        os.fsync(writer.fileno())


def fsync_directory(directory: Path) -> None:
    """Make a rename or a new file in `directory` durable (the directory entry itself)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
