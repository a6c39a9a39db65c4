"""The guests of a lab's domains: real processes in the nodes, found and signalled by PID.

`xm create` in a lab node starts `guest.py` beside the simulated domain and records its PID in
the domain; `shutdown` sends it SIGTERM and `destroy` SIGKILL. A domain whose guest has died (a
crash, a kill from outside) is gone: `reap` removes it from the simulator, as the hypervisor
forgets a crashed domain. A PID is checked to still be that guest (lab, node, domain on its
command line) before it is signalled, and pinned by a pidfd meanwhile, so a reused PID is never hit.
"""

import os
import signal
import sys
import time
from pathlib import Path

from reconciler.lab.sim.state import Cluster

GUEST_SCRIPT = Path(__file__).with_name("guest.py")
NEVER = "never"  # guest.py's SECONDS for a guest that ignores a shutdown request
_POLL = 0.05


def guest_argv(lab_id: str, node: str, domain: str, shutdown_seconds: float | None) -> list[str]:
    seconds = NEVER if shutdown_seconds is None else repr(shutdown_seconds)
    # -I: the guest needs nothing but the standard library, whatever the caller's environment.
    return [sys.executable, "-I", str(GUEST_SCRIPT), lab_id, node, domain, seconds]


def start_guest(lab_id: str, node: str, domain: str, shutdown_seconds: float | None) -> int:
    """Start a guest in this process's namespaces, detached: its own session, /dev/null for its
    standard streams (the caller reads ours to their end), nobody's child once we exit. Its PID."""
    argv = guest_argv(lab_id, node, domain, shutdown_seconds)
    null = (os.O_RDWR, 0)
    actions = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, *null) for fd in (0, 1, 2)]
    return os.posix_spawn(argv[0], argv, dict(os.environ), file_actions=actions, setsid=True)


def _process_state(pid: int) -> str | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()[0]


def is_guest(pid: int, lab_id: str, node: str, domain: str) -> bool:
    """Whether PID is (still) the guest of `domain` on `node` of lab `lab_id`, and not a zombie."""
    if _process_state(pid) in (None, "Z"):
        return False
    try:
        args = [
            a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a
        ]
    except OSError:
        return False
    return args[-5:-1] == [str(GUEST_SCRIPT), lab_id, node, domain]


def signal_guest(pid: int, lab_id: str, node: str, domain: str, signum: signal.Signals) -> bool:
    """Send `signum` to the guest if PID is still it; whether it was sent."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return False
    try:
        if not is_guest(pid, lab_id, node, domain):
            return False
        signal.pidfd_send_signal(fd, signum)
        return True
    except (ProcessLookupError, FileNotFoundError):
        return False  # it ended meanwhile
    finally:
        os.close(fd)


def wait_gone(pid: int, lab_id: str, node: str, domain: str, timeout: float | None = None) -> bool:
    """Wait until the guest has ended (None: however long it takes); whether it has."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while is_guest(pid, lab_id, node, domain):
        if deadline is not None and time.monotonic() > deadline:
            return False
        time.sleep(_POLL)
    return True


def reap(cluster: Cluster, lab_id: str) -> list[str]:
    """Remove the domains whose guest has died from the simulator; "node/domain" of each."""
    gone = []
    for node in cluster.nodes:
        for domain in list(node.xen.domains):
            if domain.pid is not None and not is_guest(domain.pid, lab_id, node.name, domain.name):
                node.xen.domains.remove(domain)
                gone.append(f"{node.name}/{domain.name}")
    return gone
