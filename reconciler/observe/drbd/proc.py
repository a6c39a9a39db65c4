"""`/proc/drbd` of DRBD 8.0, 8.3 and 8.4 (one parse function per version family).

    version: 8.4.2 (api:1/proto:86-101)
    GIT-hash: 7ad5f8... build by root@example.com, 2013-04-10 07:45:25
     0: cs:SyncTarget ro:Primary/Secondary ds:Inconsistent/UpToDate C r-----
        ns:0 nr:178176 dw:178176 dr:0 al:104 bm:42 lo:0 pe:0 ua:0 ap:0 ep:1 wo:b oos:346112
        [=====>..............] sync'ed: 34.9% (346112/524288)K
        finish: 0:00:05 speed: 59,392 (59,392) K/sec
     2: cs:Unconfigured

8.0 prints `st:` where 8.3+ print `ro:` and has no `ep:`/`wo:`/`oos:` counters. The lines that
appear only sometimes (resync progress, `want:`, stalled resyncs, cache statistics) are listed in
`reconciler.observe.drbd.proc_lines`. Counters are KiB.

A line this parser does not know costs only the minor it belongs to: the minor is still reported
with what its other lines showed (a minor line of an unknown shape leaves its states `?`, an
unknown detail line leaves that detail unset) and the line is listed in `unrecognised`, with
`field` "minor N" (or "line" before the first minor). Only a text that is not /proc/drbd of the
family at all (no version line, another version, `st:` where `ro:` is printed, a minor listed
twice) is a `ParseError`.

How the lines map onto the common models is described in `reconciler.observe.drbd.models`.
"""

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from reconciler.observe.drbd import proc_lines as lines
from reconciler.observe.drbd.kv import KIB
from reconciler.observe.drbd.models import Connection, PeerVolume, Resource, ResyncProgress, Volume
from reconciler.observe.drbd.states import (
    ConnectionState,
    DiskState,
    Issues,
    Role,
    repl_state_from_84_cs,
)
from reconciler.observe.errors import ParseError
from reconciler.observe.facts import Fact, Unrecognised

_COUNTERS_80 = ("ns", "nr", "dw", "dr", "al", "bm", "lo", "pe", "ua", "ap")
_WRITE_ORDERING = {"n": "none", "d": "drain", "f": "flush", "b": "barrier"}
_UNIT = {"K": KIB, "M": KIB * KIB}
# Positions 2-4 of the flags column: resync paused by an after-sync dependency, peer, user.
_RESYNC_SUSPENDED = ((1, "a", "dependency"), (2, "p", "peer"), (3, "u", "user"))
_S = TypeVar("_S", bound=StrEnum)


class ProcDrbd(Fact):
    version: str
    api: str
    proto: str
    build: str | None = None
    resources: tuple[Resource, ...] = ()
    unconfigured_minors: tuple[int, ...] = ()
    unrecognised: tuple[Unrecognised, ...] = ()


@dataclass
class _Minor:
    line: int
    number: int
    cs: str
    states: dict[str, str] = field(default_factory=dict)  # role, peer_role, disk, peer_disk, flags
    configured: bool = True
    counters: dict[str, str] | None = None
    progress: re.Match[str] | None = None
    finish: re.Match[str] | None = None
    stalled: bool = False


class _ProcFormat:
    """What differs between the version families; subclasses say which family they read."""

    kind = ""
    family = ""
    role_key = "ro"
    counters: tuple[str, ...] = (*_COUNTERS_80, "ep", "wo", "oos")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.issues = Issues()
        self.unknown: list[Unrecognised] = []

    def fail(self, message: str, line: int) -> ParseError:
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else None
        return ParseError(self.kind, message, line=line, text=text)

    def parse(self) -> ProcDrbd:
        numbered = [(n, line) for n, line in enumerate(self.lines, 1) if line.strip()]
        if not numbered or (header := lines.VERSION.fullmatch(numbered[0][1].strip())) is None:
            raise self.fail("expected 'version: X (api:N/proto:N-M)'", numbered[0][0] if numbered else 1)
        version = header["version"]
        if not version.startswith(self.family):
            raise self.fail(f"DRBD {version} is not of the {self.family}x family", numbered[0][0])
        body = numbered[1:]
        build = None
        if body and lines.BUILD.fullmatch(body[0][1].strip()):
            build, body = body[0][1].strip(), body[1:]
        minors = self._minors(body)
        resources = tuple(self._resource(m) for m in minors if m.configured)
        return ProcDrbd(
            version=version,
            api=header["api"],
            proto=header["proto"],
            build=build,
            resources=resources,
            unconfigured_minors=tuple(m.number for m in minors if not m.configured),
            unrecognised=tuple(sorted((*self.issues.found(), *self.unknown), key=lambda u: u.line)),
        )

    def _minors(self, body: list[tuple[int, str]]) -> list[_Minor]:
        minors: list[_Minor] = []
        seen: set[int] = set()
        for number, line in body:
            start = lines.MINOR_START.match(line)
            if start is None:
                if minors:
                    self._detail(minors[-1], number, line)
                else:
                    self._not_understood(number, line, None)
                continue
            minor = self._minor(number, line, start)
            if minor.number in seen:
                raise self.fail(f"minor {minor.number} listed twice", number)
            seen.add(minor.number)
            minors.append(minor)
        return minors

    def _minor(self, number: int, line: str, start: re.Match[str]) -> _Minor:
        minor = _Minor(line=number, number=int(start["minor"]), cs=start["cs"])
        match = lines.MINOR.fullmatch(line)
        if match is not None and match["role"] is not None:
            if match["role_key"] != self.role_key:
                raise self.fail(f"{self.kind} prints {self.role_key}:, not {match['role_key']}:", number)
            minor.states = {k: match[k] for k in ("role", "peer_role", "disk", "peer_disk", "flags")}
            return minor
        if minor.cs == ConnectionState.UNCONFIGURED:
            minor.configured = False
            if match is None:
                self._not_understood(number, line, minor)
            return minor
        # A configured minor whose line has another shape: keep the states it still shows.
        self._not_understood(number, line, minor)
        for loose in (lines.LOOSE_ROLES.search(line), lines.LOOSE_DISKS.search(line)):
            if loose is not None:
                minor.states.update(loose.groupdict())
        return minor

    def _not_understood(self, number: int, line: str, minor: _Minor | None) -> None:
        where = "line" if minor is None else f"minor {minor.number}"
        self.unknown.append(Unrecognised(line=number, field=where, value=line.strip()))

    def _detail(self, minor: _Minor, number: int, line: str) -> None:
        """A line under a minor: its counters, resync progress, or statistics we do not model."""
        if not minor.configured or lines.ignored(line):
            if not minor.configured:
                self._not_understood(number, line, minor)
            return
        if (progress := lines.PROGRESS.fullmatch(line)) is not None:
            minor.progress = progress
            if progress["finish"]:
                minor.finish = self._finish(minor, progress["finish"], number, line)
        elif line.lstrip().startswith("finish:"):
            minor.finish = self._finish(minor, line, number, line)
        elif lines.STALLED.fullmatch(line):
            minor.stalled = True
        elif line.lstrip().startswith("ns:") and minor.counters is None:
            minor.counters = self._counters(minor, line, number)
        else:
            self._not_understood(number, line, minor)

    def _finish(self, minor: _Minor, text: str, number: int, line: str) -> re.Match[str] | None:
        finish = lines.FINISH.fullmatch(text)
        if finish is None:
            self._not_understood(number, line, minor)
        return finish

    def _counters(self, minor: _Minor, line: str, number: int) -> dict[str, str] | None:
        counters = {}
        for token in line.split():
            key, _, value = token.partition(":")
            counters[key] = value
        complete = all(key in counters for key in self.counters)
        if not complete or any(k != "wo" and not v.isdigit() for k, v in counters.items()):
            self._not_understood(number, line, minor)
            return None
        return counters

    def _resource(self, minor: _Minor) -> Resource:
        states, line = minor.states, minor.line
        if minor.counters is None:
            missing = Unrecognised(line=line, field=f"minor {minor.number}", value="no counters line")
            self.unknown.append(missing)
        # DRBD 8.3.1 printed a NUL for an unset flag (seen in ganeti's captures): read it as "-".
        flags = states.get("flags", "").replace("\x00", "-")
        cs = self.issues.state(ConnectionState, minor.cs, line=line, field="cs")
        wo = (minor.counters or {}).get("wo")
        return Resource(
            name=None,
            role=self._state(Role, states.get("role"), line, self.role_key),
            suspended=flags[0] == "s" if flags else None,
            write_ordering=None if wo is None else _WRITE_ORDERING.get(wo, wo),
            volumes=(
                Volume(
                    number=0,
                    minor=minor.number,
                    disk_state=self._state(DiskState, states.get("disk"), line, "ds"),
                    read=_kib(minor, "dr"),
                    written=_kib(minor, "dw"),
                ),
            ),
            connections=(
                Connection(
                    connection_state=cs,
                    peer_role=self._state(Role, states.get("peer_role"), line, self.role_key),
                    # Position 5 (8.3+): why the device is congested (`n` network, `b` backing device...).
                    congested=None if len(flags) < 5 else flags[4] != "-",
                    peer_volumes=(self._peer_volume(minor, cs, flags),),
                ),
            ),
        )

    def _state(self, enum: type[_S], raw: str | None, line: int, name: str) -> _S:
        """A state the minor line showed, or `?` when its line had another shape (already listed)."""
        return enum("?") if raw is None else self.issues.state(enum, raw, line=line, field=name)

    def _peer_volume(self, minor: _Minor, cs: ConnectionState, flags: str) -> PeerVolume:
        progress = _progress(minor)
        return PeerVolume(
            number=0,
            replication_state=repl_state_from_84_cs(cs),
            peer_disk_state=self._state(DiskState, minor.states.get("peer_disk"), minor.line, "ds"),
            resync_suspended=tuple(
                name for pos, char, name in _RESYNC_SUSPENDED if flags[pos : pos + 1] == char
            ),
            done_percent=None if progress is None else progress.percent,
            out_of_sync=_kib(minor, "oos"),
            sent=_kib(minor, "ns"),
            received=_kib(minor, "nr"),
            resync=progress,
        )


def _kib(minor: _Minor, key: str) -> int | None:
    value = (minor.counters or {}).get(key)
    return None if value is None else int(value) * KIB


def _progress(minor: _Minor) -> ResyncProgress | None:
    p, f = minor.progress, minor.finish
    if p is None:
        return None
    unit = _UNIT[p["unit"]]
    return ResyncProgress(
        verify=p["what"] == "verified",
        percent=float(p["percent"]),
        left=int(p["left"]) * unit,
        total=int(p["total"]) * unit,
        delay_probe=None if p["probe"] is None else int(p["probe"]),
        finish_seconds=None if f is None else int(f["h"]) * 3600 + int(f["m"]) * 60 + int(f["s"]),
        speed=None if f is None else lines.grouped(f["speed"]) * KIB,
        average_speed=None if f is None else lines.grouped(f["average"]) * KIB,
        want=None if f is None or f["want"] is None else lines.grouped(f["want"]) * KIB,
        stalled=minor.stalled or (f is not None and f["stalled"] is not None),
    )


class _Proc80(_ProcFormat):
    kind = "proc-drbd-80"
    family = "8.0."
    role_key = "st"
    counters = _COUNTERS_80


class _Proc83(_ProcFormat):
    kind = "proc-drbd-83"
    family = "8.3."


class _Proc84(_ProcFormat):
    kind = "proc-drbd-84"
    family = "8.4."


def parse_proc_drbd_80(text: str) -> ProcDrbd:
    return _Proc80(text).parse()


def parse_proc_drbd_83(text: str) -> ProcDrbd:
    return _Proc83(text).parse()


def parse_proc_drbd_84(text: str) -> ProcDrbd:
    return _Proc84(text).parse()


KINDS = {
    "proc-drbd-80": parse_proc_drbd_80,
    "proc-drbd-83": parse_proc_drbd_83,
    "proc-drbd-84": parse_proc_drbd_84,
}
