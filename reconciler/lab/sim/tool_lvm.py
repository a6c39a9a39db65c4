"""lvm2 stand-ins: the fullreport, the `vgs`/`lvs` probes, vgcreate, vgremove, lvcreate, lvremove.

Messages and exit codes are lvm2 2.03's (5 for a failed command, 3 for a bad command line; the
messages indented by two spaces). Allocation is linear, first fit, in PV order.
"""

import hashlib
import re
import string
from datetime import UTC, datetime, timedelta

from reconciler.lab.sim import lvm_report
from reconciler.lab.sim.model import MIB, Segment, SimLogicalVolume, SimNode, SimVolumeGroup
from reconciler.lab.sim.result import LVM_FAILED, LVM_USAGE, failed, ok, unsupported
from reconciler.lab.sim.state import Cluster
from reconciler.observe.runner import CommandResult

FULLREPORT = ("lvm", "fullreport", "--reportformat", "json", "--units", "b", "--nosuffix")
_SIZE = re.compile(r"(\d+)([bBsSkKmMgGtT]?)")
_SIZE_UNITS = {"b": 1, "s": 512, "k": 1024, "m": MIB, "g": 1024 * MIB, "t": 1024 * 1024 * MIB}
_UUID_CHARS = string.ascii_letters + string.digits
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def lvm_uuid(node: SimNode, seed: str) -> str:
    node.serial += 1
    digest = hashlib.sha256(f"{node.name}/{seed}/{node.serial}".encode()).digest()
    chars = "".join(_UUID_CHARS[b % len(_UUID_CHARS)] for b in digest)
    parts, pos = [], 0
    for width in (6, 4, 4, 4, 4, 4, 6):
        parts.append(chars[pos : pos + width])
        pos += width
    return "-".join(parts)


def _vg_not_found(argv: tuple[str, ...], vg: str) -> CommandResult:
    return failed(argv, LVM_FAILED, f'  Volume group "{vg}" not found\n  Cannot process volume group {vg}\n')


def lvm(cluster: Cluster, node: SimNode, argv: tuple[str, ...], timeout: float) -> CommandResult:
    if argv != FULLREPORT:
        return unsupported(argv, LVM_USAGE)
    return ok(argv, lvm_report.fullreport(node))


def vgs(cluster: Cluster, node: SimNode, argv: tuple[str, ...], timeout: float) -> CommandResult:
    if argv[1:4] != ("--noheadings", "-o", "vg_name") or len(argv) != 5:
        return unsupported(argv, LVM_USAGE)
    vg = argv[4]
    return ok(argv, f"  {vg}\n") if node.vg(vg) else _vg_not_found(argv, vg)


def lvs(cluster: Cluster, node: SimNode, argv: tuple[str, ...], timeout: float) -> CommandResult:
    if argv[1:4] != ("--noheadings", "-o", "lv_name") or len(argv) != 5 or "/" not in argv[4]:
        return unsupported(argv, LVM_USAGE)
    vg, lv = argv[4].split("/", 1)
    if node.vg(vg) is None:
        return _vg_not_found(argv, vg)
    if node.lv(vg, lv) is None:
        return failed(argv, LVM_FAILED, f'  Failed to find logical volume "{vg}/{lv}"\n')
    return ok(argv, f"  {lv}\n")


def vgcreate(cluster: Cluster, node: SimNode, argv: tuple[str, ...], timeout: float) -> CommandResult:
    if len(argv) < 3 or any(a.startswith("-") for a in argv[1:]):
        return unsupported(argv, LVM_USAGE)
    name, pvs = argv[1], list(argv[2:])
    if node.vg(name) is not None:
        return failed(argv, LVM_FAILED, f"  A volume group called {name} already exists.\n")
    for pv in pvs:
        if node.disk(pv) is None:
            return failed(argv, LVM_FAILED, f"  No device found for {pv}.\n")
        owner = next((v for v in node.vgs if pv in v.pvs), None)
        if owner is not None:
            return failed(
                argv,
                LVM_FAILED,
                f'  Physical volume "{pv}" is already in volume group "{owner.name}"\n'
                f"  Unable to add physical volume '{pv}' to volume group '{name}'\n",
            )
    vg = SimVolumeGroup(name=name, uuid=lvm_uuid(node, name), pvs=pvs)
    vg.pv_uuids = {pv: lvm_uuid(node, pv) for pv in pvs}
    vg.extent_count = sum(lvm_report.pe_count(node, pv, vg) for pv in pvs)
    node.vgs.append(vg)
    created = "".join(f'  Physical volume "{pv}" successfully created.\n' for pv in pvs)
    return ok(argv, f'{created}  Volume group "{name}" successfully created\n')


def vgremove(cluster: Cluster, node: SimNode, argv: tuple[str, ...], timeout: float) -> CommandResult:
    if len(argv) != 2:
        return unsupported(argv, LVM_USAGE)
    vg = node.vg(argv[1])
    if vg is None:
        return _vg_not_found(argv, argv[1])
    count = sum(1 for lv in node.lvs if lv.vg == vg.name)
    if count:
        # Without a terminal lvm2 takes the question's answer as "no".
        return failed(
            argv,
            LVM_FAILED,
            f'  Do you really want to remove volume group "{vg.name}" containing {count} '
            f'logical volumes? [y/n]: [n]\n  Volume group "{vg.name}" not removed\n',
        )
    node.vgs.remove(vg)
    return ok(argv, f'  Volume group "{vg.name}" successfully removed\n')


def _parse_size(text: str) -> int | None:
    match = _SIZE.fullmatch(text)
    if match is None:
        return None
    return int(match[1]) * (_SIZE_UNITS[match[2].lower()] if match[2] else MIB)  # -L's default unit is MiB


def _free_ranges(node: SimNode, vg: SimVolumeGroup, pv: str) -> list[tuple[int, int]]:
    used = sorted(
        (s.start_pe, s.size_pe) for lv in node.lvs if lv.vg == vg.name for s in lv.segments if s.pv == pv
    )
    ranges, position = [], 0
    for start, size in [*used, (lvm_report.pe_count(node, pv, vg), 0)]:
        if start > position:
            ranges.append((position, start - position))
        position = max(position, start + size)
    return ranges


def allocate(node: SimNode, vg: SimVolumeGroup, extents: int) -> list[Segment] | None:
    segments, wanted = [], extents
    for pv in vg.pvs:
        for start, size in _free_ranges(node, vg, pv):
            take = min(size, wanted)
            if take:
                segments.append(Segment(pv=pv, start_pe=start, size_pe=take))
                wanted -= take
    return segments if wanted == 0 else None


def _lvcreate_args(argv: tuple[str, ...]) -> tuple[str, str, str] | None:
    name = size = None
    rest: list[str] = []
    words = iter(argv[1:])
    for word in words:
        if word in ("--yes", "-y"):
            continue
        if word in ("--name", "-n"):
            name = next(words, None)
        elif word in ("--size", "-L"):
            size = next(words, None)
        elif word.startswith("-"):
            return None
        else:
            rest.append(word)
    if name is None or size is None or len(rest) != 1:
        return None
    return name, size, rest[0]


def lvcreate(cluster: Cluster, node: SimNode, argv: tuple[str, ...], timeout: float) -> CommandResult:
    parsed = _lvcreate_args(argv)
    size = _parse_size(parsed[1]) if parsed else None
    if parsed is None or size is None:
        return unsupported(argv, LVM_USAGE)
    name, _, vg_name = parsed
    vg = node.vg(vg_name)
    if vg is None:
        return _vg_not_found(argv, vg_name)
    if node.lv(vg.name, name) is not None:
        return failed(
            argv, LVM_FAILED, f'  Logical Volume "{name}" already exists in volume group "{vg.name}"\n'
        )
    extents = -(-size // vg.extent_size)
    segments = allocate(node, vg, extents)
    if segments is None:
        free = vg.extent_count - lvm_report.used_extents(node, vg)
        return failed(
            argv,
            LVM_FAILED,
            f'  Volume group "{vg.name}" has insufficient free space ({free} extents): {extents} required.\n',
        )
    created = (EPOCH + timedelta(seconds=cluster.clock)).strftime("%Y-%m-%d %H:%M:%S +0000")
    node.lvs.append(
        SimLogicalVolume(
            name=name,
            vg=vg.name,
            size=extents * vg.extent_size,
            uuid=lvm_uuid(node, name),
            segments=segments,
            created=created,
            kernel_minor=node.serial,
        )
    )
    vg.seqno += 1
    rounding = (
        ""
        if size % vg.extent_size == 0
        else f"  Rounding up size to full physical extent {extents * vg.extent_size // MIB}.00 MiB\n"
    )
    return ok(argv, f'{rounding}  Logical volume "{name}" created.\n')


def lvremove(cluster: Cluster, node: SimNode, argv: tuple[str, ...], timeout: float) -> CommandResult:
    names = [a for a in argv[1:] if a not in ("--yes", "-y", "-f", "--force")]
    if len(names) != 1 or "/" not in names[0]:
        return unsupported(argv, LVM_USAGE)
    vg_name, name = names[0].split("/", 1)
    if node.vg(vg_name) is None:
        return _vg_not_found(argv, vg_name)
    lv = node.lv(vg_name, name)
    if lv is None:
        return failed(argv, LVM_FAILED, f'  Failed to find logical volume "{vg_name}/{name}"\n')
    if any(r.backing == lv.path for r in node.drbd.resources) or any(
        m.source == lv.path for m in node.mounts
    ):
        return failed(argv, LVM_FAILED, f"  Logical volume {vg_name}/{name} in use.\n")
    node.lvs.remove(lv)
    node.drbd.metadata.pop(lv.path, None)
    return ok(argv, f'  Logical volume "{name}" successfully removed.\n')
