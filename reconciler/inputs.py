"""Reading what the product is given: one guarded entry, with the limits of docs/limits.md.

Every input (manifests, linuxha.net's XML and Xen configs, captured tool outputs, support
bundles) is read here, so that each is bounded before any parser sees it: a size limit checked
before and while reading, a nesting limit checked before a recursive parser runs, and UTF-8
decoding errors reported with their line. Manifests and bundles are read from regular files
only: a FIFO or a device is refused from its `stat`, without being opened for a blocking read.
Failures are `InputError`s: a file, a stable code, a message and a hint, never a traceback.
"""

import os
import re
import stat
import sys
from pathlib import Path

KIB = 1 << 10
MIB = 1 << 20

MANIFEST_BYTES = 1 * MIB  # one manifest file (the example's are a few KiB)
MANIFEST_SET_BYTES = 4 * MIB  # every file of one manifest set
MANIFEST_FILES = 1000  # files in one manifest set
YAML_DEPTH = 64  # nested mappings and sequences in one manifest document
TOOL_OUTPUT_BYTES = 16 * MIB  # one captured output (the runner keeps no more: runner.MAX_OUTPUT)
CONFIG_FILE_BYTES = 1 * MIB  # one configuration file: a Xen domain config, a linuxha.net XML file
JSON_DEPTH = 64  # nested arrays and objects in a tool's JSON output or a bundle's index
XML_DEPTH = 32  # nested elements in a linuxha.net XML file
BUNDLE_BYTES = 64 * MIB  # a support bundle as stored (gzip)
BUNDLE_UNPACKED_BYTES = 256 * MIB  # the bundle's tar once decompressed
BUNDLE_MEMBER_BYTES = 64 * MIB  # one member of the bundle
STDIN = "-"


class InputError(Exception):
    """An input that cannot be read as it is: where, what (a stable code), and how to fix it."""

    def __init__(
        self, file: str, code: str, message: str, *, line: int | None = None, hint: str | None = None
    ) -> None:
        self.file, self.code, self.message, self.line, self.hint = file, code, message, line, hint
        super().__init__(self.one_line())

    def where(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"

    def one_line(self) -> str:
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{self.where()}: {self.message}{hint}"


def file_kind(mode: int) -> str:
    """What a `stat` mode names, in words: 'a FIFO', 'a character device', ..."""
    kinds = (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    )
    return next((name for test, name in kinds if test(mode)), "not a file")


def _stat(path: Path, display: str) -> os.stat_result:
    try:
        return os.stat(path)
    except FileNotFoundError:
        raise InputError(display, "not-found", "no such file or directory") from None
    except OSError as err:
        raise InputError(display, "unreadable", err.strerror or str(err)) from None


def _too_large(display: str, limit: int, what: str) -> InputError:
    return InputError(
        display,
        "too-large",
        f"larger than {limit} bytes, the limit for {what}",
        hint="see docs/limits.md",
    )


def _read_fd(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    left = limit + 1
    while left > 0:
        chunk = os.read(fd, min(left, MIB))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_regular(path: Path, limit: int, display: str, what: str) -> bytes:
    """The bytes of a regular file (a symbolic link to one is followed), at most `limit` of them.

    Anything else (a FIFO, a device, a socket, a directory) is refused from its `stat`; the file
    is opened non-blocking, so that one swapped in for a FIFO meanwhile cannot hang the read.
    """
    st = _stat(path, display)
    if not stat.S_ISREG(st.st_mode):
        raise InputError(
            display,
            "not-a-file",
            f"{file_kind(st.st_mode)}, not a regular file: {what} are read from regular files only",
        )
    if st.st_size > limit:
        raise _too_large(display, limit, what)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as err:
        raise InputError(display, "unreadable", err.strerror or str(err)) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputError(display, "not-a-file", f"not a regular file: {what} are read from regular files")
        data = _read_fd(fd, limit)
    except OSError as err:
        raise InputError(display, "unreadable", err.strerror or str(err)) from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise _too_large(display, limit, what)
    return data


def read_stream(name: str, limit: int, what: str) -> bytes:
    """A captured output: a regular file, a pipe or a character device (`-` for standard input),
    at most `limit` bytes; a directory, a block device or a socket is refused."""
    if name == STDIN:
        data = sys.stdin.buffer.read(limit + 1)
    else:
        st = _stat(Path(name), name)
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode)):
            message = f"{file_kind(st.st_mode)}: {what} is read from a file or a pipe"
            raise InputError(name, "not-a-file", message)
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOCTTY | os.O_CLOEXEC)
            try:
                data = _read_fd(fd, limit)
            finally:
                os.close(fd)
        except OSError as err:
            raise InputError(name, "unreadable", err.strerror or str(err)) from None
    if len(data) > limit:
        raise _too_large("standard input" if name == STDIN else name, limit, what)
    return data


def decode_utf8(data: bytes, display: str) -> str:
    """UTF-8 text, or an InputError naming the line and the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise InputError(
            display,
            "not-utf8",
            f"not UTF-8 text: byte 0x{data[err.start]:02x} at column {column} ({err.reason})",
            line=line,
            hint="save the file as UTF-8",
        ) from None


# A JSON string (closed or not), or one bracket: strings are skipped, so brackets in them don't count.
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]')


def json_depth(text: str, stop_at: int) -> tuple[int, int]:
    """The deepest nesting of JSON arrays and objects in `text` (counting stops past `stop_at`),
    and the line where it is reached. A linear scan: no recursion, whatever the input."""
    depth = deepest = 0
    where = 0
    for match in _JSON_TOKEN.finditer(text):
        char = match.group()
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest, where = depth, match.start()
                if deepest > stop_at:
                    break
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest, text.count("\n", 0, where) + 1


def check_json_depth(text: str, display: str, limit: int = JSON_DEPTH, what: str = "JSON") -> None:
    """Refuse `text` if its brackets nest deeper than `limit` (JSON, or any text with brackets)."""
    deepest, line = json_depth(text, limit)
    if deepest > limit:
        raise InputError(
            display,
            "too-deep",
            f"{what} nested deeper than {limit} levels",
            line=line,
            hint="no tool prints this; see docs/limits.md",
        )


# Kinds of `observe --parse` that are configuration files rather than tool outputs.
CONFIG_KINDS = frozenset({"xen-config"})


def read_tool_output(name: str, kind: str) -> str:
    """A captured output of kind `kind` (`-`: standard input), bounded and decoded."""
    limit = CONFIG_FILE_BYTES if kind in CONFIG_KINDS else TOOL_OUTPUT_BYTES
    display = "standard input" if name == STDIN else name
    return decode_utf8(read_stream(name, limit, f"a {kind} output"), display)


def check_output_depth(kind: str, text: str, display: str) -> None:
    """Before a parser sees a captured output: its brackets nest at most JSON_DEPTH levels.

    JSON parsers recurse per level, and so does Python's own parser, which reads `xen-config`;
    no tool prints brackets nested a tenth as deep, whatever its format.
    """
    check_json_depth(text, display, what="JSON" if kind.endswith("-json") else "brackets")
