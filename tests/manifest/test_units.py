from datetime import timedelta

import pytest
from pydantic_core import PydanticCustomError

from reconciler.manifest.units import format_duration, format_size, parse_duration, parse_rate, parse_size

GiB = 2**30


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("600s", 600), ("10m", 600), ("1h30m", 5400), ("250ms", 0.25), ("1.5s", 1.5), ("2d", 172800)],
)
def test_durations_as_admins_write_them(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("bad", [600, "600", "10 minutes", "m10", "", "1h 30m", True, None, "-5s"])
def test_duration_without_a_unit_or_malformed_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("8G", 8 * GiB),
        ("8g", 8 * GiB),
        ("8GiB", 8 * GiB),
        ("8GB", 8 * 10**9),
        ("512M", 512 * 2**20),
        ("1.5K", 1536),
        ("100B", 100),
        ("1T", 2**40),
    ],
)
def test_sizes_are_binary_like_lvm_unless_si_is_spelt_out(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("bad", [1024, "1024", "8Q", "0G", "1.3B", "G", "8 GB GB"])
def test_malformed_sizes_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_size(bad)


def test_rates() -> None:
    assert parse_rate("10M/s") == 10 * 2**20
    assert parse_rate("500K/s") == 500 * 1024
    for bad in ("10M", "10", "10M/h", 10000):
        with pytest.raises(ValueError, match="rate"):
            parse_rate(bad)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [("600s", "10m"), ("10m", "10m"), ("3600s", "1h"), ("250ms", "250ms"), ("90s", "90s")],
)
def test_durations_print_in_their_shortest_exact_form(text: str, canonical: str) -> None:
    assert format_duration(parse_duration(text)) == canonical
    assert parse_duration(canonical) == parse_duration(text)


def test_size_round_trip() -> None:
    for text in ("8G", "512M", "1K", "100B", "3T"):
        assert format_size(parse_size(text)) == text


def test_sizes_are_exact_integers_not_floats() -> None:
    # 2**53 + 1 is the first integer a float cannot hold.
    assert parse_size("9007199254740993B") == 2**53 + 1
    with pytest.raises(ValueError, match="whole number of bytes"):
        parse_size("0.1K")  # 102.4 bytes: refused, never rounded
    assert parse_size(f"{2**63 - 1}B") == 2**63 - 1


@pytest.mark.parametrize("bad", [f"{2**63}B", "8192P", "99999999999P", "9" * 5000 + "B"])
def test_sizes_past_lvms_limit_are_refused_with_their_code(bad: str) -> None:
    with pytest.raises(PydanticCustomError) as caught:
        parse_size(bad)
    assert caught.value.type == "size-too-large"


@pytest.mark.parametrize("bad", ["99999999999999999d", "366d", "9" * 5000 + "s"])
def test_durations_past_a_year_are_refused_not_overflowing(bad: str) -> None:
    with pytest.raises(PydanticCustomError) as caught:
        parse_duration(bad)
    assert caught.value.type == "duration-too-large"


@pytest.mark.parametrize("bad", ["0s", "0ms", "0.0s", "0h0m"])
def test_zero_durations_are_refused_with_their_code(bad: str) -> None:
    with pytest.raises(PydanticCustomError) as caught:
        parse_duration(bad)
    assert caught.value.type == "zero-duration"


def test_durations_are_exact_milliseconds() -> None:
    assert parse_duration("0.001s") == timedelta(milliseconds=1)
    assert parse_duration("365d") == timedelta(days=365)
    with pytest.raises(ValueError, match="whole number of milliseconds"):
        parse_duration("0.0001s")
