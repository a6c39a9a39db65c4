"""The arbiter's decision: for each application, what this node does now. Pure: no I/O, no clock.

Words. The peer is *heard* while some heartbeat link carried an accepted heartbeat less than
`dead_time` ago, and *dead* once it has been silent on every link for `dead_time`. *Contact* is
two-way: the peer's latest heartbeat echoes one of ours, sent `echo_age` seconds ago; the peer
received it after we sent it, so it had heard from us no earlier than `now - echo_age`.

Rules, in order (the first that applies):
1. Maintenance on either node: HOLD, nothing at all.
2. This node's monitor asked for a failover: STOP (or STAY_STOPPED) and release; the reason says
   whether the peer can take it (disk UpToDate, not failed, heard).
3. Peer heard. Both run it: the holder of the higher epoch keeps it (ties: first node by name), the
   other STOPs. Otherwise the owner is chosen by `placement.choose_owner` from the same facts on
   both nodes (override, stickiness, failback, preferred node or least load). The owner keeps it
   (RUN) or starts it, but never while the peer reports it running or holds its lease: the handover
   is "stop there, release, then acquire here" (WAIT meanwhile). The others STOP or STAY_STOPPED.
4. Peer dead. A node running it keeps it only as rule 6 allows. A node not running it TAKES_OVER
   only when: the peer has been silent for max(dead_time, lease_duration) (any lease it holds has
   ended, see below); the tie-breaker, if configured, answers; the local disk is UpToDate (unless
   `takeover: force`); fencing, if configured, SUCCEEDED (NEED_FENCING if not tried, WAIT if
   failed). Without fencing, also: the peer's latest heartbeat (since this agent started) showed it
   holding the application under an expiring lease, the only lease this node can wait out. A lease
   taken over in silence is open-ended: it is held until contact resumes.
5. Leases grow only with contact: acquiring or renewing grants `lease_duration - echo_age`, i.e.
   until `lease_duration` after the moment the peer last provably heard from us. Never on the
   tie-breaker's word alone: a heartbeat partition with the tie-breaker reachable from both sides
   would then let the holder renew while the peer waits its lease out, and both would run.
6. Self-fencing. A node running it without contact keeps it while its lease lasts, and SELF_FENCEs
   (a hard stop, then release) once less than `self_fence_margin` remains. Exceptions: an
   open-ended lease; and with fencing configured and the tie-breaker answering (or none
   configured), it keeps running, since the peer can only take over after fencing it. A node that
   has lost every link and its tie-breaker therefore always stops before its lease runs out.

No tie-breaker: a node that hears nothing cannot tell its own isolation from the peer's death. The
holder keeps running while its lease lasts and then stops; the other waits the lease out and takes
over. A partition costs an outage of about `self_fence_margin` (plus the start), never two runs.
A ping or TCP tie-breaker does not change that (both sides may reach it); it only keeps a node that
cannot reach it from taking over. The price without fencing: when the peer really dies, the
survivor takes over the peer's applications but also stops its own when their leases end (the
peer might be alive and about to wait them out) and restarts them only once it hears the peer.
Fencing lifts that price: with it, the survivor keeps its own and fences before taking the rest.

Guarantee: never RUN/TAKE_OVER on both nodes at once, whatever the links do (symmetric or one-way
partitions, delayed or lost heartbeats), provided both use the same settings, clocks run at
nearly the same rate, and the margin covers a pass interval plus the hard stop. Why: the holder's
lease ends at most `lease_duration` after the peer last heard from it (rule 5: its anchor is a
heartbeat the peer received), it stops `self_fence_margin` before that (rule 6), and the peer
starts only after `lease_duration` of silence (rule 4). After a takeover in silence, the former
holder never takes back its lapsed lease (rule 4: the peer did not hold it); the new holder's
open-ended lease, if the old holder ever hears of it, is never waited out without fencing.
Without fencing, a node that was not heard since the other's agent started, or that held nothing
when last heard, is never taken over from: availability yields to safety until contact resumes.
With fencing: a takeover happens only after the command reported the peer fenced, so a node
without contact may keep what it runs; two runs are excluded as long as fencing tells the truth.
When both nodes hear each other and are connected, DRBD refuses a second Primary as a backstop.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.arbiter.lease import Lease, acquire, adopt_peer, release
from reconciler.arbiter.placement import UP_TO_DATE, Override, Standing, choose_owner, newest, unfit
from reconciler.arbiter.views import (
    Decision,
    Facts,
    FencingState,
    LocalApp,
    LocalView,
    PeerApp,
    PeerView,
    Settings,
    Verdict,
)
from reconciler.manifest.application import PlacementSpec, Takeover


def decide(
    local: LocalView,
    peer: PeerView,
    settings: Settings,
    facts: Facts,
    placements: Mapping[str, PlacementSpec],
) -> dict[str, Decision]:
    """One decision per application of `local.apps` (placement defaults where none is given)."""
    if local.node == peer.node:
        raise ValueError(f"the peer cannot be this node ({local.node})")
    return {
        name: _decide_app(_Case.of(name, local, peer, settings, facts, placements.get(name, PlacementSpec())))
        for name in sorted(local.apps)
    }


@dataclass(frozen=True)
class _Case:
    """Everything one application's decision reads, with the derived facts computed once."""

    app: str
    me: str
    peer: str
    now: float
    mine: LocalApp
    theirs: PeerApp | None
    lease: Lease  # the local record after adopting the peer's
    override: Override
    placement: PlacementSpec
    settings: Settings
    facts: Facts
    silence: float
    echo_age: float | None
    loads: tuple[float | None, float | None]

    @classmethod
    def of(
        cls,
        app: str,
        local: LocalView,
        peer: PeerView,
        settings: Settings,
        facts: Facts,
        placement: PlacementSpec,
    ) -> "_Case":
        mine, theirs = local.apps[app], peer.apps.get(app)
        lease, override = mine.lease, mine.override
        if theirs is not None:
            lease = adopt_peer(lease, theirs.lease_epoch, theirs.lease_holder, peer.node)
            override = newest(override, theirs.override)
        return cls(
            app=app,
            me=local.node,
            peer=peer.node,
            now=local.now,
            mine=mine,
            theirs=theirs,
            lease=lease,
            override=override,
            placement=placement,
            settings=settings,
            facts=facts,
            silence=peer.silence,
            echo_age=peer.echo_age,
            loads=(local.load, peer.load),
        )

    @property
    def peer_dead(self) -> bool:
        return self.silence >= self.settings.dead_time

    @property
    def tie_breaker_ok(self) -> bool:
        return not self.settings.tie_breaker_configured or self.facts.tie_breaker_ok is True

    @property
    def own_open_ended(self) -> bool:
        """This node holds an open-ended lease: it took the application over while the peer was silent."""
        return self.lease.holder == self.me and self.lease.open_ended

    @property
    def fencing_configured(self) -> bool:
        return self.facts.fencing is not FencingState.NOT_CONFIGURED

    def grant(self) -> float | None:
        """Seconds of lease that contact allows from now (rule 5); None if not more than the margin."""
        if self.echo_age is None:
            return None
        seconds = self.settings.lease_duration - self.echo_age
        return seconds if seconds > self.settings.self_fence_margin else None

    def decision(self, verdict: Verdict, reason: str, lease: Lease | None = None) -> Decision:
        """A decision; with no lease of its own to write, the adopted record if it changed."""
        if lease is None and self.lease != self.mine.lease:
            lease = self.lease
        return Decision(app=self.app, verdict=verdict, reason=reason, lease=lease)

    def released(self) -> Lease | None:
        return release(self.lease) if self.lease.holder == self.me else None

    def standings(self) -> tuple[Standing, Standing]:
        mine = self.mine
        here = Standing(
            node=self.me, running=mine.running, disk=mine.disk, failed=mine.failed, load=self.loads[0]
        )
        there = self.theirs or PeerApp(
            running=False, lease_epoch=0, lease_holder=None, lease_expires_in=None, disk=None
        )
        peer = Standing(
            node=self.peer, running=there.running, disk=there.disk, failed=there.failed, load=self.loads[1]
        )
        return here, peer


def _decide_app(case: _Case) -> Decision:
    if case.mine.maintenance or (case.theirs is not None and case.theirs.maintenance):
        where = case.me if case.mine.maintenance else case.peer
        return Decision(app=case.app, verdict=Verdict.HOLD, reason=f"in maintenance on {where}: no action")
    if case.mine.failed:
        return _failed_here(case)
    if case.peer_dead:
        return _alone(case)
    return _together(case)


def _failed_here(case: _Case) -> Decision:
    there = case.standings()[1]
    if case.peer_dead:
        successor = f"no node can take it: {case.peer} is silent"
    elif (why_not := unfit(there)) is not None:
        successor = f"{case.peer} cannot take it over: {why_not}"
    else:
        successor = f"{case.peer} takes it over"
    verdict = Verdict.STOP if case.mine.running else Verdict.STAY_STOPPED
    return case.decision(verdict, f"the monitor asked for a failover; {successor}", case.released())


def _together(case: _Case) -> Decision:
    if case.mine.running and case.theirs is not None and case.theirs.running:
        return _both_run(case)
    choice = choose_owner(
        case.placement, case.standings(), case.lease.holder, case.override, case.settings.load_hysteresis
    )
    if case.mine.running:
        if choice.owner == case.me:
            return _keep(case, choice.reason)
        return case.decision(Verdict.STOP, f"{choice.reason}: stopping it here", case.released())
    if choice.owner != case.me:
        return case.decision(Verdict.STAY_STOPPED, choice.reason, case.released())
    return _start(case, choice.reason)


def _both_run(case: _Case) -> Decision:
    holder = case.lease.holder
    keeper = holder if holder in (case.me, case.peer) else min(case.me, case.peer)
    why = f"both nodes run it; {keeper} keeps it (lease epoch {case.lease.epoch}, holder {holder})"
    if keeper == case.me:
        return _keep(case, why)
    return case.decision(Verdict.STOP, why, case.released())


def _start(case: _Case, why: str) -> Decision:
    if case.theirs is None:
        return case.decision(Verdict.WAIT, f"{why}, once {case.peer} reports it (another manifest revision?)")
    if case.theirs.running:
        return case.decision(Verdict.WAIT, f"{why}, once {case.peer} has stopped it")
    if case.lease.holder == case.peer:
        return case.decision(
            Verdict.WAIT, f"{why}, once {case.peer} has released its lease (epoch {case.lease.epoch})"
        )
    grant = case.grant()
    if grant is None:
        return case.decision(Verdict.WAIT, f"{why}, once {case.peer} acknowledges this node's heartbeats")
    verdict = Verdict.RUN if case.lease.holder == case.me else Verdict.TAKE_OVER
    return case.decision(verdict, why, acquire(case.lease, case.me, case.now, grant))


def _keep(case: _Case, why: str) -> Decision:
    """It runs here and should: renew with contact, else run on the lease, else self-fence (rule 6)."""
    grant = case.grant()
    if grant is not None:
        return case.decision(Verdict.RUN, why, acquire(case.lease, case.me, case.now, grant))
    if case.lease.holder != case.me:
        return case.decision(
            Verdict.SELF_FENCE, f"{why}, but without a lease here and no contact to acquire one", None
        )
    if case.own_open_ended:
        return case.decision(
            Verdict.RUN, f"{why}; holds an open-ended lease taken while {case.peer} was silent"
        )
    if case.fencing_configured and case.tie_breaker_ok:
        return case.decision(
            Verdict.RUN,
            f"{why}; no contact to renew, but {case.peer} must fence this node before taking over",
        )
    left = case.lease.remaining(case.now)
    if left > case.settings.self_fence_margin:
        margin = case.settings.self_fence_margin
        return case.decision(
            Verdict.RUN, f"{why}; no contact to renew: self-fencing in {left - margin:.1f} s"
        )
    tie = ""
    if case.settings.tie_breaker_configured:
        tie = " (its tie-breaker answers)" if case.tie_breaker_ok else " nor its tie-breaker"
    return case.decision(
        Verdict.SELF_FENCE,
        f"no contact with {case.peer}{tie}: stopping before the lease ends ({max(left, 0):.1f} s left)",
        release(case.lease),
    )


def _alone(case: _Case) -> Decision:
    heard = f"{case.peer} silent on every link for {case.silence:.1f} s"
    if case.mine.running:
        if case.lease.holder == case.peer:
            return case.decision(Verdict.STOP, f"{heard}, and it took this over (epoch {case.lease.epoch})")
        return _keep(case, heard)
    for gate in (_intent, _basis, _lease_waited_out, _tie_breaker, _disk, _fencing):
        blocked = gate(case)
        if blocked is not None:
            return blocked
    verdict = Verdict.RUN if case.lease.holder == case.me else Verdict.TAKE_OVER
    forced = "" if case.mine.disk == UP_TO_DATE else f"; forced onto a {case.mine.disk} disk"
    fenced = ", fenced" if case.facts.fencing is FencingState.SUCCEEDED else ""
    return case.decision(verdict, f"{heard}{fenced}{forced}", acquire(case.lease, case.me, case.now, None))


def _intent(case: _Case) -> Decision | None:
    if case.override.stopped:
        return case.decision(Verdict.STAY_STOPPED, "stopped by the operator")
    if case.lease.holder is None and not case.placement.autostart:
        return case.decision(Verdict.STAY_STOPPED, "autostart is off and no node holds it")
    return None


def _basis(case: _Case) -> Decision | None:
    """Without fencing, only an expiring lease the peer was last seen holding can be waited out."""
    if case.fencing_configured or case.own_open_ended:
        return None
    theirs, peer = case.theirs, case.peer
    if theirs is None:
        why = f"{peer} has not reported it since this agent started, so it may be running it"
    elif theirs.lease_holder != peer:
        holder = theirs.lease_holder or "no node"
        why = f"{holder} held it when {peer} was last heard; {peer} may have taken it over since"
    elif case.lease.holder != peer:
        why = f"this node's record (epoch {case.lease.epoch}) is newer than {peer}'s last word"
    elif theirs.open_ended:
        why = f"{peer} took it over while it could not hear this node; its lease has no end to wait out"
    else:
        return None
    return case.decision(Verdict.WAIT, f"{why}: without fencing, it starts here only once {peer} is heard")


def _lease_waited_out(case: _Case) -> Decision | None:
    if case.own_open_ended:
        return None
    wait = max(case.settings.dead_time, case.settings.lease_duration)
    if case.silence >= wait:
        return None
    return case.decision(
        Verdict.WAIT,
        f"{case.peer} silent for {case.silence:.1f} s: a lease it holds may last to {wait:.1f} s of silence",
    )


def _tie_breaker(case: _Case) -> Decision | None:
    if case.tie_breaker_ok:
        return None
    return case.decision(Verdict.WAIT, "the tie-breaker does not answer: this node may be the isolated one")


def _disk(case: _Case) -> Decision | None:
    if case.mine.disk == UP_TO_DATE or case.placement.takeover is Takeover.FORCE:
        return None
    disk = case.mine.disk or "unknown"
    return case.decision(
        Verdict.WAIT, f"the local disk is {disk}, not {UP_TO_DATE} (takeover: force would risk data loss)"
    )


def _fencing(case: _Case) -> Decision | None:
    if case.own_open_ended:
        return None
    if case.facts.fencing is FencingState.NOT_TRIED:
        return case.decision(Verdict.NEED_FENCING, f"{case.peer} must be fenced before the takeover")
    if case.facts.fencing is FencingState.FAILED:
        return case.decision(Verdict.WAIT, f"fencing {case.peer} failed: no takeover until it succeeds")
    return None
