"""The simulated two-node cluster: nodes, the links between them, a virtual clock, injected faults.

Everything is JSON. `Cluster.save(root)` writes `root/cluster.json` (links, clock, resyncs,
faults) and one `root/<node>/node.json` per node, each written atomically (temporary file, fsync,
rename). A stand-in executable changes the state with `transaction(root)`, which holds an
exclusive lock on `root/.lock` from the read to the write, so that two processes never
interleave their read-modify-write.
"""

import contextlib
import fcntl
import ipaddress
import json
import os
import tempfile
import time
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

from pydantic import Field, model_validator

from reconciler.lab.sim import drbd, drbd_disk
from reconciler.lab.sim.model import DrbdResource, SimInterface, SimModel, SimNode, Sync
from reconciler.observe.drbd.states import Role

CLUSTER_FILE = "cluster.json"
NODE_FILE = "node.json"
LOCK_FILE = ".lock"


class SimLink(SimModel):
    """A network between the nodes: which interface of each node is on it, and whether it works."""

    name: str
    up: bool = True
    interfaces: dict[str, str] = Field(default_factory=dict)  # node name -> interface name


class FaultKind(StrEnum):
    FAIL = "fail"  # exits with `exit_code` and `stderr`, changing nothing
    HANG = "hang"  # never returns: the caller's timeout passes and the result is TIMEOUT


class Fault(SimModel):
    """Commands whose argv starts with `argv` (on `node`, or on any node) fail or hang, `times`
    times (-1: every time). The argv of file reads is ("<read>", path); of TCP connections
    ("<tcp>", address, port)."""

    argv: list[str]
    kind: FaultKind = FaultKind.FAIL
    node: str | None = None
    times: int = 1
    exit_code: int = 1
    stderr: str = "lab: injected failure"


class CrashPoint(StrEnum):
    BEFORE = "before"  # the N-th state-changing command does not run
    AFTER = "after"  # it runs, then the caller dies before it sees the result


class Crash(SimModel):
    """Raise `SimCrashed` at the `at`-th state-changing command (counted from when it was set)."""

    at: int
    point: CrashPoint = CrashPoint.AFTER
    node: str | None = None
    seen: int = 0


class Violation(SimModel):
    """A moment when the safety invariant did not hold: a resource Primary on both nodes, or a
    domain running on both (DESIGN.md, safety invariant 1)."""

    clock: float
    wall: float  # time.time(), to line it up with the agents' logs
    what: str


class Cluster(SimModel):
    nodes: list[SimNode]
    links: list[SimLink] = Field(default_factory=list)
    clock: float = 0.0
    syncs: list[Sync] = Field(default_factory=list)
    faults: list[Fault] = Field(default_factory=list)
    crash: Crash | None = None
    actions: list[str] = Field(default_factory=list)  # every state-changing command, "node: argv"
    # Per resource, whether its replication path carries traffic, as the network lab measures it
    # over real connections (replication.py); None in the pure simulator, where the links decide.
    paths: dict[str, bool] | None = None
    violations: list[Violation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _two_nodes(self) -> "Cluster":
        names = [n.name for n in self.nodes]
        if len(names) != 2 or names[0] == names[1]:
            raise ValueError(f"a lab cluster has two nodes with different names, not {names}")
        return self

    # --- lookups -----------------------------------------------------------------------------

    def node(self, name: str) -> SimNode:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"no node {name!r} in the lab cluster")

    def peer(self, node: SimNode) -> SimNode:
        return next(n for n in self.nodes if n.name != node.name)

    def link(self, name: str) -> SimLink:
        for link in self.links:
            if link.name == name:
                return link
        raise KeyError(f"no link {name!r} in the lab cluster")

    def carrier(self, node: SimNode, iface: SimInterface) -> bool:
        """An interface on a link has a carrier while the link is up and the other end is on."""
        for link in self.links:
            if link.interfaces.get(node.name) == iface.name:
                other = self.peer(node)
                other_if = other.interface(link.interfaces.get(other.name, ""))
                return link.up and other.powered and other_if is not None and other_if.up
        return True

    def links_between(self, node: SimNode) -> list[SimLink]:
        """The links that carry traffic from `node` to its peer now."""
        peer = self.peer(node)
        if not (node.powered and peer.powered):
            return []
        working = []
        for link in self.links:
            mine, theirs = (
                node.interface(link.interfaces.get(node.name, "")),
                peer.interface(link.interfaces.get(peer.name, "")),
            )
            if link.up and mine is not None and mine.up and theirs is not None and theirs.up:
                working.append(link)
        return working

    def reachable(self, node: SimNode, res: DrbdResource) -> bool:
        """DRBD's replication path: the link of the interface that holds the resource's address
        (any working link when the resource file gave none)."""
        working = self.links_between(node)
        if self.paths is not None and not self.paths.get(res.name, False):
            return False
        if res.address is None:
            return bool(working)
        iface = holder(node, res.address)
        return iface is not None and any(link.interfaces.get(node.name) == iface.name for link in working)

    # --- events ------------------------------------------------------------------------------

    def tick(self, seconds: float) -> None:
        """Let virtual time pass: resyncs progress, domains asked to shut down finish."""
        self.clock += seconds
        drbd.advance(self, seconds)
        for node in self.nodes:
            for domain in list(node.xen.domains):
                due = domain.shutdown_at
                if (
                    due is not None
                    and domain.shutdown_seconds is not None
                    and due + domain.shutdown_seconds <= self.clock
                ):
                    node.xen.domains.remove(domain)

    def write(self, node: str, resource: str, nbytes: int) -> None:
        """An application writes to a resource that is Primary on `node` (see `drbd.write`)."""
        res = self.node(node).drbd.resource(resource)
        if res is None or res.role is not Role.PRIMARY:
            raise ValueError(f"{resource} is not Primary on {node}: nothing can write to it")
        drbd.write(self, self.node(node), res, nbytes)

    def fail_disk(self, node: str, resource: str) -> str:
        """The backing device of `resource` (or the device path given) on `node` breaks; DRBD
        detaches it (see `drbd_disk`). Returns the device."""
        return drbd_disk.fail_disk(self, self.node(node), resource)

    def repair_disk(self, node: str, resource: str) -> str:
        """The device works again; `drbdadm attach` (or adjust) brings it back. Returns it."""
        return drbd_disk.repair_disk(self, self.node(node), resource)

    def audit(self) -> list[Violation]:
        """Record (and return) what breaks invariant 1 now; every change goes through a
        transaction, which audits after it, so no moment escapes."""
        found = []
        on = [n for n in self.nodes if n.powered]
        for name in sorted({r.name for n in on for r in n.drbd.resources}):
            holders = [
                n.name for n in on if (r := n.drbd.resource(name)) is not None and r.role is Role.PRIMARY
            ]
            if len(holders) > 1:
                found.append(f"DRBD resource {name} is Primary on {' and '.join(holders)}")
        for name in sorted({d.name for n in on for d in n.xen.domains}):
            runners = [n.name for n in on if n.xen.domain(name) is not None]
            if len(runners) > 1:
                found.append(f"domain {name} runs on {' and '.join(runners)}")
        new = [Violation(clock=self.clock, wall=time.time(), what=w) for w in found]
        known = {v.what for v in self.violations[-len(found) :]} if found else set()
        self.violations.extend(v for v in new if v.what not in known)
        return new

    def measure(self, paths: dict[str, bool] | None) -> None:
        """Take the replication paths measured now (see `paths`); connections follow them."""
        self.paths = paths
        drbd.settle(self)

    def set_link(self, name: str, up: bool) -> None:
        self.link(name).up = up
        drbd.settle(self)

    def power_off(self, name: str) -> None:
        """Pull the plug: domains, mounts, DRBD and runtime addresses are gone; the peer notices."""
        node = self.node(name)
        node.powered = False
        node.xen.domains.clear()
        node.mounts = [m for m in node.mounts if m.base]
        for iface in node.interfaces:
            iface.addresses = [a for a in iface.addresses if a.permanent]
        drbd.power_off(self, node)

    def power_on(self, name: str) -> None:
        node = self.node(name)
        node.powered = True
        node.load.boot_time += max(self.clock, 1.0)
        node.drbd.loaded = node.drbd.load_at_boot and node.drbd.installed
        drbd.settle(self)

    # --- persistence -------------------------------------------------------------------------

    def save(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        for node in self.nodes:
            save_node(node, root / node.name)
        rest = self.model_dump(mode="json", exclude={"nodes"})
        rest["node_names"] = [n.name for n in self.nodes]
        _write_atomic(root / CLUSTER_FILE, json.dumps(rest, indent=2) + "\n")

    @classmethod
    def load(cls, root: Path) -> "Cluster":
        rest = _read_json(root / CLUSTER_FILE)
        names = rest.pop("node_names")
        if not isinstance(names, list):
            raise ValueError(f"{root / CLUSTER_FILE}: no list of node names")
        nodes = [load_node(root / name) for name in names]
        return cls.model_validate({**rest, "nodes": nodes})


def holder(node: SimNode, address: str) -> SimInterface | None:
    """The interface of `node` that has `address` (an IP, with or without a prefix)."""
    wanted = ipaddress.ip_interface(address).ip
    for iface in node.interfaces:
        if any(ipaddress.ip_interface(a.cidr).ip == wanted for a in iface.addresses):
            return iface
    return None


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _read_json(path: Path) -> dict[str, object]:
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a JSON object")
    return data


def save_node(node: SimNode, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    _write_atomic(directory / NODE_FILE, node.model_dump_json(indent=2))


def load_node(directory: Path) -> SimNode:
    return SimNode.model_validate_json((directory / NODE_FILE).read_text())


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """An exclusive lock on `directory` (a `.lock` file in it), held for the `with` block."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / LOCK_FILE, "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def transaction(root: Path) -> Iterator[Cluster]:
    """Read the cluster under the lock, let the block change it, write it back (not on error)."""
    with locked(root):
        cluster = Cluster.load(root)
        yield cluster
        cluster.audit()
        cluster.save(root)
