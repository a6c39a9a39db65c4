"""The heartbeat message, its authenticated wire format, and the replay guard.

Wire format: one UDP datagram = compact JSON of `Heartbeat` followed by a 32-byte HMAC-SHA256 over
`WIRE_PREFIX + JSON`. The prefix names the format and its version, so a MAC made with the same key
for anything else (or a later version) never verifies as a heartbeat. `decode` checks the size
first and the MAC second, with `hmac.compare_digest`, and only then parses: nothing an
unauthenticated sender writes reaches the JSON parser or pydantic.

Replay rules (`ReplayGuard`, one per peer and network, since each link carries its own sequence
and a slow link must not make a fast one's messages look old):
- `sent_at` more than `max_skew` from the receiver's clock: STALE, whatever else.
- Same boot id as the current one: the sequence number must be strictly greater than the last one
  accepted; a duplicate or an older (reordered) datagram is REPLAYED.
- A boot id already seen but no longer current: REPLAYED. The peer restarted since, so that agent
  is gone and nothing it sent can be news.
- A new boot id: accepted only if its `sent_at` is not before the current boot's first message
  and not more than `restart_tolerance` before its latest one; it then becomes current.

What an attacker who captures datagrams (but lacks the key) can do:
- Delay them: a datagram the receiver never accepted (it was lost, or held back by the attacker)
  can be delivered once, late, up to `max_skew` after it was sent. Holding back the last
  heartbeats of a peer that has died and feeding them one by one keeps it looking alive for at
  most `max_skew` longer: a takeover is delayed, never made unsafe (the `lease_expires_in` of a
  late message is relative to its sending, so it overstates the lease: the cautious side).
- Right after the receiver starts (empty guard), a capture of a previous boot of the peer, sent
  within `max_skew`, is accepted once; the current boot supersedes it at its next datagram.
- Block datagrams, which makes the peer look silent: no replay needed, and that is what leases,
  the tie-breaker and fencing are for.
What it cannot do: deliver a datagram twice, or one older than the newest accepted of its boot;
revive a boot once a newer one was seen; pass off an older boot as a restart (its `sent_at` is
before the current boot's first message) and so make the live peer look replaced and silent;
deliver anything older than `max_skew`. These hold while the peer's wall clock does not step back
across a restart by more than `restart_tolerance`, and while the two clocks agree within
`max_skew`: beyond that every datagram is STALE and the peer looks silent, so the agent must
report the STALE count.
"""

import hashlib
import hmac
from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reconciler.arbiter.placement import Override

MAX_DATAGRAM = 8 * 1024
MAC_SIZE = 32
WIRE_PREFIX = b"reconciler-heartbeat-v1\0"
DEFAULT_MAX_SKEW = 30.0
DEFAULT_RESTART_TOLERANCE = 2.0
_REMEMBERED_BOOTS = 64

Label = Annotated[str, Field(min_length=1, max_length=253)]


class Reason(StrEnum):
    """Why a datagram was not accepted; the agent reports counts per reason."""

    BAD_MAC = "bad-mac"
    MALFORMED = "malformed"
    TOO_LARGE = "too-large"
    WRONG_CLUSTER = "wrong-cluster"
    NOT_FOR_ME = "not-for-me"
    REPLAYED = "replayed"
    STALE = "stale"


class Rejected(Exception):
    """A datagram that is not an acceptable heartbeat; `reason` is for counting, `detail` for logs."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class _Message(BaseModel):
    # Strict: a peer running other code must fail loudly, not have "false" read as True.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)


class AppView(_Message):
    """What the sender knows of one application; lease times are relative, clocks need not agree."""

    running: bool
    lease_epoch: int = Field(ge=0)
    lease_holder: Label | None
    lease_expires_in: float | None = Field(
        description="Seconds from sending; None without a lease, or with an open-ended one (holder set)."
    )
    disk: str | None = Field(description="The local DRBD disk state, e.g. UpToDate; None without DRBD.")
    state: str = Field(description="Free text for operators: running, stopped, failed...")
    failed: bool = Field(default=False, description="A monitor asked for a failover away from the sender.")
    override: Override = Field(default_factory=Override, description="The operator's word, by serial.")


class Heartbeat(_Message):
    """One heartbeat: who sends it, to whom, on which network, and the sender's view."""

    cluster: Label
    sender: Label
    receiver: Label
    network: Label
    boot_id: Annotated[str, Field(min_length=1, max_length=64)]
    seq: int = Field(ge=0, description="Grows with every datagram of one boot of the sender.")
    sent_at: float = Field(description="The sender's time.time() when sending.")
    applications: dict[str, AppView] = Field(default_factory=dict)
    load: float = Field(ge=0, description="One-minute load average divided by the number of CPUs.")
    cpu_percent: float = Field(ge=0)
    maintenance: bool = False
    echo_boot: str | None = Field(
        default=None, description="The boot id of the newest heartbeat the sender accepted from the receiver."
    )
    echo_seq: int | None = Field(
        default=None, ge=0, description="Its sequence number: proves two-way contact."
    )


def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, WIRE_PREFIX + body, hashlib.sha256).digest()


def encode(hb: Heartbeat, key: bytes) -> bytes:
    """The datagram for `hb`; ValueError if it would exceed MAX_DATAGRAM (too many applications)."""
    body = hb.model_dump_json().encode()
    data = body + _mac(key, body)
    if len(data) > MAX_DATAGRAM:
        raise ValueError(f"heartbeat of {len(data)} bytes exceeds the maximum of {MAX_DATAGRAM}")
    return data


def decode(
    data: bytes,
    key: bytes,
    *,
    cluster: str,
    receiver: str,
    sender: str | None = None,
    network: str | None = None,
) -> Heartbeat:
    """Authenticate, then parse, then check the addressing of a datagram; raise `Rejected`.

    `sender` (the peer's name) and `network` (where it arrived) are checked when given: a message
    signed with our key but from another node, or replayed from one link onto another, is refused.
    """
    if len(data) > MAX_DATAGRAM:
        raise Rejected(Reason.TOO_LARGE, f"{len(data)} bytes, more than {MAX_DATAGRAM}")
    if len(data) <= MAC_SIZE:
        raise Rejected(Reason.MALFORMED, f"{len(data)} bytes, too short to carry a MAC")
    body, mac = data[:-MAC_SIZE], data[-MAC_SIZE:]
    if not hmac.compare_digest(mac, _mac(key, body)):
        raise Rejected(Reason.BAD_MAC, "MAC does not verify (forged, corrupted or another key)")
    try:
        hb = Heartbeat.model_validate_json(body)
    except ValidationError as error:
        raise Rejected(Reason.MALFORMED, f"authenticated but invalid: {error.errors()[0]['msg']}") from error
    if hb.cluster != cluster:
        raise Rejected(Reason.WRONG_CLUSTER, f"from cluster {hb.cluster!r}, this is {cluster!r}")
    if sender is not None and hb.sender != sender:
        raise Rejected(Reason.WRONG_CLUSTER, f"from node {hb.sender!r}, the peer is {sender!r}")
    if hb.receiver != receiver:
        raise Rejected(Reason.NOT_FOR_ME, f"addressed to {hb.receiver!r}, this is {receiver!r}")
    if network is not None and hb.network != network:
        raise Rejected(Reason.NOT_FOR_ME, f"sent on network {hb.network!r}, received on {network!r}")
    return hb


@dataclass
class _Boot:
    first_sent_at: float
    last_sent_at: float
    last_seq: int


class ReplayGuard:
    """Accepts each authenticated heartbeat of one peer on one link at most once (rules above).

    Pure: the caller passes the wall-clock `now`, so tests need no clock.
    """

    def __init__(
        self, max_skew: float = DEFAULT_MAX_SKEW, restart_tolerance: float = DEFAULT_RESTART_TOLERANCE
    ) -> None:
        self.max_skew = max_skew
        self.restart_tolerance = restart_tolerance
        self._boots: OrderedDict[str, _Boot] = OrderedDict()
        self._current: str | None = None

    @property
    def current_boot(self) -> str | None:
        """The peer's boot id as last accepted: a change means the peer's agent restarted."""
        return self._current

    def admit(self, hb: Heartbeat, now: float) -> None:
        """Record `hb` as accepted, or raise `Rejected` (STALE or REPLAYED) and change nothing."""
        if abs(hb.sent_at - now) > self.max_skew:
            offset = hb.sent_at - now
            raise Rejected(Reason.STALE, f"sent {offset:+.3f} s from this clock, more than {self.max_skew} s")
        seen = self._boots.get(hb.boot_id)
        if seen is not None:
            self._check_known(hb, seen)
            seen.last_seq = hb.seq
            seen.last_sent_at = max(seen.last_sent_at, hb.sent_at)
            return
        self._check_restart(hb)
        self._boots[hb.boot_id] = _Boot(hb.sent_at, hb.sent_at, hb.seq)
        self._current = hb.boot_id
        while len(self._boots) > _REMEMBERED_BOOTS:
            self._boots.popitem(last=False)

    def _check_known(self, hb: Heartbeat, seen: _Boot) -> None:
        if hb.boot_id != self._current:
            raise Rejected(Reason.REPLAYED, f"boot {hb.boot_id} was superseded by boot {self._current}")
        if hb.seq <= seen.last_seq:
            raise Rejected(Reason.REPLAYED, f"seq {hb.seq} is not above the last accepted {seen.last_seq}")

    def _check_restart(self, hb: Heartbeat) -> None:
        """A new boot id must be a restart of the peer, not a capture of an earlier boot."""
        if self._current is None:
            return
        current = self._boots[self._current]
        if hb.sent_at < current.first_sent_at:
            raise Rejected(
                Reason.REPLAYED,
                f"boot {hb.boot_id} sent at {hb.sent_at:.3f}, before the current boot "
                f"{self._current} began at {current.first_sent_at:.3f}",
            )
        if hb.sent_at < current.last_sent_at - self.restart_tolerance:
            raise Rejected(
                Reason.REPLAYED,
                f"boot {hb.boot_id} sent at {hb.sent_at:.3f}, more than {self.restart_tolerance} s "
                f"before the last message of boot {self._current} ({current.last_sent_at:.3f})",
            )
