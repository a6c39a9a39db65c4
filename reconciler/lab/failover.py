"""Failover on the lab, as the demo, the benchmark and the tests run it.

`build` applies the manifests on both nodes until they converge (what `clbuildapp` did once per
application), `failover` powers off the node that runs a domain and measures the time until the
domain's guest runs on the other node (the agents do the rest), `recover` powers the node on
again with its agent and waits until its DRBD disk is back in sync. Times are wall-clock seconds
read by polling the lab's state every POLL seconds.
"""

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reconciler.lab import agents, guests
from reconciler.lab import node as nodes
from reconciler.lab.errors import LabError
from reconciler.lab.inventory import Lab
from reconciler.lab.sim.state import Cluster
from reconciler.lab.simstate import sim_dir
from reconciler.observe.drbd.states import ConnectionState, DiskState

POLL = 0.01
CONVERGED = "Converged: the node is as declared."
BUILD_ROUNDS = 4


@dataclass(frozen=True)
class Failover:
    victim: str
    survivor: str
    seconds: float  # power-off started -> the domain's guest runs on the survivor
    kill_seconds: float  # of which the power-off itself took


def cluster(lab: Lab) -> Cluster:
    return Cluster.load(sim_dir(lab.dir))


def owner(lab: Lab, domain: str) -> str | None:
    """The node whose guest of `domain` is alive (None: it runs nowhere)."""
    for node in cluster(lab).nodes:
        found = node.xen.domain(domain)
        if (
            found is not None
            and found.pid is not None
            and guests.is_guest(found.pid, lab.id, node.name, domain)
        ):
            return node.name
    return None


def wait_for(what: str, check: Callable[[], bool], timeout: float, poll: float = POLL) -> float:
    """Seconds until `check()` holds; LabError after `timeout`."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise LabError(f"{what}: not within {timeout:.0f}s")
        time.sleep(poll)
    return time.monotonic() - start


def build(lab: Lab, manifests: Path) -> int:
    """Apply on each node in turn until both converge; the rounds it took."""
    names = [r.name for r in lab.inventory.nodes]
    argv = [sys.executable, "-m", "reconciler", "apply", str(manifests.resolve()), "--allow-destructive"]
    for number in range(1, BUILD_ROUNDS + 1):
        outputs = [nodes.exec_in(lab, name, argv, timeout=600) for name in names]
        failed = [r for r in outputs if not r.ok]
        if failed:
            raise LabError(f"apply failed: {failed[0].describe()}\n{failed[0].stdout}")
        if all(CONVERGED in r.stdout for r in outputs):
            return number
    raise LabError(f"not converged after {BUILD_ROUNDS} rounds on each node")


def failover(lab: Lab, domain: str, timeout: float = 60.0) -> Failover:
    victim = owner(lab, domain)
    if victim is None:
        raise LabError(f"{domain} runs nowhere: nothing to fail over")
    survivor = next(r.name for r in lab.inventory.nodes if r.name != victim)
    start = time.monotonic()
    nodes.kill(lab, victim)
    killed = time.monotonic() - start
    wait_for(f"{domain} running on {survivor}", lambda: owner(lab, domain) == survivor, timeout)
    return Failover(victim=victim, survivor=survivor, seconds=time.monotonic() - start, kill_seconds=killed)


def timeline(lab: Lab, result: Failover, started_wall: float) -> list[tuple[float, str]]:
    """What the survivor's agent decided from the power-off to the domain running, with the
    seconds since the power-off, from its decision log."""
    events = [(0.0, f"{result.victim} powered off (every process SIGKILLed, links down)")]
    path = agents.log_path(lab, result.survivor)
    for line in path.read_text().splitlines() if path.exists() else []:
        try:
            record = json.loads(line)
            at = datetime.fromisoformat(record["time"]).timestamp() - started_wall
        except (ValueError, KeyError, TypeError):
            continue
        if 0 <= at <= result.seconds + 0.5:
            events.append((at, f"{result.survivor}: {record['what']}: {record['why']}"))
    events.append((result.seconds, f"the domain's guest runs on {result.survivor}"))
    return sorted(events, key=lambda event: event[0])


def in_sync(lab: Lab, node: str, resource: str) -> bool:
    """The resource is up on `node`, connected, and its disk there UpToDate."""
    host = cluster(lab).node(node)
    res = host.drbd.resource(resource)
    if res is None or res.connection is not ConnectionState.CONNECTED:
        return False
    metadata = host.drbd.metadata.get(res.backing)
    return metadata is not None and metadata.disk is DiskState.UP_TO_DATE


def recover(lab: Lab, node: str, manifests: Path, resources: list[str], timeout: float = 120.0) -> float:
    """Power `node` on, start its agent, wait until its resources are connected and UpToDate."""
    start = time.monotonic()
    nodes.start(lab, node)
    agents.start(lab, node, manifests)
    for resource in resources:

        def synced(resource: str = resource) -> bool:
            return in_sync(lab, node, resource)

        wait_for(f"{resource} in sync on {node}", synced, timeout, poll=0.2)
    return time.monotonic() - start
