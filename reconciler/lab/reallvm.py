"""The real lvm2 of a lab node, as the simulator needs to know it.

In the network lab LVM is lvm2's own (see `disks`); the simulated DRBD and filesystems still
take their backing devices from the simulated node (an LV's size, whether `/dev/virtvg/lv01`
exists). Before a stand-in answers, `import_lvm` replaces the simulated node's volume groups
and logical volumes with what `lvm fullreport` reports on the node, so the two never disagree.
"""

from reconciler.lab.sim.model import Segment, SimLogicalVolume, SimNode, SimVolumeGroup
from reconciler.observe.lvm_model import LvmFullReport


def _segments(full: LvmFullReport, vg: str, lv: str) -> list[Segment]:
    found = []
    for seg in full.segments:
        if seg.vg == vg and seg.lv == lv:
            for pe in seg.pe_ranges or ():
                found.append(
                    Segment(pv=pe.device, start_pe=pe.first_pe, size_pe=pe.last_pe - pe.first_pe + 1)
                )
    return found


def import_lvm(node: SimNode, full: LvmFullReport) -> None:
    """Make the simulated node's VGs and LVs those of `full`."""
    node.vgs = [
        SimVolumeGroup(
            name=vg.name,
            uuid=vg.uuid or "",
            pvs=[pv.name for pv in full.pvs if pv.vg == vg.name],
            pv_uuids={pv.name: pv.uuid or "" for pv in full.pvs if pv.vg == vg.name},
            extent_size=vg.extent_size or 0,
            extent_count=vg.extent_count or 0,
            seqno=vg.seqno or 1,
        )
        for vg in full.vgs
    ]
    node.lvs = [
        SimLogicalVolume(
            name=lv.name,
            vg=lv.vg,
            size=lv.size or 0,
            uuid=lv.uuid or "",
            segments=_segments(full, lv.vg, lv.name),
        )
        for lv in full.lvs
        if lv.vg is not None and not lv.hidden
    ]
