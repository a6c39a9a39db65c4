from datetime import timedelta

import pytest

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
