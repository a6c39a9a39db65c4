"""The one lookup of an application's DRBD resource in what the kernel reports.

DRBD 9 and drbdadm name resources; /proc/drbd of DRBD 8 names only minors. Diff, plan and the
arbiter's facts all find a volume's resource here, so none of them can see a resource that
another misses.
"""

from reconciler.core.desired import DesiredVolume
from reconciler.observe.drbd.models import Resource


def find_resource(resources: tuple[Resource, ...], vol: DesiredVolume) -> Resource | None:
    """By name (DRBD 9, drbdadm) or, where the kernel does not name them (/proc/drbd), by minor."""
    for r in resources:
        if r.name == vol.resource or (r.name is None and any(v.minor == vol.minor for v in r.volumes)):
            return r
    return None
