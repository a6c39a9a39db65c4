"""`lvm fullreport --reportformat json --units b --nosuffix`, as lvm2 2.03.16 prints it.

Field names and their order are those of the real capture (tests/data/lvm, Debian 12's lvm2), so
the report has exactly the keys a real one has. Values describe an activated host: LVs are
active, with a device-mapper minor, and open while DRBD uses them.
"""

import json

from reconciler.lab.sim.model import DM_MAJOR, PE_START, SimLogicalVolume, SimNode, SimVolumeGroup


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


VG_FIELDS = _names(
    "vg_fmt vg_uuid vg_name vg_attr vg_permissions vg_extendable vg_exported vg_autoactivation "
    "vg_partial vg_allocation_policy vg_clustered vg_shared vg_size vg_free vg_sysid vg_systemid "
    "vg_lock_type vg_lock_args vg_extent_size vg_extent_count vg_free_count max_lv max_pv pv_count "
    "vg_missing_pv_count lv_count snap_count vg_seqno vg_tags vg_profile vg_mda_count "
    "vg_mda_used_count vg_mda_free vg_mda_size vg_mda_copies"
)
PV_FIELDS = _names(
    "pv_fmt pv_uuid dev_size pv_name pv_major pv_minor pv_mda_free pv_mda_size pv_ext_vsn pe_start "
    "pv_size pv_free pv_used pv_attr pv_allocatable pv_exported pv_missing pv_pe_count "
    "pv_pe_alloc_count pv_tags pv_mda_count pv_mda_used_count pv_ba_start pv_ba_size pv_in_use "
    "pv_duplicate pv_device_id pv_device_id_type"
)
LV_FIELDS = _names(
    "lv_uuid lv_name lv_full_name lv_path lv_dm_path lv_parent lv_layout lv_role "
    "lv_initial_image_sync lv_image_synced lv_merging lv_converting lv_allocation_policy "
    "lv_allocation_locked lv_fixed_minor lv_skip_activation lv_autoactivation lv_when_full lv_active "
    "lv_active_locally lv_active_remotely lv_active_exclusively lv_major lv_minor lv_read_ahead "
    "lv_size lv_metadata_size seg_count origin origin_uuid origin_size lv_ancestors lv_full_ancestors "
    "lv_descendants lv_full_descendants raid_mismatch_count raid_sync_action raid_write_behind "
    "raid_min_recovery_rate raid_max_recovery_rate raidintegritymode raidintegrityblocksize "
    "integritymismatches move_pv move_pv_uuid convert_lv convert_lv_uuid mirror_log mirror_log_uuid "
    "data_lv data_lv_uuid metadata_lv metadata_lv_uuid pool_lv pool_lv_uuid lv_tags lv_profile "
    "lv_lockargs lv_time lv_time_removed lv_host lv_modules lv_historical writecache_block_size "
    "lv_kernel_major lv_kernel_minor lv_kernel_read_ahead lv_permissions lv_suspended lv_live_table "
    "lv_inactive_table lv_device_open data_percent snap_percent metadata_percent copy_percent "
    "sync_percent cache_total_blocks cache_used_blocks cache_dirty_blocks cache_read_hits "
    "cache_read_misses cache_write_hits cache_write_misses kernel_cache_settings kernel_cache_policy "
    "kernel_metadata_format lv_health_status kernel_discards lv_check_needed lv_merge_failed "
    "lv_snapshot_invalid vdo_operating_mode vdo_compression_state vdo_index_state vdo_used_size "
    "vdo_saving_percent writecache_total_blocks writecache_free_blocks writecache_writeback_blocks "
    "writecache_error lv_attr"
)
PVSEG_FIELDS = _names("pvseg_start pvseg_size pv_uuid lv_uuid")
SEG_FIELDS = _names(
    "segtype stripes data_stripes reshape_len reshape_len_le data_copies data_offset new_data_offset "
    "parity_chunks stripe_size region_size chunk_size thin_count discards cache_metadata_format "
    "cache_mode zero transaction_id thin_id seg_start seg_start_pe seg_size seg_size_pe seg_tags "
    "seg_pe_ranges seg_le_ranges seg_metadata_le_ranges devices metadata_devices seg_monitor "
    "cache_policy cache_settings vdo_compression vdo_deduplication vdo_use_metadata_hints "
    "vdo_minimum_io_size vdo_block_map_cache_size vdo_block_map_era_length vdo_use_sparse_index "
    "vdo_index_memory_size vdo_slab_size vdo_ack_threads vdo_bio_threads vdo_bio_rotation "
    "vdo_cpu_threads vdo_hash_zone_threads vdo_logical_threads vdo_physical_threads vdo_max_discard "
    "vdo_write_policy vdo_header_size lv_uuid"
)
MDA_SIZE = 1044480
MDA_FREE = 516608


def _row(fields: tuple[str, ...], values: dict[str, str | int]) -> str:
    unknown = set(values) - set(fields)
    assert not unknown, f"not lvm2 report fields: {sorted(unknown)}"
    return "{" + ", ".join(f"{json.dumps(f)}:{json.dumps(str(values.get(f, '')))}" for f in fields) + "}"


def pe_count(node: SimNode, pv: str, vg: SimVolumeGroup) -> int:
    disk = node.disk(pv)
    return 0 if disk is None else max(0, disk.size - PE_START) // vg.extent_size


def used_extents(node: SimNode, vg: SimVolumeGroup, pv: str | None = None) -> int:
    return sum(s.size_pe for lv in node.lvs if lv.vg == vg.name for s in lv.segments if pv in (None, s.pv))


def _vg_row(node: SimNode, vg: SimVolumeGroup) -> str:
    lvs = [lv for lv in node.lvs if lv.vg == vg.name]
    free = vg.extent_count - used_extents(node, vg)
    return _row(
        VG_FIELDS,
        {
            "vg_fmt": "lvm2",
            "vg_uuid": vg.uuid,
            "vg_name": vg.name,
            "vg_attr": "wz--n-",
            "vg_permissions": "writeable",
            "vg_extendable": "extendable",
            "vg_autoactivation": "enabled",
            "vg_allocation_policy": "normal",
            "vg_size": vg.size,
            "vg_free": free * vg.extent_size,
            "vg_extent_size": vg.extent_size,
            "vg_extent_count": vg.extent_count,
            "vg_free_count": free,
            "max_lv": 0,
            "max_pv": 0,
            "pv_count": len(vg.pvs),
            "vg_missing_pv_count": 0,
            "lv_count": len(lvs),
            "snap_count": 0,
            "vg_seqno": vg.seqno,
            "vg_mda_count": len(vg.pvs),
            "vg_mda_used_count": len(vg.pvs),
            "vg_mda_free": MDA_FREE,
            "vg_mda_size": MDA_SIZE,
            "vg_mda_copies": "unmanaged",
        },
    )


def _pv_row(node: SimNode, vg: SimVolumeGroup, pv: str) -> str:
    disk = node.disk(pv)
    count, used = pe_count(node, pv, vg), used_extents(node, vg, pv)
    return _row(
        PV_FIELDS,
        {
            "pv_fmt": "lvm2",
            "pv_uuid": vg.pv_uuids.get(pv, ""),
            "dev_size": disk.size if disk else 0,
            "pv_name": pv,
            "pv_major": disk.major if disk else 0,
            "pv_minor": disk.minor if disk else 0,
            "pv_mda_free": MDA_FREE,
            "pv_mda_size": MDA_SIZE,
            "pv_ext_vsn": 2,
            "pe_start": PE_START,
            "pv_size": count * vg.extent_size,
            "pv_free": (count - used) * vg.extent_size,
            "pv_used": used * vg.extent_size,
            "pv_attr": "a--",
            "pv_allocatable": "allocatable",
            "pv_pe_count": count,
            "pv_pe_alloc_count": used,
            "pv_mda_count": 1,
            "pv_mda_used_count": 1,
            "pv_ba_start": 0,
            "pv_ba_size": 0,
            "pv_in_use": "used",
        },
    )


def _lv_row(node: SimNode, lv: SimLogicalVolume) -> str:
    is_open = any(r.backing == lv.path for r in node.drbd.resources) or any(
        m.source == lv.path for m in node.mounts
    )
    return _row(
        LV_FIELDS,
        {
            "lv_uuid": lv.uuid,
            "lv_name": lv.name,
            "lv_full_name": f"{lv.vg}/{lv.name}",
            "lv_path": lv.path,
            "lv_dm_path": f"/dev/mapper/{lv.vg.replace('-', '--')}-{lv.name.replace('-', '--')}",
            "lv_layout": "linear",
            "lv_role": "public",
            "lv_allocation_policy": "inherit",
            "lv_autoactivation": "enabled",
            "lv_active": "active",
            "lv_active_locally": "active locally",
            "lv_active_exclusively": "active exclusively",
            "lv_major": -1,
            "lv_minor": -1,
            "lv_read_ahead": "auto",
            "lv_size": lv.size,
            "seg_count": len(lv.segments),
            "raidintegrityblocksize": -1,
            "lv_tags": ",".join(lv.tags),
            "lv_time": lv.created,
            "lv_host": node.name,
            "writecache_block_size": -1,
            "lv_kernel_major": DM_MAJOR,
            "lv_kernel_minor": lv.kernel_minor,
            "lv_kernel_read_ahead": 131072,
            "lv_permissions": "writeable",
            "lv_live_table": "live table present",
            "lv_device_open": "open" if is_open else "",
            "lv_attr": "-wi-ao----" if is_open else "-wi-a-----",
        },
    )


def _segment_rows(vg: SimVolumeGroup, lv: SimLogicalVolume) -> list[str]:
    rows, start = [], 0
    for seg in lv.segments:
        last = seg.start_pe + seg.size_pe - 1
        rows.append(
            _row(
                SEG_FIELDS,
                {
                    "segtype": "linear",
                    "stripes": 1,
                    "data_stripes": 1,
                    "data_copies": 1,
                    "stripe_size": 0,
                    "region_size": 0,
                    "chunk_size": 0,
                    "zero": "unknown",
                    "seg_start": start * vg.extent_size,
                    "seg_start_pe": start,
                    "seg_size": seg.size_pe * vg.extent_size,
                    "seg_size_pe": seg.size_pe,
                    "seg_pe_ranges": f"{seg.pv}:{seg.start_pe}-{last}",
                    "seg_le_ranges": f"{seg.pv}:{seg.start_pe}-{last}",
                    "devices": f"{seg.pv}({seg.start_pe})",
                    "lv_uuid": lv.uuid,
                },
            )
        )
        start += seg.size_pe
    return rows


def _pvseg_rows(node: SimNode, vg: SimVolumeGroup) -> list[str]:
    rows = []
    for pv in vg.pvs:
        used = sorted(
            (s.start_pe, s.size_pe, lv.uuid)
            for lv in node.lvs
            if lv.vg == vg.name
            for s in lv.segments
            if s.pv == pv
        )
        position = 0
        for start, size, uuid in [*used, (pe_count(node, pv, vg), 0, "")]:
            if start > position:
                rows.append(
                    _row(
                        PVSEG_FIELDS,
                        {
                            "pvseg_start": position,
                            "pvseg_size": start - position,
                            "pv_uuid": vg.pv_uuids.get(pv, ""),
                            "lv_uuid": "",
                        },
                    )
                )
            if size:
                rows.append(
                    _row(
                        PVSEG_FIELDS,
                        {
                            "pvseg_start": start,
                            "pvseg_size": size,
                            "pv_uuid": vg.pv_uuids.get(pv, ""),
                            "lv_uuid": uuid,
                        },
                    )
                )
            position = start + size
    return rows


def _section(name: str, rows: list[str]) -> str:
    body = ",\n".join(" " * 18 + row for row in rows)
    return (
        f'              "{name}": [\n{body}\n              ]\n'
        if rows
        else f'              "{name}": [\n              ]\n'
    )


def fullreport(node: SimNode) -> str:
    entries = []
    for vg in node.vgs:
        lvs = [lv for lv in node.lvs if lv.vg == vg.name]
        sections = [
            _section("vg", [_vg_row(node, vg)]),
            _section("pv", [_pv_row(node, vg, pv) for pv in vg.pvs]),
            _section("lv", [_lv_row(node, lv) for lv in lvs]),
            _section("pvseg", _pvseg_rows(node, vg)),
            _section("seg", [row for lv in lvs for row in _segment_rows(vg, lv)]),
        ]
        entries.append("          {\n" + "              ,\n".join(sections) + "          }")
    body = "\n          ,\n".join(entries)
    return '  {\n      "report": [\n' + (body + "\n" if entries else "") + "      ]\n  }\n"
