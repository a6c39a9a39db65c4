#!/usr/bin/env bash
# Regenerate the mountinfo captures of this directory.
#
# mountinfo-host.txt: this machine's /proc/self/mountinfo, as is.
# mountinfo-escaped-paths.txt: /proc/self/mountinfo read inside a private mount namespace
# (`unshare -m --propagation private`) in which two tmpfs are mounted on directories whose
# names hold a space and a backslash; the kernel prints them as \040 and \134. The mounts exist
# only in that namespace and vanish with it; the empty directories made for them under /tmp are
# removed on exit. Needs root. Usage: make-captures.sh [OUTDIR]
set -euo pipefail

OUT=${1:-$(cd "$(dirname "$0")" && pwd)}
DIR=$(mktemp -d /tmp/rcltest-mnt.XXXXXX)
cleanup() { rmdir "$DIR/with space" "$DIR/back\\slash" 2>/dev/null || true; rmdir "$DIR" || true; }
trap cleanup EXIT

cat /proc/self/mountinfo > "$OUT/mountinfo-host.txt"

mkdir "$DIR/with space" "$DIR/back\\slash"
unshare -m --propagation private sh -c '
    mount -t tmpfs -o size=1m,mode=0755 "rcl src" "$1/with space"
    mount -t tmpfs -o size=1m,ro rcltest "$1/back\\slash"
    cat /proc/self/mountinfo
' sh "$DIR" > "$OUT/mountinfo-escaped-paths.txt"

# Nothing may have leaked into this (the host's) mount namespace.
if grep -q rcltest-mnt /proc/self/mountinfo; then
    echo "ERROR: a test mount is visible outside its namespace" >&2
    exit 1
fi
uname -r
echo "temporary directory: $DIR"
