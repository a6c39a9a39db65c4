"""Durations, sizes and rates written the way admins write them (`600s`, `10m`, `8G`, `10M/s`).

Sizes follow LVM and DRBD, the tools they are handed to: a bare or single-letter unit is binary
(`8G` and `8g` are 8 GiB, as `lvcreate -L 8g` means), `GiB` is binary too, and only the explicit SI
spellings (`8GB`) are decimal. A number without a unit is refused for durations and rates: `600`
could be seconds or milliseconds, and the manifest is the place where that must not be guessed.
"""

import re
from datetime import timedelta
from fractions import Fraction
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

from reconciler.manifest.codes import rule_error

_DURATION_MILLIS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
MAX_DURATION = timedelta(days=365)
MAX_DURATION_MS = MAX_DURATION.days * 86_400_000
MAX_SIZE = 2**63 - 1  # bytes; LVM counts in 512-byte sectors in a signed 64-bit byte count
_MAX_DIGITS = 40
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+")
DURATION_PATTERN = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h|d))+$"

_BINARY = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40, "p": 2**50}
_SI = {"kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "pb": 10**15}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-zA-Z]*)")
SIZE_PATTERN = r"^[0-9]+(\.[0-9]+)?\s*([KMGTPkmgtp](i?[Bb])?|[Bb])?$"
RATE_PATTERN = r"^[0-9]+(\.[0-9]+)?\s*([KMGTPkmgtp](i?[Bb])?|[Bb])/s$"


def parse_duration(value: Any) -> timedelta:
    """`600s`, `10m`, `1h30m`, `250ms` -> timedelta. Bare numbers are refused (which unit?).

    Counted exactly (no float) in whole milliseconds; zero and more than MAX_DURATION are refused.
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"a duration is written like 600s, 10m or 1h30m, not {type(value).__name__}")
    if isinstance(value, int | float):
        raise ValueError(f"a duration needs a unit: write {value}s (or ms, m, h, d)")
    text = value.strip()
    if not _DURATION.fullmatch(text):
        raise ValueError(f"{value!r} is not a duration: write it like 600s, 10m, 1h30m or 250ms")
    parts = _DURATION_PART.findall(text)
    millis = sum((_exact(n, "duration-too-large") * _DURATION_MILLIS[u] for n, u in parts), Fraction(0))
    if millis > MAX_DURATION_MS:
        raise rule_error(
            "duration-too-large",
            f"{value!r} is longer than {MAX_DURATION.days}d, the longest duration accepted",
        )
    if millis.denominator != 1:
        raise ValueError(f"{value!r} is not a whole number of milliseconds")
    if millis == 0:
        raise rule_error("zero-duration", f"{value!r}: a duration must be more than zero")
    return timedelta(milliseconds=int(millis))


def _exact(number: str, code: str) -> Fraction:
    """A decimal numeral as an exact fraction; absurdly long numerals are refused before parsing."""
    if len(number) > _MAX_DIGITS:
        raise rule_error(code, f"a number of {len(number)} digits is far too large")
    return Fraction(number)


def format_duration(value: timedelta) -> str:
    """The shortest exact spelling, so that a round trip through YAML or JSON is lossless."""
    millis = round(value.total_seconds() * 1000)
    if millis % 1000:
        return f"{millis}ms"
    seconds = millis // 1000
    for unit, factor in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % factor == 0:
            return f"{seconds // factor}{unit}"
    return f"{seconds}s"


def _bytes_of(number: str, unit: str, original: str) -> int:
    key = unit.lower()
    if key.endswith("ib"):
        key = key[:-2]  # KiB, MiB, GiB: binary, like the bare letters
        factor = _BINARY.get(key) if key else None
    else:
        factor = _SI.get(key) or _BINARY.get(key)
    if factor is None:
        raise ValueError(f"{original!r}: unknown size unit {unit!r} (use K, M, G, T, P; GiB; or GB)")
    result = _exact(number, "size-too-large") * factor
    if result > MAX_SIZE:
        raise rule_error(
            "size-too-large", f"{original!r} is more than {MAX_SIZE} bytes (2^63-1), LVM's limit"
        )
    if result.denominator != 1:
        raise ValueError(f"{original!r} is not a whole number of bytes")
    return int(result)


def parse_size(value: Any) -> int:
    """`8G` (8 GiB, as lvcreate means it), `512M`, `10GiB`, `10GB` (decimal) -> bytes."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"a size is written like 8G or 512M, not {type(value).__name__}")
    if isinstance(value, int):
        raise ValueError(f"a size needs a unit: write {value}B, or {value}M, {value}G...")
    match = _SIZE.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"{value!r} is not a size: write it like 8G, 512M or 10GiB")
    number, unit = match.groups()
    if unit == "":
        raise ValueError(f"{value!r}: a size needs a unit (B, K, M, G, T)")
    size = _bytes_of(number, unit, value)
    if size <= 0:
        raise ValueError(f"{value!r}: a size must be more than zero")
    return size


def parse_rate(value: Any) -> int:
    """`10M/s` -> bytes per second (binary, as DRBD's resync-rate `10M` is 10 MiB/s)."""
    if isinstance(value, str) and value.strip().endswith("/s"):
        try:
            return parse_size(value.strip()[:-2])
        except PydanticCustomError:
            raise  # a rule with its own code (too large)
        except ValueError as err:
            raise ValueError(f"{value!r} is not a rate: write it like 10M/s or 500K/s") from err
    raise ValueError(f"{value!r} is not a rate: write it like 10M/s (bytes per second)")


def format_size(value: int) -> str:
    for unit, factor in (("P", 2**50), ("T", 2**40), ("G", 2**30), ("M", 2**20), ("K", 2**10)):
        if value % factor == 0:
            return f"{value // factor}{unit}"
    return f"{value}B"


def format_rate(value: int) -> str:
    return f"{format_size(value)}/s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "examples": ["600s", "10m", "250ms"]}),
]
"""A span of time; YAML `600s` -> timedelta(seconds=600)."""

Size = Annotated[
    int,
    BeforeValidator(parse_size),
    PlainSerializer(format_size, return_type=str),
    WithJsonSchema({"type": "string", "pattern": SIZE_PATTERN, "examples": ["8G", "512M", "10GiB"]}),
]
"""A number of bytes; YAML `8G` -> 8589934592."""

Rate = Annotated[
    int,
    BeforeValidator(parse_rate),
    PlainSerializer(format_rate, return_type=str),
    WithJsonSchema({"type": "string", "pattern": RATE_PATTERN, "examples": ["10M/s", "500K/s"]}),
]
"""Bytes per second; YAML `10M/s` -> 10485760."""
