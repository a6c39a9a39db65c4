"""Failover time on the lab with the default settings (heartbeat 200ms, dead time 1s), and false
takeovers under load. Needs root (it builds a lab); run by `make bench`.

1. A lab from the seed's manifests; xapache built on both nodes; both agents started.
2. RUNS times: power off the node running apache (`lab kill`: every process SIGKILLed, links
   down) and time until apache's guest runs on the other node; then power that node on again
   with its agent and wait until DRBD is back in sync, so that the next run fails over back.
3. LOAD_SECONDS with a busy loop on every core and both nodes healthy: takeovers counted from
   the agents' decision logs (the target is none), and the lab's invariant checker consulted.
"""

import json
import multiprocessing
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from reconciler.lab import agents, failover, invariants
from reconciler.lab import lab as labs
from reconciler.lab.inventory import Lab, open_lab

REPO = Path(__file__).resolve().parent.parent
MANIFESTS = REPO / "manifests"
DOMAIN = "apache"
RESOURCES = ["xapache-lv01"]
RUNS = 10
LOAD_SECONDS = 30.0
HEADER = ("measure", "value")


def _busy(stop_at: float) -> None:
    while time.time() < stop_at:
        pass


def _takeovers(lab: Lab) -> int:
    count = 0
    for record in lab.inventory.nodes:
        path = agents.log_path(lab, record.name)
        for line in path.read_text().splitlines() if path.exists() else []:
            try:
                count += json.loads(line).get("what") == "take-over"
            except ValueError:
                continue
    return count


def _under_load(lab: Lab) -> tuple[int, str]:
    before = _takeovers(lab)
    owner = failover.owner(lab, DOMAIN)
    stop_at = time.time() + LOAD_SECONDS
    workers = [multiprocessing.Process(target=_busy, args=(stop_at,)) for _ in range(os.cpu_count() or 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    moved = "stayed" if failover.owner(lab, DOMAIN) == owner else "MOVED"
    return _takeovers(lab) - before, moved


def measure(lab: Lab) -> list[tuple[str, str]]:
    failover.build(lab, MANIFESTS)
    for record in lab.inventory.nodes:
        agents.start(lab, record.name, MANIFESTS)
    failover.wait_for("apache running under the agents", lambda: failover.owner(lab, DOMAIN) is not None, 60)
    time.sleep(3)  # both agents hear each other and hold their leases
    times, kills = [], []
    for run in range(RUNS):
        result = failover.failover(lab, DOMAIN)
        times.append(result.seconds)
        kills.append(result.kill_seconds)
        print(
            f"  run {run + 1}: {result.victim} off -> running on {result.survivor} in {result.seconds:.2f}s"
        )
        failover.recover(lab, result.victim, MANIFESTS, RESOURCES)
        time.sleep(2)  # contact again: the returning node's leases and views settle
    spurious, moved = _under_load(lab)
    violations = invariants.violations(lab)
    return [
        ("failover runs", str(len(times))),
        ("failover median (s)", f"{statistics.median(times):.2f}"),
        ("failover max (s)", f"{max(times):.2f}"),
        ("failover min (s)", f"{min(times):.2f}"),
        ("of which power-off, median (s)", f"{statistics.median(kills):.2f}"),
        (f"takeovers in {LOAD_SECONDS:.0f}s of full CPU load", str(spurious)),
        ("application under load", moved),
        ("invariant violations (two Primaries/domains)", str(len(violations))),
    ]


def main() -> list[tuple[str, str]]:
    if os.geteuid() != 0:
        return [("skipped", "needs root (the lab)")]
    root = Path(tempfile.mkdtemp(prefix="bench-failover-"))
    lab_id = "b" + secrets.token_hex(3)
    try:
        labs.up(MANIFESTS, root, lab_id)
        return measure(open_lab(root, lab_id))
    finally:
        labs.down(root, lab_id)
        root.rmdir()


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(REPO))
    from bench.table import print_table

    print_table("failover on the lab (default settings)", HEADER, main())
