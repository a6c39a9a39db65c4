"""The simulated half of a lab: one simulator state that both nodes share, in `<lab>/sim`.

What needs a kernel module or a hypervisor (LVM, DRBD, filesystems, Xen domains) answers from the
simulator (reconciler/lab/sim), shared by the two nodes so that DRBD sees its peer; addresses and
links stay real in the namespaces. `simsetup.create` makes the state at `lab up`; the stand-in
executables (`standin`) and the lab's own power and link commands change it, each through
`transaction`, which under the simulator's lock:
- advances the virtual clock by the wall time since the last transaction, times the lab's speed
  (`SimMeta.speed`), so that a resync of simulated minutes takes real seconds;
- forgets the domains whose guest process has died (`guests.reap`);
- takes the replication paths that the nodes measure over real connections (`replication`):
  DRBD connects only where one carries traffic, and loses its peer where it no longer does;
- after the change, writes each node's kernel files: `<lab>/<node>/proc-drbd` (absent while DRBD
  is not loaded) and `<lab>/<node>/mountinfo`, which the observer reads instead of the kernel's
  (RECONCILER_PROC_DRBD, RECONCILER_MOUNTINFO): this kernel shows no simulated DRBD or mount.

This module is imported by every stand-in: it keeps to what a command needs (no manifests).
"""

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from reconciler.lab import guests, replication
from reconciler.lab.errors import LabError
from reconciler.lab.sim import drbd_report, reports
from reconciler.lab.sim import state as sim_state
from reconciler.lab.sim.state import Cluster
from reconciler.render.files import write_atomically

SIM_DIR = "sim"
META_FILE = "lab-sim.json"
PROC_DRBD_FILE = "proc-drbd"
MOUNTINFO_FILE = "mountinfo"
# The stand-ins find the simulator through this; the observer its kernel files through the others.
SIM_ENV = "RECONCILER_LAB_SIM"
PROC_DRBD_ENV = "RECONCILER_PROC_DRBD"
MOUNTINFO_ENV = "RECONCILER_MOUNTINFO"
DEFAULT_SPEED = 100.0  # simulated seconds per real second: an 8 GiB resync at 10 MB/s takes ~8 s
GUEST_SHUTDOWN = 1.5  # real seconds a guest takes to shut down once asked


class SimMeta(BaseModel):
    """What the lab adds to the simulator's state: where the manifests are, and its clock."""

    manifests: list[str]  # the paths `lab up` was given, resolved (for `lab status`)
    speed: float = Field(default=DEFAULT_SPEED, gt=0)
    guest_shutdown: float = Field(default=GUEST_SHUTDOWN, ge=0)
    wall: float  # time.monotonic() when the virtual clock was last advanced


def sim_dir(lab_dir: Path) -> Path:
    return lab_dir / SIM_DIR


def has_sim(lab_dir: Path) -> bool:
    """Whether the lab has a simulator (labs made before it had one, or a crash in `up`, do not)."""
    return (sim_dir(lab_dir) / sim_state.CLUSTER_FILE).is_file() and (sim_dir(lab_dir) / META_FILE).is_file()


def proc_drbd_file(lab_dir: Path, node: str) -> Path:
    return lab_dir / node / PROC_DRBD_FILE


def mountinfo_file(lab_dir: Path, node: str) -> Path:
    return lab_dir / node / MOUNTINFO_FILE


def node_env(lab_dir: Path, node: str) -> dict[str, str]:
    """The variables that point a node's commands at the simulator and its kernel files."""
    return {
        SIM_ENV: str(sim_dir(lab_dir)),
        PROC_DRBD_ENV: str(proc_drbd_file(lab_dir, node)),
        MOUNTINFO_ENV: str(mountinfo_file(lab_dir, node)),
    }


def save_meta(lab_dir: Path, meta: SimMeta) -> None:
    write_atomically(sim_dir(lab_dir) / META_FILE, meta.model_dump_json(indent=2) + "\n", keep_previous=False)


def load_meta(lab_dir: Path) -> SimMeta:
    path = sim_dir(lab_dir) / META_FILE
    try:
        return SimMeta.model_validate_json(path.read_text())
    except (OSError, ValidationError) as err:
        raise LabError(f"cannot read {path}: {err}") from err


def refresh_kernel_files(lab_dir: Path, cluster: Cluster) -> None:
    """Write what each node's kernel would show of the simulated DRBD and mounts."""
    for node in cluster.nodes:
        proc = proc_drbd_file(lab_dir, node.name)
        if node.powered and node.drbd.loaded:
            write_atomically(proc, drbd_report.proc_drbd(cluster, node), keep_previous=False)
        else:
            proc.unlink(missing_ok=True)  # no module loaded: no /proc/drbd
        write_atomically(mountinfo_file(lab_dir, node.name), reports.mountinfo(node), keep_previous=False)


@contextmanager
def transaction(lab_dir: Path) -> Iterator[Cluster]:
    """The shared cluster, advanced to now, for the block to change; saved after it (not on error)."""
    with sim_state.transaction(sim_dir(lab_dir)) as cluster:
        meta = load_meta(lab_dir)
        now = time.monotonic()
        cluster.tick(max(0.0, now - meta.wall) * meta.speed)
        guests.reap(cluster, lab_dir.name)
        cluster.measure(replication.measured_paths(lab_dir, [n.name for n in cluster.nodes]))
        yield cluster
        save_meta(lab_dir, meta.model_copy(update={"wall": now}))
        refresh_kernel_files(lab_dir, cluster)


def power(lab_dir: Path, node: str, on: bool) -> None:
    """The simulated side of `lab kill` / `lab start`: pull the plug, or boot."""
    if not has_sim(lab_dir):
        return
    with transaction(lab_dir) as cluster:
        if on:
            cluster.power_on(node)
        else:
            cluster.power_off(node)


def set_links(lab_dir: Path, networks: Iterable[str], up: bool) -> None:
    """The simulated side of `lab partition` / `lab heal`: DRBD loses or finds its peer."""
    if not has_sim(lab_dir):
        return
    with transaction(lab_dir) as cluster:
        for network in networks:
            cluster.set_link(network, up)
