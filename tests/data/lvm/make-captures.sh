#!/usr/bin/env bash
# Regenerates the real lvm2 captures beside this script (see NOTES.md).
#
# Needs root, lvm2 and the loop driver; no device-mapper is needed: activation is disabled in a
# private lvm.conf whose filter accepts only the two loop devices made here, so lvm never sees,
# scans or changes any other device or VG of the machine. Everything made (loop devices, PVs, the
# VG, the sparse files, the private config) is removed on exit, whether the script fails or not.
set -euo pipefail

OUT=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/lvm-captures.XXXXXX)
VG=vgcap
LOOP1=""
LOOP2=""

cleanup() {
    set +e
    # The "all PVs visible" config: vgremove must see both PVs to remove the VG cleanly.
    if [ -n "$LOOP1" ] && [ -f "$WORK/full/lvm.conf" ]; then
        LVM_SYSTEM_DIR="$WORK/full" vgremove -f "$VG" >/dev/null 2>&1
        LVM_SYSTEM_DIR="$WORK/full" pvremove -ff -y "$LOOP1" ${LOOP2:+"$LOOP2"} >/dev/null 2>&1
    fi
    [ -n "$LOOP2" ] && losetup -d "$LOOP2"
    [ -n "$LOOP1" ] && losetup -d "$LOOP1"
    rm -rf "$WORK"
}
trap cleanup EXIT

# write_conf DIR DEVICE...: an lvm.conf that sees only the given devices, with activation off.
write_conf() {
    local dir=$1 filter="" dev
    shift
    for dev in "$@"; do filter+="\"a|^${dev}\$|\", "; done
    mkdir -p "$dir"
    cat >"$dir/lvm.conf" <<CONF
global { activation = 0 locking_dir = "$WORK/lock" }
devices { filter = [ ${filter}"r|.*|" ] obtain_device_list_from_udev = 0 use_devicesfile = 0 }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
backup { backup = 0 archive = 0 }
CONF
}

truncate -s 1G "$WORK/pv1.img"
truncate -s 512M "$WORK/pv2.img"
LOOP1=$(losetup -f --show "$WORK/pv1.img")
LOOP2=$(losetup -f --show "$WORK/pv2.img")
write_conf "$WORK/full" "$LOOP1" "$LOOP2"
write_conf "$WORK/missing" "$LOOP1"
export LVM_SYSTEM_DIR="$WORK/full"
# Our own shell may hold descriptors open; lvm's warning about them is not what we capture.
export LVM_SUPPRESS_FD_WARNINGS=1

# cap FILE CMD...: stdout of CMD into FILE (stderr, always "Activation disabled", is dropped).
cap() {
    local file=$1
    shift
    "$@" >"$OUT/$file" 2>/dev/null
}
# cap_both FILE CMD...: stdout and stderr interleaved, as a caller merging them sees it.
cap_both() {
    local file=$1
    shift
    "$@" >"$OUT/$file" 2>&1
}

# Nothing created yet: the filter shows lvm no device at all.
cap lvs-json-empty.json lvs --reportformat json
cap vgs-text-empty.txt vgs

pvcreate -q "$LOOP1" "$LOOP2" 2>/dev/null
cap pvs-text-orphans.txt pvs
cap pvs-json-orphans.json pvs --reportformat json
cap lvm-fullreport-json-orphans.json lvm fullreport --reportformat json --units b
vgcreate -q "$VG" "$LOOP1" "$LOOP2" 2>/dev/null
lvcreate -q -an -Zn -L 100M -n data --addtag drbd --addtag app=web "$VG" "$LOOP1" 2>/dev/null
lvcreate -q -an -Zn -L 40M -n meta "$VG" "$LOOP1" 2>/dev/null
lvextend -q -L +20M "$VG/meta" "$LOOP2" 2>/dev/null
lvcreate -q -an -Zn -L 3M -n tiny "$VG" "$LOOP2" 2>/dev/null

# Thin pools, raid and snapshots cannot be created without device-mapper (lvcreate wants to zero or
# sync them), so their metadata is written by hand in lvm's own format and restored: what lvs then
# reports about them is lvm's own rendering of that metadata. Extents: pv0 0-34 and pv1 0-5 are
# taken by the LVs above.
vgcfgbackup -q -f "$WORK/vg.meta" "$VG" 2>/dev/null
cat >"$WORK/extra-lvs.meta" <<'META'
		pool {
			id = "Pool00-0000-0000-0000-0000-0000-000001"
			status = ["READ", "WRITE", "VISIBLE"]
			flags = []
			segment_count = 1
			segment1 {
				start_extent = 0
				extent_count = 16
				type = "thin-pool"
				metadata = "pool_tmeta"
				pool = "pool_tdata"
				transaction_id = 1
				chunk_size = 128
				discards = "passdown"
				zero_new_blocks = 1
			}
		}
		thin1 {
			id = "Thin00-0000-0000-0000-0000-0000-000001"
			status = ["READ", "WRITE", "VISIBLE"]
			flags = []
			segment_count = 1
			segment1 {
				start_extent = 0
				extent_count = 50
				type = "thin"
				thin_pool = "pool"
				transaction_id = 0
				device_id = 1
			}
		}
		lvol0_pmspare {
			id = "Spare0-0000-0000-0000-0000-0000-000001"
			status = ["READ", "WRITE"]
			flags = []
			segment_count = 1
			segment1 {
				start_extent = 0
				extent_count = 1
				type = "striped"
				stripe_count = 1
				stripes = ["pv0", 35]
			}
		}
		pool_tmeta {
			id = "TMeta0-0000-0000-0000-0000-0000-000001"
			status = ["READ", "WRITE"]
			flags = []
			segment_count = 1
			segment1 {
				start_extent = 0
				extent_count = 1
				type = "striped"
				stripe_count = 1
				stripes = ["pv0", 36]
			}
		}
		pool_tdata {
			id = "TData0-0000-0000-0000-0000-0000-000001"
			status = ["READ", "WRITE"]
			flags = []
			segment_count = 1
			segment1 {
				start_extent = 0
				extent_count = 16
				type = "striped"
				stripe_count = 1
				stripes = ["pv0", 37]
			}
		}
		mirr {
			id = "Raid10-0000-0000-0000-0000-0000-000001"
			status = ["READ", "WRITE", "VISIBLE"]
			flags = []
			segment_count = 1
			segment1 {
				start_extent = 0
				extent_count = 8
				type = "raid1"
				device_count = 2
				region_size = 1024
				raids = ["mirr_rmeta_0", "mirr_rimage_0", "mirr_rmeta_1", "mirr_rimage_1"]
			}
		}
		mirr_rimage_0 {
			id = "RImg00-0000-0000-0000-0000-0000-000001"
			status = ["READ", "WRITE"]
			flags = []
			segment_count = 1
			segment1 {
				start_extent = 0
				extent_count = 8
				type = "striped"
				stripe_count = 1
				stripes = ["pv0", 53]
			}
		}
		mirr_rmeta_0 {
			id = "RMeta0-0000-0000-0000-0000-0000-000001"
			status = ["READ", "WRITE"]
			flags = []
			segment_count = 1
			segment1 {
				start_extent = 0
				extent_count = 1
				type = "striped"
				stripe_count = 1
				stripes = ["pv0", 61]
			}
		}
		mirr_rimage_1 {
			id = "RImg01-0000-0000-0000-0000-0000-000001"
			status = ["READ", "WRITE"]
			flags = []
			segment_count = 1
			segment1 {
				start_extent = 0
				extent_count = 8
				type = "striped"
				stripe_count = 1
				stripes = ["pv1", 6]
			}
		}
		mirr_rmeta_1 {
			id = "RMeta1-0000-0000-0000-0000-0000-000001"
			status = ["READ", "WRITE"]
			flags = []
			segment_count = 1
			segment1 {
				start_extent = 0
				extent_count = 1
				type = "striped"
				stripe_count = 1
				stripes = ["pv1", 14]
			}
		}
		tinysnap {
			id = "SnapCw-0000-0000-0000-0000-0000-000001"
			status = ["READ", "WRITE"]
			flags = []
			segment_count = 1
			segment1 {
				start_extent = 0
				extent_count = 2
				type = "striped"
				stripe_count = 1
				stripes = ["pv1", 15]
			}
		}
		snapshot0 {
			id = "SnapSh-0000-0000-0000-0000-0000-000001"
			status = ["READ", "WRITE", "VISIBLE"]
			flags = []
			segment_count = 1
			segment1 {
				start_extent = 0
				extent_count = 1
				type = "snapshot"
				chunk_size = 8
				origin = "tiny"
				cow_store = "tinysnap"
			}
		}
META
sed -i "/^\tlogical_volumes {/r $WORK/extra-lvs.meta" "$WORK/vg.meta"
# --force: vgcfgrestore refuses thin pools otherwise (it cannot check their kernel state here).
vgcfgrestore -q --force -f "$WORK/vg.meta" "$VG" >/dev/null 2>&1

for tool in lvs vgs pvs; do
    cap "$tool-json-human.json" "$tool" --reportformat json
    cap "$tool-json-units-b.json" "$tool" --reportformat json --units b
    cap "$tool-json-units-b-nosuffix.json" "$tool" --reportformat json --units b --nosuffix
    cap "$tool-text.txt" "$tool"
done
cap lvm-fullreport-json.json lvm fullreport --reportformat json
cap lvs-text-all.txt lvs -a
cap lvm-fullreport-json-units-b.json lvm fullreport --reportformat json --units b --nosuffix
cap lvs-noheadings-ganeti.txt lvs --noheadings --units B --separator ";" \
    -o lv_uuid,lv_name,lv_attr,lv_major,lv_minor,lv_kernel_major,lv_kernel_minor,lv_size,seg_count,lv_tags,modules,vg_uuid,vg_name,segtype,seg_start,seg_start_pe,seg_size,seg_tags,seg_pe_ranges,devices
cap_both vgs-text-stderr-warning.txt vgs
cap_both vgs-noheadings-nosuffix.txt vgs --noheadings --nosuffix

# The second PV disappears: the VG is partial, the PV missing.
export LVM_SYSTEM_DIR="$WORK/missing"
cap_both vgs-noheadings-nosuffix-missing-pv.txt vgs --noheadings --nosuffix
cap_both vgs-text-missing-pv.txt vgs
cap_both pvs-text-missing-pv.txt pvs
cap_both lvs-text-missing-pv.txt lvs
cap pvs-json-missing-pv.json pvs --reportformat json --units b
cap lvs-json-missing-pv.json lvs --reportformat json --units b
cap vgs-json-missing-pv.json vgs --reportformat json --units b
# With the command log in the JSON; "nosuchvg" adds errors to it (and makes vgs exit 5).
cap vgs-json-log-missing-pv.json vgs --reportformat json --units b \
    --config "log/report_command_log=1" "$VG" nosuchvg || true
export LVM_SYSTEM_DIR="$WORK/full"

lvm version 2>/dev/null | sed -n 1p >"$OUT/lvm-version.txt"
