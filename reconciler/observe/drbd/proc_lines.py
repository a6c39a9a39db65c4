"""The line shapes of /proc/drbd (DRBD 8.0 to 8.4), as `drbd_proc.c` and `lru_cache.c` print them.

Every pattern is anchored and free of nested repetition, so that matching stays linear in the
length of the line. What each line means is decided in `reconciler.observe.drbd.proc`.

Lines under a minor, in the order the kernel prints them:
- counters: `    ns:N nr:N dw:N dr:N al:N bm:N lo:N pe:N ua:N ap:N [ep:N wo:C oos:N]`
- progress (SyncSource, SyncTarget, VerifyS, VerifyT): `\t[==>....] sync'ed: 34.9% (346112/524288)K`,
  `verified:` during online verify (8.3.10+). 8.3.8-8.3.9 append ` delay_probe: N` (SyncSource) or
  ` queue_delay: N.N ms` (SyncTarget). Before 8.3.10 (and in the mainline kernel's copy of 8.3)
  no line break follows an "M" total, so `finish:` continues the same line.
- finish: `\tfinish: 0:00:05 speed: 59,392 (59,392) K/sec`; with the module's `proc_details` a
  short-term speed precedes the average (`(1,000 -- 990)`); 8.3.8+ add ` want: N` on SyncTarget
  (and VerifyS from 8.3.10); 8.3.10+ add ` (stalled)` when no progress was made for 3 minutes.
  8.0 to 8.3.9 print `\tstalled` instead of the whole finish line.
- verify position before 8.3.10: `\t 12%      1234/56789`; from 8.3.10 with `proc_details`:
  `\t 12% sector pos: N/N[ stop sector: N]`.
- cache statistics with `proc_details`: `\tresync: used:0/61 hits:0 misses:0 starving:0 locked:0 changed:0`
  (`dirty:` instead of `locked:` before 8.4), the same for `act_log:`.
- `proc_details >= 2`: 8.0-8.3 dump the resync cache (`\tnn: lc_number refcnt rs_left`, then
  `\t N: FREE` or `\t N:  num refcnt    rs_left NO_WRITES LOCKED`); 8.4 prints
  `\tblocked on activity log: N`.
"""

import re

VERSION = re.compile(r"version: (?P<version>\S+) \(api:(?P<api>[^/]+)/proto:(?P<proto>[^)]+)\)")
BUILD = re.compile(r"(?:GIT-hash|srcversion): .*")
# The start of a minor's block: the kernel prints "%2d: cs:".
MINOR_START = re.compile(r" *(?P<minor>\d+): cs:(?P<cs>\S+)")
MINOR = re.compile(
    r" *(?P<minor>\d+): cs:(?P<cs>\S+)"
    r"(?: (?P<role_key>st|ro):(?P<role>[^/\s]+)/(?P<peer_role>[^/\s]+)"
    r" ds:(?P<disk>[^/\s]+)/(?P<peer_disk>[^/\s]+) (?P<protocol>[A-C ]) (?P<flags>\S+))?\s*"
)
# For a minor line of an unexpected shape: whatever states it still shows.
LOOSE_ROLES = re.compile(r" (?:st|ro):(?P<role>[^/\s]+)/(?P<peer_role>[^/\s]+)")
LOOSE_DISKS = re.compile(r" ds:(?P<disk>[^/\s]+)/(?P<peer_disk>[^/\s]+)")
PROGRESS = re.compile(
    r"\s*\[[=>.]*\] (?P<what>sync'ed|verified): *(?P<percent>\d+(?:\.\d+)?)%"
    r" \((?P<left>\d+)/(?P<total>\d+)\)(?P<unit>[KM])"
    r"(?: delay_probe: (?P<probe>\d+)| queue_delay: \d+\.\d ms)?"
    r"(?:\s*(?P<finish>finish:.*))?\s*"
)
FINISH = re.compile(
    r"\s*finish: (?P<h>\d+):(?P<m>\d\d):(?P<s>\d\d) speed: (?P<speed>[\d,]+)"
    r" \((?:[\d,]+ -- )?(?P<average>[\d,]+)\)(?: want: (?P<want>[\d,]+))? K/sec(?P<stalled> \(stalled\))?\s*"
)
STALLED = re.compile(r"\s*stalled\s*")
# Recognised, and not modelled: they describe caches and positions, not states.
IGNORED = (
    re.compile(
        r"\s+(?:resync|act_log): used:\d+/\d+ hits:\d+ misses:\d+ starving:\d+ "
        r"(?:dirty|locked):\d+ changed:\d+\s*"
    ),
    re.compile(r"\s+\d+% sector pos: \d+/\d+(?: stop sector: \d+)?\s*"),
    re.compile(r"\s+\d+%\s+\d+/\d+\s*"),
    re.compile(r"\s+blocked on activity log: \d+\s*"),
    re.compile(r"\s+nn: lc_number refcnt \S+\s*"),
    re.compile(r"\s+\d+: (?:FREE|\s*\d+\s+\d+\s+-?\d+ (?:NO_WRITES|-+) (?:LOCKED|-+))\s*"),
)


def ignored(line: str) -> bool:
    return any(pattern.fullmatch(line) for pattern in IGNORED)


def grouped(number: str) -> int:
    """`59,392` -> 59392 (the kernel groups thousands with commas; 8.3.8 prints `1024,000`)."""
    return int(number.replace(",", ""))
