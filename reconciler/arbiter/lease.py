"""Leases: which node owns each application, under an epoch that only grows, kept on disk.

A `Lease` names the holder of one application and an epoch. The epoch grows by one whenever the
holder changes (a release keeps it; the next acquisition bumps it), so "who holds it" is always
answered by the higher epoch, whichever node's record it comes from (`adopt_peer`). Renewing one's
own lease keeps the epoch. `LeaseStore.save` refuses to write an epoch lower than the one on disk,
or a second holder under one epoch, re-reading the file under an `flock` so two processes cannot
interleave; a file that cannot be read as a lease is an error naming it, never "epoch 0".

Time. Every time here is wall-clock seconds (`time.time()` scale), and that is what the file
stores, because it is the only clock that means the same thing after a reboot: the monotonic
clock restarts at every boot from an arbitrary origin, so a monotonic expiry read back after a
reboot (or by another process after an agent restart, if the boot changed) is meaningless. What a
lease on disk is for: the epoch and the holder survive everything and settle the next
arbitration; the expiry matters only to an agent that restarts while its application keeps
running, to know how long it may still run it without contact. A stale expiry on disk only errs
early (the agent stops sooner), so renewals may be persisted at a lower rate than they happen.
While the agent runs, it must not read `time.time()` for leases (an NTP step would stretch or cut
them): `SteadyClock` gives wall-clock seconds anchored once at start and advanced by the
monotonic clock. A lease the peer holds is recorded without times: its expiry is reckoned from the
heartbeats (`reconciler.arbiter.decide`), never from this record.

`expires_at` None with a holder is an open-ended lease: one taken over while the peer was silent,
held until contact resumes (see `decide`).
"""

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reconciler.render.files import write_atomically

LEASE_SUFFIX = ".lease"
LOCK_NAME = ".leases.lock"


class LeaseError(Exception):
    """Base of the errors of the lease store."""


class CorruptLease(LeaseError):
    """A lease file that cannot be read as the lease of its application."""

    def __init__(self, path: Path, detail: str) -> None:
        self.path = path
        self.detail = detail
        super().__init__(f"{path}: not a valid lease ({detail}); fix or remove it by hand")


class EpochRegression(LeaseError):
    """A write that would lower the epoch on disk: epochs only grow."""

    def __init__(self, path: Path, on_disk: int, written: int) -> None:
        self.path = path
        self.on_disk = on_disk
        self.written = written
        super().__init__(f"{path}: refusing epoch {written}, the file already has epoch {on_disk}")


class EpochConflict(LeaseError):
    """A write that would give one epoch a second holder: a change of holder bumps the epoch."""

    def __init__(self, path: Path, epoch: int, on_disk: str | None, written: str | None) -> None:
        self.path = path
        super().__init__(f"{path}: epoch {epoch} is held by {on_disk}, refusing to give it to {written}")


class NotHolder(LeaseError):
    """Renewing a lease that another node holds (or nobody)."""


class Lease(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    app: str = Field(min_length=1)
    holder: str | None = Field(default=None, min_length=1)
    epoch: int = Field(default=0, ge=0)
    granted_at: float | None = Field(default=None, description="Wall clock of the last grant or renewal.")
    expires_at: float | None = Field(default=None, description="Wall clock; None: open-ended or not ours.")

    @model_validator(mode="after")
    def _times_need_a_holder(self) -> Self:
        if self.holder is None and (self.granted_at is not None or self.expires_at is not None):
            raise ValueError("a lease without a holder has no grant or expiry time")
        return self

    @property
    def open_ended(self) -> bool:
        return self.holder is not None and self.expires_at is None

    def remaining(self, now: float) -> float:
        """Seconds this record still grants its holder; 0 when held by nobody; inf when open-ended."""
        if self.holder is None:
            return 0.0
        if self.expires_at is None:
            return float("inf")
        return self.expires_at - now


def acquire(lease: Lease, node: str, now: float, duration: float | None) -> Lease:
    """`node` holds the lease from `now` for `duration` seconds (None: open-ended).

    The epoch grows by one when the holder changes (from nobody too) and stays when `node` already
    holds it, which makes this a renewal.
    """
    if duration is not None and duration <= 0:
        raise ValueError(f"a lease is granted for a positive duration, not {duration}")
    epoch = lease.epoch if lease.holder == node else lease.epoch + 1
    expires_at = None if duration is None else now + duration
    return Lease(app=lease.app, holder=node, epoch=epoch, granted_at=now, expires_at=expires_at)


def renew(lease: Lease, node: str, now: float, duration: float | None) -> Lease:
    """Extend `node`'s own lease (same epoch); `NotHolder` if `node` does not hold it."""
    if lease.holder != node:
        raise NotHolder(f"{node} cannot renew the lease of {lease.app}: it is held by {lease.holder}")
    return acquire(lease, node, now, duration)


def release(lease: Lease) -> Lease:
    """Nobody holds it; the epoch stays, so the next holder gets epoch + 1."""
    return Lease(app=lease.app, epoch=lease.epoch)


def adopt_peer(lease: Lease, peer_epoch: int, peer_holder: str | None, peer_node: str) -> Lease:
    """The local record after hearing that the peer's record of this lease is (epoch, holder).

    A higher epoch wins: the record takes it (without times: see the module docstring). At an
    equal epoch, the peer saying "nobody" where our record names the peer means the peer released
    its own lease (the only change that keeps an epoch), so the record takes that too. Otherwise
    the record stays: epochs only grow.
    """
    if peer_epoch > lease.epoch:
        return Lease(app=lease.app, holder=peer_holder, epoch=peer_epoch)
    if peer_epoch == lease.epoch and peer_holder is None and lease.holder == peer_node:
        return release(lease)
    return lease


class LeaseStore:
    """One file per application, `<directory>/<app>.lease`, holding the lease as JSON."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, app: str) -> Path:
        if not app or "/" in app or "\0" in app or app.startswith("."):
            raise ValueError(f"{app!r} cannot name a lease file")
        return self.directory / f"{app}{LEASE_SUFFIX}"

    def load(self, app: str) -> Lease:
        """The lease on disk; nobody at epoch 0 if there is none; `CorruptLease` if unreadable."""
        path = self.path(app)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return Lease(app=app)
        try:
            lease = Lease.model_validate_json(data)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise CorruptLease(path, f"{where}: {first['msg']}" if where else first["msg"]) from error
        if lease.app != app:
            raise CorruptLease(path, f"it holds the lease of {lease.app!r}")
        return lease

    def save(self, lease: Lease) -> bool:
        """Write `lease` atomically and durably; True if the file changed.

        Under the directory's lock, the file is read again: a lower epoch (`EpochRegression`), a
        second holder for its epoch (`EpochConflict`) or a corrupt file (`CorruptLease`) is refused
        and the file is left as it was.
        """
        path = self.path(lease.app)
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._locked():
            _check_successor(path, self.load(lease.app), lease)
            text = lease.model_dump_json(indent=2) + "\n"
            return write_atomically(path, text, mode=0o644, keep_previous=False)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # flock belongs to the open file description: two stores in one process exclude each
        # other too, and the kernel drops the lock with its holder, however that one exits.
        fd = os.open(self.directory / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def _check_successor(path: Path, on_disk: Lease, new: Lease) -> None:
    if new.epoch < on_disk.epoch:
        raise EpochRegression(path, on_disk.epoch, new.epoch)
    if new.epoch == on_disk.epoch and new.holder not in (on_disk.holder, None):
        raise EpochConflict(path, new.epoch, on_disk.holder, new.holder)


class SteadyClock:
    """Wall-clock seconds that never jump while the process runs.

    Anchored to the wall clock once, at construction, then advanced by the monotonic clock: an NTP
    step during the run neither stretches nor cuts a lease. Across a restart it re-anchors, which
    is what a lease on disk needs (see the module docstring).
    """

    def __init__(
        self, wall: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._monotonic = monotonic
        self._wall_origin = wall()
        self._monotonic_origin = monotonic()

    def now(self) -> float:
        return self._wall_origin + (self._monotonic() - self._monotonic_origin)
