"""The holder of a lab node: a process that only keeps the node's namespaces alive.

Run as a script (`python -I holder.py LAB NODE`, inside the node's network namespace and a private
mount namespace), it forks: the child detaches and sleeps until killed; the parent prints the
child's PID and exits. So the command that starts it finishes at once with the PID on stdout,
and the holder is nobody's child in the lab's own process (whose exit would otherwise leave it
unreaped, or kill it). `nsenter --target PID` then enters the node. The lab id and node name
are on the command line so that a recorded PID can be checked to still be this holder before
it is signalled.

It imports nothing of the reconciler: it must start the same from any directory or environment.
"""

import os
import signal
import sys

USAGE = "usage: holder.py LAB_ID NODE"


def _detach() -> None:
    os.setsid()
    # The caller reads our parent's stdout to its end: holding it open would make it wait forever.
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    os.chdir("/")


def become_daemon() -> bool:
    """Fork. The parent prints the child's PID and gets False (it is to exit: the command that
    started it returns at once); the child detaches and gets True. The lab's other processes of
    a node (replication.py) start the same way."""
    pid = os.fork()
    if pid:
        print(pid, flush=True)
        return False
    _detach()
    # A terminal's hang-up or interrupt must not power a node off; only a kill does.
    for signum in (signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, signal.SIG_IGN)
    return True


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(USAGE, file=sys.stderr)
        return 2
    if not become_daemon():
        return 0
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
