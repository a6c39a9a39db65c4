"""Faults injected into a running lab: a command that fails or hangs, a domain that crashes, a
disk that fails.

Command faults are kept in the simulator's state (`Fault`), so the stand-ins of every process
in the node see them: the next commands whose argv starts with the given words fail with the
given exit code and message, or hang until the caller's timeout kills them, `times` times (or
until cleared). Only stand-in programs can be made to fail: `ip`, `ping` and lvm2's programs are
the real ones. A crash kills the domain's guest process with SIGKILL, as a guest kernel's panic
ends a domain (the hypervisor then forgets it). A failed disk is DRBD's backing device breaking:
DRBD detaches it (on-io-error detach) and the node goes Diskless until it is repaired and
attached again (sim/drbd_disk.py). A bad link loses or delays at the switch what it delivers to
a node (`switch.py`), until cleared. A power-off and a cut link are `lab kill` and
`lab partition`.
"""

import signal
from collections.abc import Sequence

from reconciler.lab import guests
from reconciler.lab.errors import LabError
from reconciler.lab.inventory import Lab
from reconciler.lab.sim.commands import TOOLS
from reconciler.lab.sim.state import Fault, FaultKind
from reconciler.lab.simsetup import REAL_PROGRAMS
from reconciler.lab.simstate import has_sim, transaction
from reconciler.lab.switch import LinkFault, apply_faults, clear_delay

EVERY_TIME = -1


def _require_sim(lab: Lab) -> None:
    if not has_sim(lab.dir):
        raise LabError(f"lab {lab.id} has no simulator (made by an older version): `lab down`, `lab up`")


def inject(lab: Lab, fault: Fault) -> None:
    """Add a command fault; refused for a node the lab lacks or a program that is real here."""
    _require_sim(lab)
    if fault.node is not None:
        lab.node(fault.node)
    program = fault.argv[0] if fault.argv else ""
    if program in REAL_PROGRAMS or program not in TOOLS:
        stand_ins = ", ".join(sorted(set(TOOLS) - REAL_PROGRAMS))
        raise LabError(f"{program!r} is not a stand-in of the lab; faults can be put on: {stand_ins}")
    with transaction(lab.dir) as cluster:
        cluster.faults.append(fault)


def command_fault(
    node: str | None,
    argv: Sequence[str],
    kind: FaultKind,
    times: int = 1,
    exit_code: int = 1,
    message: str | None = None,
) -> Fault:
    if times == 0 or times < EVERY_TIME:
        raise LabError(f"--times {times}: give a positive count, or -1 for every time")
    stderr = message if message is not None else f"lab: injected failure of {' '.join(argv)}"
    return Fault(
        argv=list(argv),
        kind=kind,
        node=node,
        times=times,
        exit_code=exit_code,
        stderr=stderr if stderr.endswith("\n") else stderr + "\n",
    )


def listed(lab: Lab) -> list[Fault]:
    """The faults still armed."""
    _require_sim(lab)
    with transaction(lab.dir) as cluster:
        return [f for f in cluster.faults if f.times != 0]


def clear(lab: Lab, node: str | None = None) -> int:
    """Remove the faults of `node` (of every node for None); how many were armed."""
    _require_sim(lab)
    with transaction(lab.dir) as cluster:
        kept = [f for f in cluster.faults if node is not None and f.node not in (None, node)]
        removed = len([f for f in cluster.faults if f.times != 0]) - len([f for f in kept if f.times != 0])
        cluster.faults = kept
    return removed


def crash_domain(lab: Lab, node: str, domain: str) -> int:
    """Kill the guest of `domain` on `node` with SIGKILL; its PID."""
    _require_sim(lab)
    lab.node(node)
    with transaction(lab.dir) as cluster:
        found = cluster.node(node).xen.domain(domain)
        pid = found.pid if found is not None else None
    if pid is None or not guests.signal_guest(pid, lab.id, node, domain, signal.SIGKILL):
        raise LabError(f"no domain {domain} runs on {node}")
    guests.wait_gone(pid, lab.id, node, domain, 5.0)
    return pid


def disk(lab: Lab, node: str, resource: str, broken: bool) -> str:
    """The backing device of `resource` on `node` fails (DRBD detaches it: Diskless), or is
    repaired (`drbdadm attach` then brings it back with a resync); the device."""
    _require_sim(lab)
    lab.node(node)
    with transaction(lab.dir) as cluster:
        try:
            return cluster.fail_disk(node, resource) if broken else cluster.repair_disk(node, resource)
        except (KeyError, ValueError) as err:
            raise LabError(str(err).strip("'\"")) from err


def describe(fault: Fault) -> str:
    where = fault.node or "every node"
    count = "every time" if fault.times < 0 else f"{fault.times} more time(s)"
    what = "hangs" if fault.kind is FaultKind.HANG else f"fails with exit code {fault.exit_code}"
    return f"{where}: '{' '.join(fault.argv)}' {what}, {count}"


def _apply_switch(lab: Lab) -> None:
    inventory = lab.inventory
    apply_faults(lab.runner, inventory.plan, lab.dir, inventory.one_way, inventory.link_faults)


def link_fault(
    lab: Lab, node: str, network: str | None, loss: float, delay_ms: float, jitter_ms: float
) -> list[LinkFault]:
    """What the switch delivers to `node` on `network` (every network for None) is lost with
    `loss` percent and delayed; replaces that link's previous fault. The faults made."""
    lab.node(node)
    if not (loss or delay_ms):
        raise LabError("give --loss and/or --delay (or --clear)")
    if jitter_ms and not delay_ms:
        raise LabError("--jitter varies a --delay: give both")
    made = [
        LinkFault(network=link.network, node=node, loss=loss, delay_ms=delay_ms, jitter_ms=jitter_ms)
        for link in lab.inventory.plan.selected_links(network)
    ]
    keys = {(f.network, f.node) for f in made}
    previous = list(lab.inventory.link_faults)
    lab.inventory.link_faults = [f for f in previous if (f.network, f.node) not in keys] + made
    lab.save()
    try:
        _apply_switch(lab)
    except LabError:
        lab.inventory.link_faults = previous  # refused (no netem): the switch is as it was
        lab.save()
        _apply_switch(lab)
        raise
    return made


def clear_link_faults(lab: Lab, node: str | None, network: str | None) -> int:
    """Remove the bad-link faults toward `node` on `network` (None: every one); how many."""
    if node is not None:
        lab.node(node)
    networks = {link.network for link in lab.inventory.plan.selected_links(network)}
    gone = [f for f in lab.inventory.link_faults if f.network in networks and node in (None, f.node)]
    lab.inventory.link_faults = [f for f in lab.inventory.link_faults if f not in gone]
    lab.save()
    _apply_switch(lab)
    for fault in gone:
        record = lab.inventory.record(fault.node)
        if fault.delay_ms and record is not None and record.running:
            link = lab.inventory.plan.selected_links(fault.network)[0]
            clear_delay(lab.runner, lab.inventory.plan, link, fault.node)
    return len(gone)
