"""What the arbiter decides on, read from one observation: per application, whether anything of it
runs on this node, and its local DRBD disk state.

"Could not observe" is a state of its own: an application whose state is unknown is *possibly
running*. A holder that cannot see its domain therefore never releases its lease, and, without
contact, self-fences as a running holder does; the peer never starts a second copy on its word.
"""

from dataclasses import dataclass
from enum import StrEnum

from reconciler.core.desired import AppRole, DesiredApp, desired_node
from reconciler.core.diff import Probed, diff
from reconciler.core.drift import DriftCode
from reconciler.core.resources import find_resource
from reconciler.core.round import drbd_flavour
from reconciler.manifest import ManifestSet
from reconciler.observe.drbd.states import DiskState
from reconciler.observe.state import Observed

# What a standby node shows when (part of) the application runs there.
RUNNING_CODES = frozenset(
    {
        DriftCode.APP_UP_ON_WRONG_NODE,
        DriftCode.DOMAIN_CRASHED,
        DriftCode.FS_MOUNTED_ON_STANDBY,
        DriftCode.IP_UNEXPECTED,
    }
)


class Presence(StrEnum):
    RUNNING = "running"  # something a stop would undo is up here
    STOPPED = "stopped"
    UNKNOWN = "unknown"  # part of the node could not be observed: possibly running


@dataclass(frozen=True)
class AppFacts:
    presence: Presence
    disk: str | None  # the worst local disk state of its DRBD resources; None: not up, or unknown

    @property
    def running(self) -> bool:
        """Possibly running: what every safety decision must assume."""
        return self.presence is not Presence.STOPPED


def app_facts(manifests: ManifestSet, observed: Observed, probed: Probed, node: str) -> dict[str, AppFacts]:
    """Each application's facts on `node`, from the diff of it as a standby there."""
    peers = [n.name for n in manifests.cluster.document.spec.nodes if n.name != node]
    standby = {a.name: peers[0] for a in manifests.applications}
    desired = desired_node(manifests, node, standby, drbd_flavour(observed))
    drift = diff(desired, observed, probed)
    running = {d.app for d in drift if d.code in RUNNING_CODES}
    blind = {d.app for d in drift if d.code is DriftCode.OBSERVATION_FAILED}
    out = {}
    for app in desired.apps:
        assert app.role is AppRole.STANDBY
        if app.name in running:
            presence = Presence.RUNNING
        elif app.name in blind:
            presence = Presence.UNKNOWN
        else:
            presence = Presence.STOPPED
        out[app.name] = AppFacts(presence=presence, disk=local_disk(observed, app))
    return out


def local_disk(observed: Observed, app: DesiredApp) -> str | None:
    """The worst local disk state of the application's DRBD volumes; None when any is not up."""
    if observed.drbd is None or not app.volumes:
        return None
    states: list[DiskState] = []
    for vol in app.volumes:
        found = find_resource(observed.drbd.resources, vol)
        if found is None or not found.volumes:
            return None
        states.extend(v.disk_state for v in found.volumes)
    worse = [s for s in states if s is not DiskState.UP_TO_DATE]
    return (worse[0] if worse else DiskState.UP_TO_DATE).value
