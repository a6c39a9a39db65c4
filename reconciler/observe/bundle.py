"""Support bundles: every raw output of one observation pass, to replay a node on a laptop.

A bundle is a tar.gz holding `bundle.json` (node, time, the files read, and for each command its
argv, outcome and exit code) and the raw stdout/stderr of each command as separate files, so
that a person can read them as they were printed. Reading one never writes to disk: members are
read in memory, by the names the index gives, within the limits of docs/limits.md (the bundle's
size stored and unpacked, each member's, the index's JSON nesting, and every output's). Any
bundle that is not one we wrote is a `BundleError` with one line saying why, never a traceback.
"""

import io
import json
import tarfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from reconciler import __version__
from reconciler.inputs import (
    BUNDLE_BYTES,
    BUNDLE_MEMBER_BYTES,
    BUNDLE_UNPACKED_BYTES,
    InputError,
    check_json_depth,
    read_regular,
)
from reconciler.observe.node import HostFiles, observe_node
from reconciler.observe.runner import CommandResult, Outcome, RecordingRunner, ReplayRunner, Runner
from reconciler.observe.state import Observed
from reconciler.outputs import write_output

FORMAT = 1
INDEX = "bundle.json"
MAX_MEMBER = BUNDLE_MEMBER_BYTES
GROUPS = ("results", "versions")
VERSION_COMMANDS: tuple[tuple[str, ...], ...] = (
    ("lvm", "version"),
    ("drbdadm", "--version"),
    ("xl", "info"),
    ("xm", "info"),
    ("ip", "-V"),
    ("uname", "-a"),
)


class BundleError(Exception):
    pass


class Bundle(BaseModel):
    model_config = ConfigDict(frozen=True)

    node: str
    taken_at: datetime
    reconciler_version: str
    files: dict[str, str]
    results: tuple[CommandResult, ...]
    versions: tuple[CommandResult, ...] = ()

    @field_validator("files")
    @classmethod
    def _known_files(cls, value: dict[str, str]) -> dict[str, str]:
        known = {f.name for f in fields(HostFiles)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown host file {unknown[0]!r} (known: {', '.join(sorted(known))})")
        return value

    def host_files(self) -> HostFiles:
        return HostFiles(**self.files)


def capture(
    runner: Runner, files: HostFiles, also: Callable[[Runner], object] | None = None
) -> tuple[Observed, Bundle]:
    """Observe once through `runner`, keeping every raw output, and the tools' versions.

    `also` reads more through the same recorder: the generated files and status commands of the
    applications, so that `plan --observed` sees exactly what `plan` saw.
    """
    recorder = RecordingRunner(runner)
    observed = observe_node(recorder, files)
    if also is not None:
        also(recorder)
    versions = tuple(runner.run(argv) for argv in VERSION_COMMANDS)
    bundle = Bundle(
        node=observed.node,
        taken_at=observed.taken_at,
        reconciler_version=__version__,
        files=asdict(files),
        results=tuple(recorder.results),
        versions=tuple(v for v in versions if v.outcome is not Outcome.MISSING),
    )
    return observed, bundle


def write_bundle(bundle: Bundle, path: Path) -> None:
    """Write the bundle to `path` under the output-path policy (reconciler.outputs): atomically
    to a file, into a FIFO or a device, to standard output for `-`; only its owner may read it."""
    write_output(path, bundle_bytes(bundle), mode=0o600)


def bundle_bytes(bundle: Bundle) -> bytes:
    index: dict[str, Any] = bundle.model_dump(mode="json", exclude={"results", "versions"})
    index["format"] = FORMAT
    members: dict[str, str] = {}
    for group in GROUPS:
        index[group] = [
            _entry(r, f"{group}/{i:02d}-{_slug(r.argv)}", members)
            for i, r in enumerate(getattr(bundle, group))
        ]
    members[INDEX] = json.dumps(index, indent=2) + "\n"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), int(bundle.taken_at.timestamp()), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _entry(result: CommandResult, stem: str, members: dict[str, str]) -> dict[str, Any]:
    members[f"{stem}.stdout"] = result.stdout
    members[f"{stem}.stderr"] = result.stderr
    entry = result.model_dump(mode="json", exclude={"stdout", "stderr"})
    return {**entry, "stdout": f"{stem}.stdout", "stderr": f"{stem}.stderr"}


def _slug(argv: Sequence[str]) -> str:
    words = [w.strip("<>").replace("/", "_").strip("_") for w in argv[:3]]
    return "-".join(w for w in words if w)[:48]


def read_bundle(path: Path) -> Bundle:
    try:
        stored = read_regular(path, BUNDLE_BYTES, str(path), "bundles")
    except InputError as err:
        raise BundleError(err.one_line()) from None
    try:
        members = _unpack(_gunzip(stored, BUNDLE_UNPACKED_BYTES))
        index = _index(members, path)
    except (tarfile.TarError, zlib.error, EOFError, OSError, ValueError) as err:
        raise BundleError(f"{path}: not a readable observation bundle ({err})") from None
    try:
        return Bundle.model_validate(index)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "the index"
        problem = f"{INDEX}: {where}: {first['msg']}"
        raise BundleError(f"{path}: not a readable observation bundle ({problem})") from None


def _gunzip(data: bytes, limit: int) -> bytes:
    """gzip members one after the other, decompressed to at most `limit` bytes (a gzip bomb stops
    there, instead of filling the memory)."""
    out = bytearray()
    rest = data
    while rest:
        stream = zlib.decompressobj(wbits=31)
        out += stream.decompress(rest, limit + 1 - len(out))
        if len(out) > limit or stream.unconsumed_tail:
            raise ValueError(f"unpacks to more than {limit} bytes")
        if not stream.eof:
            raise ValueError("truncated gzip data")
        rest = stream.unused_data
    if not out:
        raise ValueError("empty")
    return bytes(out)


def _unpack(tar_data: bytes) -> dict[str, bytes | None]:
    """Every member by name: the bytes of a regular file, None for anything else (never read)."""
    members: dict[str, bytes | None] = {}
    with tarfile.open(fileobj=io.BytesIO(tar_data), mode="r:") as tar:
        for info in tar:
            if not info.isfile() or info.size > MAX_MEMBER:
                members[info.name] = None
                continue
            handle = tar.extractfile(info)
            members[info.name] = handle.read() if handle is not None else None
    return members


def _index(members: dict[str, bytes | None], path: Path) -> dict[str, Any]:
    """bundle.json with each entry's output names replaced by the outputs themselves."""
    text = _member(members, INDEX)
    _check_depth(text, INDEX)
    index = json.loads(text)
    if not isinstance(index, dict):
        raise ValueError(f"{INDEX} is {type(index).__name__}, not an object")
    if index.get("format") != FORMAT:
        raise BundleError(f"{path}: bundle format {index.get('format')!r} is not {FORMAT}")
    for group in GROUPS:
        entries = index.get(group, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ValueError(f"{INDEX}: {group} is not a list of objects")
        index[group] = [{**e, **_outputs(members, e)} for e in entries]
    return index


def _outputs(members: dict[str, bytes | None], entry: dict[str, Any]) -> dict[str, str]:
    out = {}
    for stream in ("stdout", "stderr"):
        name = entry.get(stream, "")
        if not isinstance(name, str):
            raise ValueError(f"{INDEX}: {stream} names no member ({name!r})")
        out[stream] = _member(members, name) if name else ""
        _check_depth(out[stream], name)
    return out


def _check_depth(text: str, name: str) -> None:
    try:
        check_json_depth(text, name)
    except InputError as err:
        raise ValueError(f"member {err.one_line()}") from None


def _member(members: dict[str, bytes | None], name: str) -> str:
    if name not in members:
        raise ValueError(f"no member {name!r}")
    data = members[name]
    if data is None:
        raise BundleError(f"bundle member {name!r} is not a regular file under {MAX_MEMBER} bytes")
    return data.decode(errors="replace")


def replay(bundle: Bundle) -> Observed:
    """The node's observed state, computed again from the bundle's raw outputs."""
    try:
        return observe_node(ReplayRunner(bundle.results), bundle.host_files(), now=bundle.taken_at)
    except (RecursionError, MemoryError):  # MemoryError: Python's own parser (xen-config) nested too deep
        raise BundleError("an output of the bundle is nested too deeply to be parsed") from None
