"""Running the lab as a user does, for the end-to-end tests: `reconciler lab ...` as a real
process, commands inside a node, and a lab that is removed after the test, also when it fails,
with a check that it left nothing behind (namespaces, host links, loop devices, processes (the
holders, the guests, the stand-in server), directories, host mount points)."""

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from reconciler.lab import lab as labs
from reconciler.lab import node as nodes
from reconciler.lab.disks import lab_loops
from reconciler.lab.inventory import Lab, open_lab
from reconciler.lab.network import host_links, name_prefix
from reconciler.lab.sim.state import Cluster
from reconciler.lab.simstate import sim_dir
from reconciler.observe.runner import SubprocessRunner
from tests.conftest import REPO
from tests.lab.helpers import gone, wait_until_gone

RUNNER = SubprocessRunner()
CONVERGED = "Converged: the node is as declared."
# The DRBD versions the representative end-to-end tests run on (`lab up --drbd`): 9, and 8.4 (the
# last of DRBD 8, which speaks to 9 in a rolling upgrade). 8.3 runs in `make demo` and in
# test_drbd_versions_in_lab.
LAB_DRBD = ("9", "8.4")


def cli(root: Path, *args: str, timeout: float = 120) -> "subprocess.CompletedProcess[str]":
    """`reconciler lab --root ROOT ARGS...` as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "lab", "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=REPO,
    )


def in_node(root: Path, lab_id: str, node: str, *argv: str) -> "subprocess.CompletedProcess[str]":
    return cli(root, "exec", "--id", lab_id, node, "--", *argv)


def apply_in(root: Path, lab_id: str, node: str, manifests: Path) -> "subprocess.CompletedProcess[str]":
    """One `reconciler apply` inside `node`, a real process there."""
    argv = (sys.executable, "-m", "reconciler", "apply", str(manifests), "--allow-destructive")
    return in_node(root, lab_id, node, *argv)


def edited_manifests(directory: Path, edits: list[tuple[str, str, str]]) -> Path:
    """The seed's manifests copied into `directory`, each (file, old, new) applied once; an
    `old` that is not there fails the test (the seed changed under it)."""
    copied = directory / "manifests"
    shutil.copytree(REPO / "manifests", copied)
    for name, old, new in edits:
        path = copied / name
        text = path.read_text()
        assert old in text, f"{name} no longer holds {old!r}"
        path.write_text(text.replace(old, new, 1))
    return copied


def journal(lab: Lab, node: str) -> list[dict[str, object]]:
    path = lab.state_dir(node) / "journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@contextmanager
def lab_up(root: Path, lab_id: str, manifests: Path, drbd: Sequence[str] = ()) -> Iterator[Lab]:
    """A lab made by `lab up` (the command), removed by `down` whatever happens; then checks
    that nothing of it is left. `drbd`: `--drbd` values (default: DRBD 9 on both nodes)."""
    host_dirs = {path: Path(path).exists() for path in nodes.PRIVATE_DIRS}
    pids: list[int] = []
    try:
        options = [word for value in drbd for word in ("--drbd", value)]
        made = cli(root, "up", "--id", lab_id, "--manifests", str(manifests), *options)
        assert made.returncode == 0, made.stderr
        opened = open_lab(root, lab_id)
        pids = [r.holder_pid for r in opened.inventory.nodes if r.holder_pid is not None]
        pids += [opened.inventory.server_pid] if opened.inventory.server_pid is not None else []
        yield opened
        pids += [d.pid for n in Cluster.load(sim_dir(opened.dir)).nodes for d in n.xen.domains if d.pid]
    finally:
        labs.down(root, lab_id)
    assert lab_id not in RUNNER.run(["ip", "netns", "list"]).stdout
    assert host_links(RUNNER, name_prefix(lab_id)) == []
    assert lab_loops(RUNNER, root / lab_id) == []
    assert not (root / lab_id).exists()
    assert all(wait_until_gone(pid) for pid in pids), [p for p in pids if not gone(p)]
    assert {path: Path(path).exists() for path in nodes.PRIVATE_DIRS} == host_dirs
