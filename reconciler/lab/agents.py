"""The agents of a lab: `reconciler agent` as a real process inside each node.

`start` runs the agent in the node's namespaces (as systemd would start it at boot), its
decisions going to `<lab>/<node>/agent.log`; it is a process of the node, so `lab kill`
(power-off) kills it with the rest, and `lab start` does not bring it back by itself: start it
again, as a booted node's init would. `stop` sends SIGTERM to the recorded PID, checked first to
still be that node's agent.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from reconciler.lab import node as nodes
from reconciler.lab.errors import LabError
from reconciler.lab.inventory import Lab

LOG = "agent.log"
PID = "agent.pid"
STOP_WAIT = 10.0


def log_path(lab: Lab, node: str) -> Path:
    return lab.dir / node / LOG


def _pid_file(lab: Lab, node: str) -> Path:
    return lab.dir / node / PID


def running(lab: Lab, node: str) -> int | None:
    """The PID of the node's agent, if it runs."""
    try:
        pid = int(_pid_file(lab, node).read_text())
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    words = [a.decode(errors="replace") for a in args]
    return pid if "agent" in words and "reconciler" in words and _in_node(lab, node, pid) else None


def _in_node(lab: Lab, node: str, pid: int) -> bool:
    try:
        return pid in nodes.namespace_pids(lab.runner, lab.node(node).namespace)
    except LabError:
        return False


def start(lab: Lab, node: str, manifests: Path, interval: float = 2.0) -> int:
    """Start the node's agent on `manifests`; its PID."""
    if running(lab, node) is not None:
        raise LabError(f"the agent of {node} runs already")
    argv = [
        sys.executable,
        "-m",
        "reconciler",
        "agent",
        str(manifests.resolve()),
        "--interval",
        str(interval),
    ]
    command = nodes.exec_argv(lab, node, argv)
    env = nodes.node_env(lab, node)
    with log_path(lab, node).open("a") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    _pid_file(lab, node).write_text(f"{process.pid}\n")
    return process.pid


def stop(lab: Lab, node: str) -> bool:
    """SIGTERM the node's agent and wait for it; False if none ran."""
    pid = running(lab, node)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_WAIT
    while running(lab, node) is not None:
        if time.monotonic() > deadline:
            raise LabError(f"the agent of {node} (PID {pid}) did not stop within {STOP_WAIT:.0f}s")
        time.sleep(0.05)
    return True
