"""The lab's stand-in server as a process: started by `lab up`, found and killed by `down`.

Why a server: a stand-in that imported the simulator itself paid ~0.45 s per call (the models'
imports alone ~0.3 s), and an agent's failover runs ~10 of them in ~0.5 s. One process per lab
imports everything once and answers both nodes' stand-ins, which are thin clients
(`standin_client`) of its socket; `standin_service` serves each call. It runs on the host, as the
lab's "hardware", not in a node: a node's power-off must not take it along.

`lab up` starts it once the simulator exists: `python -I -m reconciler.lab.standin_server
LAB_DIR` binds `<lab>/standin.sock` (mode 0600 from the start: root's alone), then forks; the
parent prints the child's PID and exits (as holder.py). This module imports only the standard
library, so all that takes a few milliseconds and `up` goes on at once: calls that come while
the child still imports the service wait in the socket's backlog. The child detaches (its
errors go to `<lab>/standin.log`) and serves until killed.

The lab's directory (whose name is the lab's id) is on the server's command line, so that `down`
finds it (`find_servers`) also when a crash left it unrecorded, and kills it; then removes the
socket, which a killed server cannot.
"""

import os
import select
import signal
import socket
import sys
from pathlib import Path

from reconciler.lab.standin_client import SOCKET_NAME, USAGE_ERROR, socket_address

MODULE = "reconciler.lab.standin_server"
USAGE = f"usage: python -m {MODULE} LAB_DIR"
LOG_NAME = "standin.log"  # in the lab's directory: the server's errors
KILL_WAIT = 5.0


def socket_path(lab_dir: Path) -> Path:
    return lab_dir / SOCKET_NAME


def server_argv(lab_dir: Path) -> list[str]:
    """The command that starts the server of the lab at `lab_dir`; it prints the server's PID."""
    # -I: what is imported does not depend on the caller's directory or PYTHON* variables.
    return [sys.executable, "-I", "-m", MODULE, str(lab_dir.absolute())]


def _command_line(pid: int) -> list[str] | None:
    try:
        return [
            a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a
        ]
    except OSError:
        return None


def _alive(pid: int) -> bool:
    """Not gone and not a zombie (a zombie serves nothing; init reaps it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def is_server(pid: int, lab_id: str) -> bool:
    """Whether PID is (still) the stand-in server of lab `lab_id` (a PID can be reused). By the
    lab's id, as the holders are: one id is one lab on a host (its namespaces are named by it),
    and the directory on the command line may be spelt otherwise than `down` spells it."""
    args = _command_line(pid) or []
    return len(args) >= 2 and args[-2] == MODULE and Path(args[-1]).name == lab_id and _alive(pid)


def find_servers(lab_id: str) -> list[int]:
    """The PIDs of the live servers of lab `lab_id`, found by their command line."""
    return sorted(
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and is_server(int(entry.name), lab_id)
    )


def stop(pid: int, lab_id: str) -> bool:
    """SIGKILL the server if PID is still it (pinned by a pidfd meanwhile), and wait until it is
    gone; whether it was signalled."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return False
    try:
        if not is_server(pid, lab_id):
            return False
        signal.pidfd_send_signal(fd, signal.SIGKILL)
        ready, _, _ = select.select([fd], [], [], KILL_WAIT)  # a pidfd reads ready once it has ended
    except ProcessLookupError:
        return False  # it ended meanwhile
    finally:
        os.close(fd)
    if not ready:
        raise TimeoutError(f"the stand-in server {pid} survives SIGKILL")
    return True


def listen(path: Path) -> socket.socket:
    """The server's socket at `path`, root's alone from the start (no moment at another mode)."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    address, directory = socket_address(str(path))
    umask = os.umask(0o177)
    try:
        listener.bind(address)
    finally:
        os.umask(umask)
        if directory is not None:
            os.close(directory)
    os.chmod(path, 0o600)
    listener.listen(64)
    return listener


def _detach(log: Path) -> None:
    os.setsid()
    # `up` reads our parent's stdout to its end: holding it open would make it wait forever.
    null = os.open(os.devnull, os.O_RDWR)
    output = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    for fd, target in ((0, null), (1, output), (2, output)):
        os.dup2(target, fd)
    os.close(null)
    os.close(output)
    os.chdir("/")
    # A terminal's hang-up or interrupt must not stop the lab's hardware; only a kill does.
    for signum in (signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, signal.SIG_IGN)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(USAGE, file=sys.stderr)
        return USAGE_ERROR
    lab_dir = Path(argv[0])
    try:
        listener = listen(socket_path(lab_dir))
    except OSError as err:
        print(f"lab stand-in server: {err}", file=sys.stderr)
        return 1
    pid = os.fork()  # before any thread: the child is the whole server
    if pid:
        print(pid, flush=True)
        return 0
    _detach(lab_dir / LOG_NAME)
    # Only now: the models take ~0.4 s to import, which `up` need not wait for.
    from reconciler.lab.standin_service import serve_forever  # noqa: PLC0415

    serve_forever(listener, lab_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
