#!/usr/bin/env bash
# Regenerate the iproute2 captures of this directory from real `ip` output.
#
# Everything happens inside two network namespaces made here (rcltest-<random>-a/-b) and deleted
# on exit, success or failure: the host's own namespace is never changed, addresses come only from
# 10.99.0.0/24 and 192.0.2.0/24, and nothing is sent anywhere (no ping; the only packets are the
# kernel's own IPv6 link-local DAD/MLD on veth links whose both ends are in these namespaces).
# Needs root. Usage: make-captures.sh [OUTDIR]   (default: the directory of this script)
set -euo pipefail

OUT=${1:-$(cd "$(dirname "$0")" && pwd)}
SUFFIX=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
A=rcltest-$SUFFIX-a
B=rcltest-$SUFFIX-b

cleanup() {
    local ns
    for ns in "$A" "$B"; do
        if [ -e "/run/netns/$ns" ]; then
            ip netns del "$ns" || echo "WARNING: could not delete netns $ns" >&2
        fi
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

inA() { ip netns exec "$A" "$@"; }
inB() { ip netns exec "$B" "$@"; }

ip netns add "$A"
ip netns add "$B"

# Node-to-node link: a veth pair whose ends live in A (rcl0) and B (rcl0peer), created from
# inside A so that no interface ever exists in the host's namespace.
inA ip link add rcl0 type veth peer name rcl0peer netns "$B"
# A bridge with one veth port (its peer end stays in A, up, without address).
inA ip link add br0 type bridge stp_state 0
inA ip link add rclport0 type veth peer name rclport1
inA ip link set rclport0 master br0
# A pair that stays administratively DOWN on one side (with an address) and UP on the other.
inA ip link add rcldown0 type veth peer name rcldown1

inA ip link set lo up
inB ip link set lo up
for dev in rcl0 br0 rclport0 rclport1 rcldown1; do inA ip link set "$dev" up; done
inB ip link set rcl0peer up

inA ip addr add 10.99.0.1/25 brd + dev rcl0
inA ip addr add 10.99.0.11/25 dev rcl0                    # secondary (same subnet)
inA ip addr add 10.99.0.12/25 dev rcl0 label rcl0:vip     # secondary with its own label
inA ip addr add 10.99.0.21/25 dev rcl0 valid_lft 600 preferred_lft 300   # dynamic, finite lifetimes
inB ip addr add 10.99.0.2/25 brd + dev rcl0peer
inA ip addr add 192.0.2.1/24 brd + dev br0
inA ip addr add 10.99.0.129/25 dev rcldown0              # on a DOWN link

# Let IPv6 duplicate address detection of the link-local addresses finish (no "tentative").
sleep 4

inA ip -j addr                         > "$OUT/ip-j-addr.json"
inA ip -j -p addr                      > "$OUT/ip-j-p-addr.json"
inA ip -j -4 addr                      > "$OUT/ip-j-4-addr.json"
inA ip -j link                         > "$OUT/ip-j-link.json"
inA ip -j -d link show type veth       > "$OUT/ip-j-d-link-veth.json"
inB ip -j -d link                      > "$OUT/ip-j-d-link-peer-ns.json"
inA ip -j -d link show dev br0         > "$OUT/ip-j-d-link-bridge.json"
inA ip addr                            > "$OUT/ip-addr.txt"
inA ip addr show dev rcl0              > "$OUT/ip-addr-show-dev-rcl0.txt"
inA ip addr show dev rcldown0          > "$OUT/ip-addr-show-dev-rcldown0.txt"

ip -V
echo "namespaces: $A $B"
