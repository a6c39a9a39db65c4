"""`/proc/drbd` of DRBD 8.0, 8.3 and 8.4 (one parse function per version family).

    version: 8.4.2 (api:1/proto:86-101)
    GIT-hash: 7ad5f8... build by root@example.com, 2013-04-10 07:45:25
     0: cs:SyncTarget ro:Primary/Secondary ds:Inconsistent/UpToDate C r-----
        ns:0 nr:178176 dw:178176 dr:0 al:104 bm:42 lo:0 pe:0 ua:0 ap:0 ep:1 wo:b oos:346112
        [=====>..............] sync'ed: 34.9% (346112/524288)K
        finish: 0:00:05 speed: 59,392 (59,392) K/sec
     2: cs:Unconfigured

8.0 prints `st:` where 8.3+ print `ro:` and has no `ep:`/`wo:`/`oos:` counters; 8.3.8 adds
`delay_probe:` to the progress line; 8.4 adds `want:`/`(stalled)` to the speed line, `verified:`
for online verify, and a blank line before a minor that does not follow the previous one. With
the module's `proc_details` set, `resync:`/`act_log:` cache statistics and `sector pos:` lines
appear (always for 8.0); they are recognised and not modelled. Counters are KiB.

How the lines map onto the common models is described in `reconciler.observe.drbd.models`.
"""

import re
from dataclasses import dataclass, field

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

_VERSION = re.compile(r"version: (?P<version>\S+) \(api:(?P<api>[^/]+)/proto:(?P<proto>[^)]+)\)")
_BUILD = re.compile(r"(?:GIT-hash|srcversion): .*")
_MINOR = re.compile(
    r" *(?P<minor>\d+): cs:(?P<cs>\S+)"
    r"(?: (?P<role_key>st|ro):(?P<role>[^/\s]+)/(?P<peer_role>[^/\s]+)"
    r" ds:(?P<disk>[^/\s]+)/(?P<peer_disk>[^/\s]+) (?P<protocol>[A-C ]) (?P<flags>\S+))?\s*"
)
_PROGRESS = re.compile(
    r"\s*\[[=>.]*\] (?P<what>sync'ed|verified): *(?P<percent>\d+(?:\.\d+)?)%"
    r" \((?P<left>\d+)/(?P<total>\d+)\)(?P<unit>[KM])(?: delay_probe: (?P<probe>\d+))?"
    # 8.4 forgets the line break after an "M" total: finish: then follows on the same line.
    r"(?:\s*(?P<finish>finish:.*))?\s*"
)
_FINISH = re.compile(
    r"\s*finish: (?P<h>\d+):(?P<m>\d\d):(?P<s>\d\d) speed: (?P<speed>[\d,]+)"
    r" \((?:[\d,]+ -- )?(?P<average>[\d,]+)\)(?: want: (?P<want>[\d,]+))? K/sec(?P<stalled> \(stalled\))?\s*"
)
_CACHE_STATS = re.compile(
    r"\s+(?:resync|act_log): used:\d+/\d+ hits:\d+ misses:\d+ starving:\d+ "
    r"(?:dirty|locked):\d+ changed:\d+\s*"
)
_SECTOR_POS = re.compile(r"\s+\d+% sector pos: \d+/\d+(?: stop sector: \d+)?\s*")
_COUNTERS_80 = ("ns", "nr", "dw", "dr", "al", "bm", "lo", "pe", "ua", "ap")
_WRITE_ORDERING = {"n": "none", "d": "drain", "f": "flush", "b": "barrier"}
_UNIT = {"K": KIB, "M": KIB * KIB}
# Positions 2-4 of the flags column: resync paused by an after-sync dependency, peer, user.
_RESYNC_SUSPENDED = ((1, "a", "dependency"), (2, "p", "peer"), (3, "u", "user"))


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
    match: re.Match[str]
    counters: dict[str, str] = field(default_factory=dict)
    progress: re.Match[str] | None = None
    finish: re.Match[str] | None = None


class _ProcFormat:
    """What differs between the version families; subclasses say which family they read."""

    kind = ""
    family = ""
    role_key = "ro"
    counters: tuple[str, ...] = (*_COUNTERS_80, "ep", "wo", "oos")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.issues = Issues()

    def fail(self, message: str, line: int) -> ParseError:
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else None
        return ParseError(self.kind, message, line=line, text=text)

    def parse(self) -> ProcDrbd:
        numbered = [(n, line) for n, line in enumerate(self.lines, 1) if line.strip()]
        if not numbered or (header := _VERSION.fullmatch(numbered[0][1].strip())) is None:
            raise self.fail("expected 'version: X (api:N/proto:N-M)'", numbered[0][0] if numbered else 1)
        version = header["version"]
        if not version.startswith(self.family):
            raise self.fail(f"DRBD {version} is not of the {self.family}x family", numbered[0][0])
        body = numbered[1:]
        build = None
        if body and _BUILD.fullmatch(body[0][1].strip()):
            build, body = body[0][1].strip(), body[1:]
        minors, unconfigured = self._minors(body)
        return ProcDrbd(
            version=version,
            api=header["api"],
            proto=header["proto"],
            build=build,
            resources=tuple(self._resource(m) for m in minors),
            unconfigured_minors=tuple(unconfigured),
            unrecognised=self.issues.found(),
        )

    def _minors(self, body: list[tuple[int, str]]) -> tuple[list[_Minor], list[int]]:
        minors: list[_Minor] = []
        for number, line in body:
            match = _MINOR.fullmatch(line)
            if match is None:
                if not minors:
                    raise self.fail("expected a minor line ' N: cs:...'", number)
                self._detail(minors[-1], number, line)
                continue
            self._check_minor(match, number, minors)
            minors.append(_Minor(line=number, match=match))
        configured = [m for m in minors if m.match["role"] is not None]
        unconfigured = [int(m.match["minor"]) for m in minors if m.match["role"] is None]
        return configured, unconfigured

    def _check_minor(self, match: re.Match[str], number: int, minors: list[_Minor]) -> None:
        if any(int(m.match["minor"]) == int(match["minor"]) for m in minors):
            raise self.fail(f"minor {match['minor']} listed twice", number)
        if match["role"] is None and match["cs"] != ConnectionState.UNCONFIGURED:
            raise self.fail("a configured minor without roles and disk states", number)
        if match["role"] is not None and match["role_key"] != self.role_key:
            raise self.fail(f"{self.kind} prints {self.role_key}:, not {match['role_key']}:", number)

    def _detail(self, minor: _Minor, number: int, line: str) -> None:
        """A line under a minor: its counters, resync progress or cache statistics."""
        if minor.match["role"] is None:
            raise self.fail("detail line under an unconfigured minor", number)
        if _CACHE_STATS.fullmatch(line) or _SECTOR_POS.fullmatch(line):
            return
        if (progress := _PROGRESS.fullmatch(line)) is not None:
            minor.progress = progress
            if progress["finish"]:
                minor.finish = self._finish(progress["finish"], number)
        elif line.lstrip().startswith("finish:"):
            minor.finish = self._finish(line, number)
        elif line.lstrip().startswith("ns:") and not minor.counters:
            minor.counters = self._counters(line, number)
        else:
            raise self.fail("not a /proc/drbd detail line", number)

    def _finish(self, text: str, number: int) -> re.Match[str]:
        if (finish := _FINISH.fullmatch(text)) is None:
            raise self.fail("expected 'finish: H:MM:SS speed: N (N) K/sec'", number)
        return finish

    def _counters(self, line: str, number: int) -> dict[str, str]:
        counters = {}
        for token in line.split():
            key, _, value = token.partition(":")
            counters[key] = value
        missing = [key for key in self.counters if key not in counters]
        if missing:
            raise self.fail(f"counters line without {', '.join(missing)}", number)
        for key, value in counters.items():
            if key != "wo" and not value.isdigit():
                raise self.fail(f"{key}: expected a number, got {value!r}", number)
        return counters

    def _resource(self, minor: _Minor) -> Resource:
        m, line = minor.match, minor.line
        if not minor.counters:
            raise self.fail("minor without its counters line", line)
        # DRBD 8.3.1 printed a NUL for an unset flag (seen in ganeti's captures): read it as "-".
        flags = m["flags"].replace("\x00", "-")
        cs = self.issues.state(ConnectionState, m["cs"], line=line, field="cs")
        wo = minor.counters.get("wo")
        return Resource(
            name=None,
            role=self.issues.state(Role, m["role"], line=line, field=self.role_key),
            suspended=flags[0] == "s",
            write_ordering=None if wo is None else _WRITE_ORDERING.get(wo, wo),
            volumes=(
                Volume(
                    number=0,
                    minor=int(m["minor"]),
                    disk_state=self.issues.state(DiskState, m["disk"], line=line, field="ds"),
                    read=self._kib(minor, "dr"),
                    written=self._kib(minor, "dw"),
                ),
            ),
            connections=(
                Connection(
                    connection_state=cs,
                    peer_role=self.issues.state(Role, m["peer_role"], line=line, field=self.role_key),
                    peer_volumes=(self._peer_volume(minor, cs, flags),),
                ),
            ),
        )

    def _peer_volume(self, minor: _Minor, cs: ConnectionState, flags: str) -> PeerVolume:
        progress = _progress(minor)
        return PeerVolume(
            number=0,
            replication_state=repl_state_from_84_cs(cs),
            peer_disk_state=self.issues.state(
                DiskState, minor.match["peer_disk"], line=minor.line, field="ds"
            ),
            resync_suspended=tuple(
                name for pos, char, name in _RESYNC_SUSPENDED if flags[pos : pos + 1] == char
            ),
            done_percent=None if progress is None else progress.percent,
            out_of_sync=self._kib(minor, "oos"),
            sent=self._kib(minor, "ns"),
            received=self._kib(minor, "nr"),
            resync=progress,
        )

    @staticmethod
    def _kib(minor: _Minor, key: str) -> int | None:
        value = minor.counters.get(key)
        return None if value is None else int(value) * KIB


def _grouped(number: str) -> int:
    """`59,392` -> 59392 (the kernel groups thousands with commas)."""
    return int(number.replace(",", ""))


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
        speed=None if f is None else _grouped(f["speed"]) * KIB,
        average_speed=None if f is None else _grouped(f["average"]) * KIB,
        want=None if f is None or f["want"] is None else _grouped(f["want"]) * KIB,
        stalled=f is not None and f["stalled"] is not None,
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
