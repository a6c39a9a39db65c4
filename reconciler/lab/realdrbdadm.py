"""drbd-utils' own `drbdadm` as the first reader of a lab node's resource files.

The lab's `drbdadm` is a stand-in (this kernel has no DRBD), but the files it acts on are parsed
first by the real one: `drbdadm -c CONF dump RESOURCE` inside the node, where CONF includes the
node's /etc/drbd.d/*.res as /etc/drbd.conf does. A file that the real drbdadm refuses (a syntax
error, a resource not defined for this host) fails the stand-in with drbdadm's own message and
exit code, as it would fail on a real host; what it only warns of (an address the node does not
have) is printed before the stand-in's answer, as drbdadm prints it.
`DRBD_DRIVER_VERSION_OVERRIDE` picks the parser of the DRBD version the node simulates (`lab up
--drbd`): drbd-utils' drbdadm re-executes itself as /usr/lib/drbd/drbdadm-83 for 8.3, drbdadm-84
for 8.4, and parses 9's itself; without a module, drbdadm could not tell. So a node simulating
8.3 refuses a file in 8.4's or 9's syntax, as the guide's CentOS 5 hosts would.
"""

import shutil

from reconciler.lab.node import HOST_PATH

CONF = 'global {\n    usage-count no;\n}\ninclude "/etc/drbd.d/*.res";\n'


def real_drbdadm() -> str | None:
    return shutil.which("drbdadm", path=HOST_PATH)
