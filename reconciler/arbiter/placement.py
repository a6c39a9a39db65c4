"""Which node should run an application while both nodes hear each other: a pure choice.

Both agents call `choose_owner` with the same two standings (each node's own, and the peer's as
its heartbeat reports it), ordered by node name, so both compute the same owner; a choice never
depends on which of the two is asking. In order:

1. The operator's override: stopped means no owner; a desired node that can run it gets it.
2. Where it runs (on exactly one node that is not failed) it stays, unless `failback: preferred`
   or `stickiness: false` moves it to the preferred node, and only if that node can run it.
3. Where it runs nowhere: the node holding its lease (a start under way, or a restart), else the
   preferred node, else the other node, if they can run it; `autostart: false` starts it nowhere
   on its own.

A node can run it when its monitor has not asked for a failover and its disk is UpToDate (a
healthy peer's data is never overridden: `takeover: force` applies only to a takeover from a dead
peer). The preferred node is the named one, or for LEAST_CPU_LOAD the less loaded one when the loads
differ by more than the hysteresis, else the node where it runs, else the first by name.
"""

from pydantic import BaseModel, ConfigDict

from reconciler.manifest.application import LEAST_CPU_LOAD, Failback, PlacementSpec
from reconciler.observe.drbd.states import DiskState

UP_TO_DATE = DiskState.UP_TO_DATE.value


class Override(BaseModel):
    """The operator's word on one application; the higher `serial` (a newer command) wins."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    serial: int = 0
    desired_node: str | None = None
    stopped: bool = False
    maintenance: bool = False  # the arbiter does nothing for it (HOLD) on both nodes


class Standing(BaseModel):
    """One node as far as one application goes, as both nodes know it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    node: str
    running: bool
    disk: str | None
    failed: bool = False
    load: float | None = None


class Choice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    owner: str | None
    reason: str


def newest(first: Override, second: Override) -> Override:
    """The override both nodes agree on: higher serial, ties broken by content (same on both)."""
    return max(first, second, key=lambda override: (override.serial, override.model_dump_json()))


def unfit(side: Standing) -> str | None:
    """Why `side` cannot run the application now; None if it can."""
    if side.failed:
        return f"the monitor on {side.node} asked for a failover"
    if side.disk != UP_TO_DATE:
        return f"the disk on {side.node} is {side.disk or 'unknown'}, not {UP_TO_DATE}"
    return None


def choose_owner(
    placement: PlacementSpec,
    sides: tuple[Standing, Standing],
    holder: str | None,
    override: Override,
    hysteresis: float,
) -> Choice:
    """The node that should run the application, or None, with the reason."""
    first, second = sorted(sides, key=lambda side: side.node)
    if override.stopped:
        return Choice(owner=None, reason="stopped by the operator")
    note = ""
    if override.desired_node is not None:
        wanted = next((side for side in (first, second) if side.node == override.desired_node), None)
        why_not = unfit(wanted) if wanted is not None else f"{override.desired_node} is not a node"
        if why_not is None:
            return Choice(
                owner=override.desired_node, reason=f"the operator wants it on {override.desired_node}"
            )
        note = f"the operator wants it on {override.desired_node}, but {why_not}; "
    running = [side for side in (first, second) if side.running and not side.failed]
    if len(running) == 1:
        choice = _stay_or_move(placement, first, second, running[0], hysteresis)
    else:
        choice = _place(placement, first, second, holder, hysteresis)
    return Choice(owner=choice.owner, reason=note + choice.reason)


def _stay_or_move(
    placement: PlacementSpec, first: Standing, second: Standing, current: Standing, hysteresis: float
) -> Choice:
    target, why = preferred(placement, first, second, current, hysteresis)
    moves = placement.failback is Failback.PREFERRED or not placement.stickiness
    if moves and target.node != current.node and unfit(target) is None:
        return Choice(owner=target.node, reason=f"moves to {target.node}, {why}")
    return Choice(owner=current.node, reason=f"stays on {current.node}, where it runs")


def _place(
    placement: PlacementSpec, first: Standing, second: Standing, holder: str | None, hysteresis: float
) -> Choice:
    by_name = {first.node: first, second.node: second}
    if holder in by_name and unfit(by_name[holder]) is None:
        return Choice(owner=holder, reason=f"starts on {holder}, which holds its lease")
    if not placement.autostart:
        return Choice(owner=None, reason="autostart is off: it starts only where the operator asks")
    target, why = preferred(placement, first, second, None, hysteresis)
    other = second if target is first else first
    target_unfit, other_unfit = unfit(target), unfit(other)
    if target_unfit is None:
        return Choice(owner=target.node, reason=f"starts on {target.node}, {why}")
    if other_unfit is None:
        return Choice(owner=other.node, reason=f"starts on {other.node}: {target_unfit}")
    return Choice(owner=None, reason=f"no node can run it: {target_unfit}; {other_unfit}")


def preferred(
    placement: PlacementSpec, first: Standing, second: Standing, current: Standing | None, hysteresis: float
) -> tuple[Standing, str]:
    """The preferred node of the two (ordered by name), and why it is preferred."""
    name = placement.preferred_node
    if name != LEAST_CPU_LOAD:
        for side in (first, second):
            if side.node == name:
                return side, "its preferred node"
        return first, f"the first node by name (the preferred node {name} is not in the cluster)"
    if first.load is None or second.load is None or abs(first.load - second.load) <= hysteresis:
        if current is not None:
            return current, "where it runs (loads within the hysteresis)"
        return first, "the first node by name (loads within the hysteresis)"
    lighter = first if first.load < second.load else second
    return lighter, f"the less loaded node ({lighter.load:.2f})"
