"""A lab domain's guest: the real process that stands for a running Xen domain in a lab node.

Run as a script (`python -I guest.py LAB_ID NODE DOMAIN SHUTDOWN`), started by the `xm`/`xl
create` stand-in inside the node's namespaces. It sleeps until it is asked to shut down (SIGTERM,
as `xm shutdown` asks a guest), then takes SHUTDOWN seconds to "shut down" and exits 0; with
SHUTDOWN `never` it ignores the request, as a hung guest would. SIGKILL (`destroy`, a node powered
off, `lab down`) ends it at once, as the hypervisor ends a domain.

The lab id, node and domain are on the command line so that a recorded PID can be checked to
still be this guest before it is signalled. It imports nothing of the reconciler: it starts the
same from any directory or environment, and fast.
"""

import os
import signal
import sys
import time

USAGE = "usage: guest.py LAB_ID NODE DOMAIN SECONDS|never"
NEVER = "never"


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(USAGE, file=sys.stderr)
        return 2
    seconds = None if argv[3] == NEVER else float(argv[3])
    os.chdir("/")  # started from the caller's directory: do not keep it busy
    # A terminal's hang-up or interrupt is not a request to the guest.
    for signum in (signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, signal.SIG_IGN)
    if seconds is None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        while True:
            signal.pause()
    # Blocked and waited for, so that a request arriving at any moment is not lost.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    signal.sigwait({signal.SIGTERM})
    time.sleep(seconds)  # the guest's own shutdown: services stopping, disks syncing
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
