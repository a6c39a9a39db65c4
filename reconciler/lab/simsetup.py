"""Giving a lab its simulator at `lab up`, and showing it in `lab status`.

`create` saves a Cluster built from the manifests (the nodes and networks they declare, with every
physical volume the applications name and the toolstack they use) in `<lab>/sim`, and writes one
wrapper into the lab's bin/ (first on every node's PATH) for each program the simulator answers,
except `ip` and `ping`, which stay real as the lab's addresses and links are, and lvm2's
programs, which run for real on the nodes' loop devices (`disks`). The wrapper is fixed
text, the same for every program but its file name; no manifest value reaches a shell. It execs
`standin_client.py` (a thin client of the lab's stand-in server, `standin_server`) with the
standard library alone: a call costs a few milliseconds of start-up, not the simulator's imports.
"""

import re
import shlex
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from reconciler.lab import guests
from reconciler.lab.errors import LabError
from reconciler.lab.sim.commands import TOOLS
from reconciler.lab.sim.drbd import Side
from reconciler.lab.sim.rounds import simulated_cluster
from reconciler.lab.sim.state import Cluster, locked
from reconciler.lab.sim.versions import VersionError, per_node
from reconciler.lab.simstate import (
    DEFAULT_SPEED,
    SimMeta,
    has_sim,
    load_meta,
    refresh_kernel_files,
    save_meta,
    sim_dir,
    transaction,
)
from reconciler.lab.simulate import status_table
from reconciler.manifest import ManifestError, ManifestSet, load_manifests

# Addresses and links are real in the namespaces, and LVM is lvm2's own on the nodes' loop devices.
REAL_PROGRAMS = frozenset({"ip", "ping", "lvm", "vgs", "lvs", "vgcreate", "vgremove", "lvcreate", "lvremove"})
XEN_PROGRAMS = frozenset({"xl", "xm"})
_PROGRAM = re.compile(r"[a-z][a-z0-9.]*")
CLIENT_SCRIPT = Path(__file__).with_name("standin_client.py")
# -I: the caller's directory and PYTHON* variables cannot change what runs; -S: no site, whose
# import costs more than the client's whole run. ${0##*/}: the program's name, without a process.
WRAPPER = """#!/bin/sh
# Written by `reconciler lab up`: the lab's stand-in server answers this program (see
# reconciler/lab/standin_server.py).
exec {python} -I -S {client} "${{0##*/}}" "$@"
"""


def programs(cluster: Cluster) -> list[str]:
    """The programs the nodes get as stand-ins: what the simulator answers but the real ones,
    and of `xl`/`xm` only the toolstack the nodes have (the observer takes the first it finds)."""
    stacks = {node.xen.toolstack for node in cluster.nodes}
    return sorted(
        name for name in TOOLS if name not in REAL_PROGRAMS and (name not in XEN_PROGRAMS or name in stacks)
    )


def write_wrappers(bin_dir: Path, names: Iterable[str]) -> None:
    text = WRAPPER.format(python=shlex.quote(sys.executable), client=shlex.quote(str(CLIENT_SCRIPT)))
    for name in names:
        if not _PROGRAM.fullmatch(name):
            raise LabError(f"{name!r} cannot be a stand-in's file name")
        path = bin_dir / name
        path.write_text(text)
        path.chmod(0o755)


def drbd_versions(manifests: ManifestSet, values: Iterable[str]) -> dict[str, str]:
    """Each node's DRBD from `lab up --drbd` values (`versions.per_node`)."""
    names = [node.name for node in manifests.cluster.document.spec.nodes]
    try:
        return per_node(values, names)
    except VersionError as err:
        raise LabError(str(err)) from None


def create(
    lab_dir: Path,
    bin_dir: Path,
    manifests: ManifestSet,
    paths: Sequence[Path],
    speed: float = DEFAULT_SPEED,
    drbd: Mapping[str, str] | None = None,
    toolstack: str | None = None,
) -> Cluster:
    """The lab's simulator, its nodes' kernel files and the stand-ins; the cluster as saved.
    `drbd`: each node's DRBD version (default 9); `toolstack`: `xm` or `xl` (default: the
    applications')."""
    cluster = simulated_cluster(manifests, drbd, toolstack)
    directory = sim_dir(lab_dir)
    directory.mkdir()
    with locked(directory):
        cluster.save(directory)
        meta = SimMeta(manifests=[str(p.resolve()) for p in paths], speed=speed, wall=time.monotonic())
        save_meta(lab_dir, meta)
        refresh_kernel_files(lab_dir, cluster)
    write_wrappers(bin_dir, programs(cluster))
    return cluster


def applications_table(lab_dir: Path) -> str | None:
    """linuxha.net's clstat from the simulator, then DRBD's states and the domains' guest processes;
    None for a lab without a simulator."""
    if not has_sim(lab_dir):
        return None
    meta = load_meta(lab_dir)
    with transaction(lab_dir) as cluster:
        pass  # brings the clock (resyncs) and the guests up to date
    try:
        manifests = load_manifests([Path(p) for p in meta.manifests])
    except ManifestError as err:
        return f"(no application table: the manifests no longer load: {len(err.diagnostics)} error(s))"
    return "\n".join([status_table(cluster, manifests), *_details(cluster, lab_dir.name)])


def _details(cluster: Cluster, lab_id: str) -> list[str]:
    """What clstat leaves out: each node's DRBD and toolstack, each DRBD resource's states, each
    domain's guest process."""
    lines = ["", f"{'Node':<13}{'DRBD':<10}Toolstack"]
    for node in cluster.nodes:
        lines.append(f"  {node.name:<10} {node.drbd.version:<9} {node.xen.toolstack or '-'}")
    lines += ["", "DRBD resource  Node       Role      Disk          Connection"]
    first_resource = len(lines)
    for node in cluster.nodes:
        for res in node.drbd.resources:
            disk = Side(node, res).md.disk.value
            lines.append(
                f"  {res.name:<12} {node.name:<10} {res.role.value:<9} {disk:<13} {res.connection.value}"
            )
    for sync in cluster.syncs:
        done = 1 - sync.left / max(sync.total, 1)
        lines.append(f"  resync of {sync.resource} {sync.source} -> {sync.target}: {done:.0%}")
    if len(lines) == first_resource:
        lines.append("  (none up)")
    lines += ["", "Domain         Node       Guest process (real, in the node)"]
    first_domain = len(lines)
    for node in cluster.nodes:
        for domain in node.xen.domains:
            alive = domain.pid is not None and guests.is_guest(domain.pid, lab_id, node.name, domain.name)
            process = f"PID {domain.pid}" if alive else "none (simulated only)"
            lines.append(f"  {domain.name:<12} {node.name:<10} {process}")
    if len(lines) == first_domain:
        lines.append("  (none running)")
    return lines
