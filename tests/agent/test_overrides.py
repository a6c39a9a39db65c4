"""Operator overrides: serials grow, the newer of two nodes' words wins, the file round-trips."""

from pathlib import Path

import pytest

from reconciler.agent.overrides import FailedStore, OverrideError, Overrides, OverrideStore, command
from reconciler.arbiter.placement import Override


def test_each_command_takes_a_higher_serial() -> None:
    first = command(Overrides(), "xapache", stopped=True)
    second = command(first, "xapache", stopped=False, desired_node="centos5s2")
    assert first.of("xapache").serial == 1 and first.of("xapache").stopped
    assert second.of("xapache") == Override(serial=2, desired_node="centos5s2")


def test_the_newer_override_wins_on_both_nodes() -> None:
    here = command(Overrides(), "xapache", stopped=True)  # serial 1
    there = command(
        command(Overrides(), "xapache", maintenance=True), "xapache", maintenance=False
    )  # serial 2
    merged_here = here.merged(there.apps)
    merged_there = there.merged(here.apps)
    assert merged_here == merged_there
    assert merged_here.of("xapache").serial == 2 and not merged_here.of("xapache").stopped


def test_a_peer_without_overrides_adds_nothing() -> None:
    assert Overrides().merged({"xapache": Override()}) == Overrides()


def test_the_store_round_trips_and_refuses_a_damaged_file(tmp_path: Path) -> None:
    store = OverrideStore(tmp_path)
    assert store.load() == Overrides()
    saved = command(Overrides(), "xapache", desired_node="centos5s2")
    store.save(saved)
    assert store.load() == saved
    assert (tmp_path / "overrides.json").stat().st_mode & 0o077 == 0
    (tmp_path / "overrides.json").write_text("{not json")
    with pytest.raises(OverrideError, match=r"overrides\.json"):
        store.load()


def test_failed_applications_survive_a_restart_and_a_damaged_file_is_an_error(tmp_path: Path) -> None:
    store = FailedStore(tmp_path)
    assert store.load() == set()
    store.save({"xapache", "mysql"})
    assert FailedStore(tmp_path).load() == {"xapache", "mysql"}
    (tmp_path / "failed.json").write_text('{"xapache": true}')
    with pytest.raises(OverrideError, match="not a list"):
        store.load()
