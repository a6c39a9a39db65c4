"""Leases on disk: atomic, durable, epochs only grow, corruption is an error; and the lease algebra."""

import fcntl
import os
import threading
from pathlib import Path

import pytest

from reconciler.arbiter.lease import (
    LOCK_NAME,
    CorruptLease,
    EpochConflict,
    EpochRegression,
    Lease,
    LeaseStore,
    NotHolder,
    SteadyClock,
    acquire,
    adopt_peer,
    release,
    renew,
)

NOW = 1_700_000_000.0


def test_absent_lease_is_nobody_at_epoch_zero(tmp_path: Path) -> None:
    assert LeaseStore(tmp_path).load("web") == Lease(app="web", holder=None, epoch=0)
    assert LeaseStore(tmp_path / "not" / "yet").load("web") == Lease(app="web")


def test_round_trip(tmp_path: Path) -> None:
    store = LeaseStore(tmp_path)
    lease = acquire(Lease(app="web"), "alpha", NOW, 10.0)
    assert store.save(lease) is True
    assert store.load("web") == lease
    assert store.save(lease) is False  # unchanged: not rewritten
    assert sorted(entry.name for entry in tmp_path.iterdir()) == [LOCK_NAME, "web.lease"]


def test_open_ended_and_released_leases_round_trip(tmp_path: Path) -> None:
    store = LeaseStore(tmp_path / "leases")
    taken = acquire(Lease(app="web", epoch=4), "beta", NOW, None)
    store.save(taken)
    assert store.load("web").open_ended
    store.save(release(taken))
    assert store.load("web") == Lease(app="web", epoch=5)


def test_a_lower_epoch_is_refused_and_the_file_kept(tmp_path: Path) -> None:
    store = LeaseStore(tmp_path)
    store.save(Lease(app="web", holder="alpha", epoch=7, granted_at=NOW, expires_at=NOW + 5))
    before = store.path("web").read_bytes()
    with pytest.raises(EpochRegression) as caught:
        store.save(Lease(app="web", holder="beta", epoch=6, granted_at=NOW, expires_at=NOW + 5))
    assert caught.value.on_disk == 7 and caught.value.written == 6
    assert str(store.path("web")) in str(caught.value)
    assert store.path("web").read_bytes() == before


def test_one_epoch_has_one_holder(tmp_path: Path) -> None:
    store = LeaseStore(tmp_path)
    store.save(Lease(app="web", holder="alpha", epoch=2, granted_at=NOW, expires_at=NOW + 5))
    with pytest.raises(EpochConflict):
        store.save(Lease(app="web", holder="beta", epoch=2, granted_at=NOW, expires_at=NOW + 5))
    # Renewing (same holder) and releasing (nobody) keep the epoch and are fine.
    store.save(Lease(app="web", holder="alpha", epoch=2, granted_at=NOW + 1, expires_at=NOW + 6))
    store.save(Lease(app="web", epoch=2))
    with pytest.raises(EpochConflict):  # a new holder after a release needs epoch + 1
        store.save(Lease(app="web", holder="beta", epoch=2, granted_at=NOW, expires_at=NOW + 5))
    store.save(acquire(store.load("web"), "beta", NOW, 5.0))
    assert store.load("web").epoch == 3


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b"", "Invalid JSON"),
        (b"{not json", "Invalid JSON"),
        (b'{"app": "web", "epoch": -1}', "epoch"),
        (b'{"app": "web", "epoch": 1, "colour": "red"}', "colour"),
        (b'{"app": "db", "epoch": 1}', "lease of 'db'"),
        (b'{"app": "web", "epoch": 1, "expires_at": 5.0}', "without a holder"),
        (b"\xff\xfe", "Invalid JSON"),
    ],
)
def test_a_corrupt_file_is_an_error_naming_it(tmp_path: Path, content: bytes, detail: str) -> None:
    store = LeaseStore(tmp_path)
    store.path("web").write_bytes(content)
    with pytest.raises(CorruptLease) as caught:
        store.load("web")
    assert caught.value.path == store.path("web")
    assert str(store.path("web")) in str(caught.value) and detail in str(caught.value)
    with pytest.raises(CorruptLease):  # never overwritten as if it were epoch 0
        store.save(acquire(Lease(app="web"), "alpha", NOW, 5.0))
    assert store.path("web").read_bytes() == content


def test_two_stores_on_one_directory_see_each_others_writes(tmp_path: Path) -> None:
    first, second = LeaseStore(tmp_path), LeaseStore(tmp_path)
    first.save(acquire(first.load("web"), "alpha", NOW, 5.0))
    seen = second.load("web")
    assert (seen.holder, seen.epoch) == ("alpha", 1)
    second.save(acquire(release(seen), "beta", NOW, 5.0))
    assert (first.load("web").holder, first.load("web").epoch) == ("beta", 2)
    with pytest.raises(EpochConflict):  # first's stale read-modify-write loses
        first.save(acquire(Lease(app="web", epoch=1), "gamma", NOW, 5.0))


def test_save_waits_for_the_directory_lock(tmp_path: Path) -> None:
    store = LeaseStore(tmp_path)
    store.save(Lease(app="web"))
    fd = os.open(tmp_path / LOCK_NAME, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    done = threading.Event()

    def write() -> None:
        store.save(acquire(Lease(app="web"), "alpha", NOW, 5.0))
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert not done.wait(0.3), "save wrote while another holder had the lock"
        assert store.load("web").holder is None
    finally:
        os.close(fd)
    writer.join(5)
    assert done.is_set() and store.load("web").holder == "alpha"


def test_the_file_is_written_atomically_and_leaves_no_temporary(tmp_path: Path) -> None:
    store = LeaseStore(tmp_path)
    for epoch in range(1, 6):
        store.save(Lease(app="web", holder=f"node{epoch}", epoch=epoch, granted_at=NOW, expires_at=NOW + 1))
    assert sorted(entry.name for entry in tmp_path.iterdir()) == [LOCK_NAME, "web.lease"]
    assert oct(store.path("web").stat().st_mode & 0o777) == oct(0o644)


@pytest.mark.parametrize("name", ["", "../web", "a/b", ".hidden"])
def test_an_application_name_that_is_no_file_name_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError):
        LeaseStore(tmp_path).path(name)


def test_acquire_bumps_the_epoch_only_when_the_holder_changes() -> None:
    first = acquire(Lease(app="web", epoch=3), "alpha", NOW, 10.0)
    assert (first.holder, first.epoch, first.granted_at, first.expires_at) == ("alpha", 4, NOW, NOW + 10)
    again = acquire(first, "alpha", NOW + 2, 10.0)
    assert (again.epoch, again.expires_at) == (4, NOW + 12)
    other = acquire(again, "beta", NOW + 3, 10.0)
    assert (other.holder, other.epoch) == ("beta", 5)
    with pytest.raises(ValueError):
        acquire(first, "alpha", NOW, 0.0)


def test_renew_is_for_the_holder_only() -> None:
    lease = acquire(Lease(app="web"), "alpha", NOW, 10.0)
    assert renew(lease, "alpha", NOW + 5, 10.0).expires_at == NOW + 15
    with pytest.raises(NotHolder):
        renew(lease, "beta", NOW + 5, 10.0)
    with pytest.raises(NotHolder):
        renew(release(lease), "alpha", NOW + 5, 10.0)


def test_release_keeps_the_epoch_and_drops_the_times() -> None:
    lease = acquire(Lease(app="web", epoch=8), "alpha", NOW, 10.0)
    assert release(lease) == Lease(app="web", holder=None, epoch=9)


def test_remaining() -> None:
    assert acquire(Lease(app="web"), "alpha", NOW, 10.0).remaining(NOW + 4) == 6.0
    assert acquire(Lease(app="web"), "alpha", NOW, None).remaining(NOW + 4) == float("inf")
    assert Lease(app="web", epoch=3).remaining(NOW) == 0.0


def test_adopt_peer_takes_higher_epochs_only() -> None:
    mine = acquire(Lease(app="web", epoch=4), "alpha", NOW, 10.0)  # epoch 5
    assert adopt_peer(mine, 7, "beta", "beta") == Lease(app="web", holder="beta", epoch=7)
    assert adopt_peer(mine, 5, "beta", "beta") == mine  # same epoch, another holder: keep ours
    assert adopt_peer(mine, 3, None, "beta") == mine  # lower: epochs only grow
    assert adopt_peer(mine, 5, None, "beta") == mine  # the peer cannot release our lease


def test_adopt_peer_takes_the_peers_release_of_its_own_lease() -> None:
    theirs = Lease(app="web", holder="beta", epoch=5)
    assert adopt_peer(theirs, 5, None, "beta") == Lease(app="web", epoch=5)


def test_steady_clock_follows_the_monotonic_clock_not_wall_clock_steps() -> None:
    wall = iter([NOW, NOW - 3600.0])
    ticks = iter([100.0, 100.5, 102.0])
    clock = SteadyClock(wall=lambda: next(wall), monotonic=lambda: next(ticks))
    assert clock.now() == NOW + 0.5
    assert clock.now() == NOW + 2.0  # the wall clock stepping back an hour changes nothing
