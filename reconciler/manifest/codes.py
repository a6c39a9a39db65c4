"""The stable codes of manifest rules that have a code of their own, and how a model raises one.

Most value errors are `invalid-value`; a rule listed here is reported under its own code, so a bot
(or a test) can tell it apart. A validator raises `rule_error(code, message)`; validation.py turns
the pydantic error type back into the code.
"""

from pydantic_core import PydanticCustomError

RULE_CODES: dict[str, str] = {
    "zero-duration": "a duration (timeout, interval, heartbeatInterval, PAUSE...) is zero",
    "duration-too-large": "a duration is longer than the longest one accepted (365d)",
    "size-too-large": "a size is more than 2^63-1 bytes (LVM's limit)",
    "system-mount-point": "a filesystem mounted on /, /etc, /usr, /var, /proc, /sys, /dev, /run or /boot",
    "mount-on-state-dir": "a filesystem mounted on, inside or above the cluster's state directory",
    "duplicate-pv": "a physical volume listed twice for one node",
    "pv-in-two-vgs": "a physical volume of a node claimed by two volume groups",
    "pv-is-drbd": "a DRBD device (/dev/drbdN) given as a physical volume",
    "reserved-address": "a subnet's network or broadcast address given as a node's or application's",
}


def rule_error(code: str, message: str) -> PydanticCustomError:
    """A validation error reported under `code` (one of RULE_CODES) rather than invalid-value."""
    assert code in RULE_CODES, code
    return PydanticCustomError(code, message)  # without a context, braces are not placeholders
