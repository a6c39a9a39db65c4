"""Heartbeat wire format and replay guard: what is accepted, and why each forgery is refused."""

import hashlib
import hmac
import json

import pytest

from reconciler.arbiter.heartbeat import (
    MAC_SIZE,
    MAX_DATAGRAM,
    WIRE_PREFIX,
    AppView,
    Heartbeat,
    Reason,
    Rejected,
    ReplayGuard,
    decode,
    encode,
)

KEY = b"a shared secret of the two nodes"
NOW = 1_700_000_000.0


def _hb(seq: int = 1, boot: str = "boot-1", sent_at: float = NOW, **changes: object) -> Heartbeat:
    fields: dict[str, object] = {
        "cluster": "lab",
        "sender": "alpha",
        "receiver": "beta",
        "network": "public",
        "boot_id": boot,
        "seq": seq,
        "sent_at": sent_at,
        "applications": {
            "xapache": AppView(
                running=True,
                lease_epoch=7,
                lease_holder="alpha",
                lease_expires_in=2.5,
                disk="UpToDate",
                state="running",
            ),
            "idle": AppView(
                running=False,
                lease_epoch=0,
                lease_holder=None,
                lease_expires_in=None,
                disk=None,
                state="stopped",
            ),
        },
        "load": 0.25,
        "cpu_percent": 12.5,
        "maintenance": False,
    }
    fields.update(changes)
    return Heartbeat.model_validate(fields)


def _decode(data: bytes, key: bytes = KEY) -> Heartbeat:
    return decode(data, key, cluster="lab", receiver="beta", sender="alpha", network="public")


def _reason(data: bytes, key: bytes = KEY) -> Reason:
    with pytest.raises(Rejected) as caught:
        _decode(data, key)
    return caught.value.reason


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def test_round_trip() -> None:
    hb = _hb()
    data = encode(hb, KEY)
    assert _decode(data) == hb
    assert len(data) <= MAX_DATAGRAM
    assert json.loads(data[:-MAC_SIZE])["boot_id"] == "boot-1"  # compact JSON, then the MAC


def test_a_flipped_bit_in_the_mac_or_the_body_is_a_bad_mac() -> None:
    data = encode(_hb(), KEY)
    assert _reason(_flip(data, len(data) - 1)) is Reason.BAD_MAC
    assert _reason(_flip(data, len(data) - MAC_SIZE)) is Reason.BAD_MAC
    assert _reason(_flip(data, 10)) is Reason.BAD_MAC


def test_another_key_is_a_bad_mac() -> None:
    assert _reason(encode(_hb(), b"another secret of sixteen bytes")) is Reason.BAD_MAC


def test_a_body_that_is_not_json_is_refused_before_parsing_unless_authenticated() -> None:
    assert _reason(b"{not json" + bytes(MAC_SIZE)) is Reason.BAD_MAC
    assert _reason(b"short") is Reason.MALFORMED


def test_an_authenticated_but_invalid_body_is_malformed() -> None:
    def signed(fields: dict[str, object]) -> bytes:
        body = json.dumps(fields).encode()
        return body + hmac.new(KEY, WIRE_PREFIX + body, hashlib.sha256).digest()

    fields = _hb().model_dump()
    assert _decode(signed(fields)) == _hb()
    fields["applications"]["idle"]["running"] = "yes"  # strict: no coercion to True
    assert _reason(signed(fields)) is Reason.MALFORMED
    assert _reason(signed({**_hb().model_dump(), "surprise": 1})) is Reason.MALFORMED


def test_an_oversize_datagram_is_refused_before_anything() -> None:
    assert _reason(b"x" * (MAX_DATAGRAM + 1)) is Reason.TOO_LARGE


def test_encode_refuses_a_heartbeat_too_large_to_send() -> None:
    apps = {f"app{i:04d}": _hb().applications["xapache"] for i in range(200)}
    with pytest.raises(ValueError, match="exceeds"):
        encode(_hb(applications=apps), KEY)


def test_addressing_is_checked_after_authentication() -> None:
    assert _reason(encode(_hb(cluster="other"), KEY)) is Reason.WRONG_CLUSTER
    assert _reason(encode(_hb(sender="gamma"), KEY)) is Reason.WRONG_CLUSTER
    assert _reason(encode(_hb(receiver="alpha"), KEY)) is Reason.NOT_FOR_ME  # a reflection
    assert _reason(encode(_hb(network="storage"), KEY)) is Reason.NOT_FOR_ME  # moved across links


def test_the_model_is_frozen_and_strict() -> None:
    with pytest.raises(ValueError, match="frozen"):
        _hb().seq = 2  # type: ignore[misc]
    with pytest.raises(ValueError, match="extra"):
        _hb(surprise=1)
    with pytest.raises(ValueError, match="finite"):
        _hb(sent_at=float("inf"))


# Replay guard


def _admit(guard: ReplayGuard, hb: Heartbeat, now: float = NOW) -> Reason | None:
    try:
        guard.admit(hb, now)
    except Rejected as rejection:
        return rejection.reason
    return None


def test_the_same_datagram_twice_is_a_replay() -> None:
    guard = ReplayGuard()
    hb = _decode(encode(_hb(seq=5), KEY))
    assert _admit(guard, hb) is None
    assert _admit(guard, _decode(encode(hb, KEY))) is Reason.REPLAYED


def test_a_lower_or_equal_seq_of_the_same_boot_is_a_replay_and_gaps_are_fine() -> None:
    guard = ReplayGuard()
    assert _admit(guard, _hb(seq=5)) is None
    assert _admit(guard, _hb(seq=4, sent_at=NOW + 1)) is Reason.REPLAYED
    assert _admit(guard, _hb(seq=9, sent_at=NOW + 1)) is None
    assert _admit(guard, _hb(seq=9, sent_at=NOW + 2)) is Reason.REPLAYED


def test_a_rejection_changes_nothing() -> None:
    guard = ReplayGuard()
    assert _admit(guard, _hb(seq=5)) is None
    assert _admit(guard, _hb(seq=50, sent_at=NOW + 100), now=NOW) is Reason.STALE
    assert _admit(guard, _hb(seq=6, sent_at=NOW + 0.2)) is None


def test_a_new_boot_is_accepted_and_becomes_current() -> None:
    guard = ReplayGuard()
    assert _admit(guard, _hb(seq=900, boot="boot-1")) is None
    assert _admit(guard, _hb(seq=1, boot="boot-2", sent_at=NOW + 3), now=NOW + 3) is None
    assert guard.current_boot == "boot-2"


def test_a_restart_may_step_the_clock_back_within_the_tolerance() -> None:
    guard = ReplayGuard(restart_tolerance=2.0)
    assert _admit(guard, _hb(seq=1, boot="boot-1", sent_at=NOW - 10)) is None
    assert _admit(guard, _hb(seq=2, boot="boot-1", sent_at=NOW)) is None
    assert _admit(guard, _hb(seq=1, boot="boot-2", sent_at=NOW - 1.5)) is None
    assert _admit(guard, _hb(seq=1, boot="boot-3", sent_at=NOW - 5)) is Reason.REPLAYED


def test_an_older_boot_replayed_after_a_newer_one_was_seen_is_refused() -> None:
    guard = ReplayGuard()
    old = [_hb(seq=s, boot="boot-1", sent_at=NOW + s * 0.2) for s in range(1, 6)]
    assert _admit(guard, old[0], now=NOW + 0.2) is None
    assert _admit(guard, _hb(seq=1, boot="boot-2", sent_at=NOW + 1.5), now=NOW + 1.5) is None
    # Captures of boot-1 not yet seen, well within the skew window and the restart tolerance.
    for hb in old[1:]:
        assert _admit(guard, hb, now=NOW + 2) is Reason.REPLAYED
    assert guard.current_boot == "boot-2"
    assert _admit(guard, _hb(seq=2, boot="boot-2", sent_at=NOW + 1.7), now=NOW + 2) is None


def test_a_never_seen_older_boot_cannot_pass_for_a_restart() -> None:
    """A capture of boot-0 held back until boot-1 runs would otherwise retire the live boot-1."""
    guard = ReplayGuard(restart_tolerance=5.0)
    assert _admit(guard, _hb(seq=1, boot="boot-1", sent_at=NOW)) is None
    assert _admit(guard, _hb(seq=77, boot="boot-0", sent_at=NOW - 0.5)) is Reason.REPLAYED
    assert guard.current_boot == "boot-1"
    assert _admit(guard, _hb(seq=2, boot="boot-1", sent_at=NOW + 0.2)) is None


def test_sent_at_too_far_from_now_is_stale_either_way() -> None:
    guard = ReplayGuard(max_skew=30.0)
    assert _admit(guard, _hb(sent_at=NOW - 31)) is Reason.STALE
    assert _admit(guard, _hb(sent_at=NOW + 31)) is Reason.STALE
    assert _admit(guard, _hb(sent_at=NOW - 29)) is None
    assert _admit(guard, _hb(seq=2, sent_at=NOW + 29)) is None


def test_a_stale_capture_of_a_known_boot_is_stale_before_anything() -> None:
    guard = ReplayGuard(max_skew=30.0)
    assert _admit(guard, _hb(seq=1), now=NOW) is None
    assert _admit(guard, _hb(seq=2), now=NOW + 60) is Reason.STALE
