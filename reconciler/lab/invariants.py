"""The lab's invariant checker: was an application ever active on both nodes at once?

Every change of the lab's simulated cluster goes through one transaction, which audits the
state after the change (`Cluster.audit`): a DRBD resource Primary on both powered nodes, or a
domain running on both, is recorded with the virtual and the wall clock. `violations` reads that
record; the tests call it after every lab test, and `lab check` shows it.

The nodes' journals are read beside it, to say what each node's last commands on the resources
and domains were, which is what one needs to see how it came to that.
"""

import json

from reconciler.lab.inventory import Lab
from reconciler.lab.sim.state import Cluster, Violation
from reconciler.lab.simstate import has_sim, sim_dir

WATCHED = (("drbdadm", "primary"), ("drbdadm", "secondary"), ("xm", "create"), ("xl", "create"))


def violations(lab: Lab) -> list[Violation]:
    if not has_sim(lab.dir):
        return []
    return Cluster.load(sim_dir(lab.dir)).violations


def last_commands(lab: Lab, node: str, count: int = 5) -> list[str]:
    """The node's last promotions, demotions and domain starts, from its journal."""
    path = lab.state_dir(node) / "journal.jsonl"
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return []
    found = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut by a power-off
        argv = tuple(record.get("argv") or ())
        if record.get("phase") == "do" and any(argv[: len(w)] == w for w in WATCHED):
            found.append(f"{record.get('start')} {node}: {' '.join(argv)} -> {record.get('outcome')}")
    return found[-count:]


def report(lab: Lab) -> str:
    found = violations(lab)
    lines = [f"{v.wall:.3f} (lab clock {v.clock:.1f}s): {v.what}" for v in found]
    if found:
        for record in lab.inventory.nodes:
            lines += last_commands(lab, record.name)
    return "\n".join(lines) if lines else "no violation: never two Primaries, never two running domains"
