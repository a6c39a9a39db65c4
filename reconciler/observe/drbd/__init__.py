"""Parsers of DRBD's observation outputs (DRBD 8.0 to 9), all mapping onto the models in `models`."""

from collections.abc import Callable

from reconciler.observe.drbd import adm_text, events2, oneline, proc, show_json, show_text, status_json
from reconciler.observe.drbd.adm_text import parse_drbdadm_status, parse_drbdsetup_status_84_verbose
from reconciler.observe.drbd.events2 import Event, Events2, Events2Fold, parse_events2, parse_events2_line
from reconciler.observe.drbd.models import (
    Connection,
    DrbdStatus,
    Path,
    PeerVolume,
    Resource,
    ResyncProgress,
    Volume,
)
from reconciler.observe.drbd.oneline import (
    DrbdadmCState,
    DrbdadmDState,
    DrbdadmRole,
    parse_drbdadm_cstate,
    parse_drbdadm_dstate,
    parse_drbdadm_role,
)
from reconciler.observe.drbd.proc import ProcDrbd, parse_proc_drbd_80, parse_proc_drbd_83, parse_proc_drbd_84
from reconciler.observe.drbd.show_json import DrbdConfig, parse_show_json
from reconciler.observe.drbd.show_text import parse_drbdsetup_show_84
from reconciler.observe.drbd.states import ConnectionState, DiskState, ReplicationState, Role, SyncState
from reconciler.observe.drbd.status_json import parse_status_json
from reconciler.observe.facts import Fact

KINDS: dict[str, Callable[[str], Fact]] = {
    **status_json.KINDS,
    **events2.KINDS,
    **adm_text.KINDS,
    **proc.KINDS,
    **oneline.KINDS,
    **show_json.KINDS,
    **show_text.KINDS,
}

__all__ = [
    "KINDS",
    "Connection",
    "ConnectionState",
    "DiskState",
    "DrbdConfig",
    "DrbdStatus",
    "DrbdadmCState",
    "DrbdadmDState",
    "DrbdadmRole",
    "Event",
    "Events2",
    "Events2Fold",
    "Path",
    "PeerVolume",
    "ProcDrbd",
    "ReplicationState",
    "Resource",
    "ResyncProgress",
    "Role",
    "SyncState",
    "Volume",
    "parse_drbdadm_cstate",
    "parse_drbdadm_dstate",
    "parse_drbdadm_role",
    "parse_drbdadm_status",
    "parse_drbdsetup_show_84",
    "parse_drbdsetup_status_84_verbose",
    "parse_events2",
    "parse_events2_line",
    "parse_proc_drbd_80",
    "parse_proc_drbd_83",
    "parse_proc_drbd_84",
    "parse_show_json",
    "parse_status_json",
]
