"""A lab node's `lvm fullreport`, kept until the node's LVM metadata changes on its disks.

The stand-in server makes each simulated node's VGs and LVs its real lvm2's before DRBD, a
filesystem or a mount tool answers (`standin`), and `lvm fullreport` inside the node costs
~35 ms: most of a call. lvm2 keeps everything such a report shows (activation is off in the lab)
in the metadata on the physical volumes, and every change of it, whoever makes it (`vgcreate`
and `lvcreate` are lvm2's own, run by `apply` in the node: the server never sees them), rewrites
the PV's label or the header of a metadata area: the header holds the location, size and
checksum of the current metadata text, which carries a sequence number that every commit
increments. So the report is kept with those bytes of each of the node's disks (its label
sectors, then its metadata areas' headers, as the label says where they are), read from the
loop device on the host with O_DIRECT (what lvm2 wrote, not a page cached before); while they
are the same, so is the report. The bytes are read before the report is made: a commit in
between makes the next call read them anew, never keeps a stale report.
"""

import mmap
import os
import struct
import threading
from collections.abc import Sequence

from reconciler.observe.lvm_model import LvmFullReport

SECTOR = 512
LABEL_SECTORS = 4  # lvm2 looks for its label in the first four sectors
LABEL_ID = b"LABELONE"
_LABEL = struct.Struct("<8sQIi8s")  # id, sector, crc, offset of the PV header, type
_UUID_SIZE = 32
_AREA = struct.Struct("<QQ")  # a disk area: offset, size; a zero offset ends a list
_HEADER_SIZE = 512  # a metadata area's header: checksum, magic, version, start, size, locations
_BLOCK = 4096  # O_DIRECT reads whole, aligned blocks
_MAX_AREAS = 16


def _read(fd: int, offset: int, size: int) -> bytes:
    """`size` bytes at `offset`, read around the page cache (aligned as O_DIRECT wants)."""
    start = offset - offset % _BLOCK
    length = -(-(offset + size - start) // _BLOCK) * _BLOCK
    with mmap.mmap(-1, length) as buffer:  # page-aligned memory
        got = os.preadv(fd, [buffer], start)
        return bytes(buffer[offset - start : min(got, offset - start + size)])


def _metadata_areas(label: bytes) -> list[int]:
    """The offsets of the metadata areas that the PV label in `label` lists; none without one."""
    for sector in range(LABEL_SECTORS):
        at = sector * SECTOR
        ident, _, _, offset, _ = _LABEL.unpack_from(label, at)
        if ident != LABEL_ID:
            continue
        cursor = at + offset + _UUID_SIZE + 8  # past the PV's uuid and device size
        areas: list[list[int]] = [[], []]  # data areas, then metadata areas
        for found in areas:
            while cursor + _AREA.size <= len(label) and len(found) < _MAX_AREAS:
                area_offset, _ = _AREA.unpack_from(label, cursor)
                cursor += _AREA.size
                if area_offset == 0:
                    break
                found.append(area_offset)
        return areas[1]
    return []


def metadata_stamp(devices: Sequence[str]) -> bytes | None:
    """The bytes whose change means the LVM metadata of `devices` changed; None if one cannot
    be read, or there is none (then nothing is kept)."""
    if not devices:
        return None
    parts = []
    try:
        for device in devices:
            fd = os.open(device, os.O_RDONLY | os.O_DIRECT | os.O_CLOEXEC)
            try:
                label = _read(fd, 0, LABEL_SECTORS * SECTOR)
                parts.append(label)
                parts.extend(_read(fd, area, _HEADER_SIZE) for area in _metadata_areas(label))
            finally:
                os.close(fd)
    except (OSError, struct.error):
        return None
    return b"".join(parts)


class ReportCache:
    """The last report of each node, with the stamp of its disks when it was made."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one server thread per call
        self._reports: dict[str, tuple[bytes, LvmFullReport]] = {}

    def get(self, node: str, stamp: bytes | None) -> LvmFullReport | None:
        with self._lock:
            kept = self._reports.get(node)
        return kept[1] if stamp is not None and kept is not None and kept[0] == stamp else None

    def put(self, node: str, stamp: bytes | None, report: LvmFullReport) -> None:
        if stamp is None:
            return
        with self._lock:
            self._reports[node] = (stamp, report)
