"""A simulated two-node cluster: state (`state`, `model`), the tools' behaviour (`commands`,
`drbd`), their outputs (`*_report`, `reports`) and one node as a Runner and Host (`SimHost`)."""

from reconciler.lab.sim.build import lab_cluster, simple_cluster
from reconciler.lab.sim.commands import SimCrashed, handle, read
from reconciler.lab.sim.host import SimHost
from reconciler.lab.sim.state import Cluster, Crash, CrashPoint, Fault, FaultKind, SimLink

__all__ = [
    "Cluster",
    "Crash",
    "CrashPoint",
    "Fault",
    "FaultKind",
    "SimCrashed",
    "SimHost",
    "SimLink",
    "handle",
    "lab_cluster",
    "read",
    "simple_cluster",
]
