"""Support bundles: every raw output of one observation pass, to replay a node on a laptop.

A bundle is a tar.gz holding `bundle.json` (node, time, the files read, and for each command its
argv, outcome and exit code) and the raw stdout/stderr of each command as separate files, so
that a person can read them as they were printed. Reading one never writes to disk: members are
read in memory, by the names the index gives, with a size limit.
"""

import io
import json
import tarfile
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from reconciler import __version__
from reconciler.observe.node import HostFiles, observe_node
from reconciler.observe.runner import CommandResult, Outcome, RecordingRunner, ReplayRunner, Runner
from reconciler.observe.state import Observed

FORMAT = 1
INDEX = "bundle.json"
MAX_MEMBER = 64 * 2**20
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
    index: dict[str, Any] = bundle.model_dump(mode="json", exclude={"results", "versions"})
    index["format"] = FORMAT
    members: dict[str, str] = {}
    for group in ("results", "versions"):
        index[group] = [
            _entry(r, f"{group}/{i:02d}-{_slug(r.argv)}", members)
            for i, r in enumerate(getattr(bundle, group))
        ]
    members[INDEX] = json.dumps(index, indent=2) + "\n"
    with tarfile.open(path, "w:gz") as tar:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), int(bundle.taken_at.timestamp()), 0o644
            tar.addfile(info, io.BytesIO(data))


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
        with tarfile.open(path, "r:gz") as tar:
            index = json.loads(_member(tar, INDEX))
            if index.get("format") != FORMAT:
                raise BundleError(f"{path}: bundle format {index.get('format')!r} is not {FORMAT}")
            for group in ("results", "versions"):
                index[group] = [
                    {**e, "stdout": _member(tar, e["stdout"]), "stderr": _member(tar, e["stderr"])}
                    for e in index[group]
                ]
    except (OSError, tarfile.TarError, json.JSONDecodeError, KeyError, TypeError) as err:
        raise BundleError(f"{path}: not a readable observation bundle ({err})") from err
    return Bundle.model_validate(index)


def _member(tar: tarfile.TarFile, name: str) -> str:
    info = tar.getmember(name)
    if not info.isfile() or info.size > MAX_MEMBER:
        raise BundleError(f"bundle member {name!r} is not a regular file under {MAX_MEMBER} bytes")
    handle = tar.extractfile(info)
    if handle is None:
        raise BundleError(f"bundle member {name!r} cannot be read")
    return handle.read().decode(errors="replace")


def replay(bundle: Bundle) -> Observed:
    """The node's observed state, computed again from the bundle's raw outputs."""
    return observe_node(ReplayRunner(bundle.results), bundle.host_files(), now=bundle.taken_at)
