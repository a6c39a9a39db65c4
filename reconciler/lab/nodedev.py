"""A lab node's own /dev: the host's basic devices, and its disks under the names the manifests use.

Run as a script inside the node's mount namespace (`nsenter --mount`), at each boot:
`python -I nodedev.py STAGING [PATH=MAJOR:MINOR ...]`. It builds a small tmpfs in STAGING (a
directory of the lab), with null, zero, full, random, urandom and tty as the host has them, the
host's /dev/pts, a /dev/shm of its own, and a block device node for each disk of the node (the
loop device behind `/dev/hda`, say), then moves it over /dev. So `vgcreate virtvg /dev/hda` runs
as the manifest says it, on this node's loop device alone, and the host's /dev is left as it is.

It imports nothing of the reconciler, as holder.py: it runs in a namespace being set up.
"""

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

USAGE = "usage: nodedev.py STAGING [PATH=MAJOR:MINOR ...]"
CHARACTER_DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
SYMLINKS = {
    "fd": "/proc/self/fd",
    "stdin": "/proc/self/fd/0",
    "stdout": "/proc/self/fd/1",
    "stderr": "/proc/self/fd/2",
    "ptmx": "pts/ptmx",
}
HOST_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
_DISK = re.compile(r"(/dev/[A-Za-z0-9._/+-]+)=(\d+):(\d+)")


def _mount(*args: str) -> None:
    program = shutil.which("mount", path=HOST_PATH)
    if program is None:
        raise OSError("mount not found")
    subprocess.run([program, *args], check=True, stdin=subprocess.DEVNULL)


def _disk(spec: str) -> tuple[Path, int]:
    match = _DISK.fullmatch(spec)
    if match is None or ".." in spec:
        raise ValueError(f"not a disk: {spec!r} (PATH=MAJOR:MINOR, PATH under /dev)")
    path, major, minor = match.groups()
    return Path(path), os.makedev(int(major), int(minor))


def build(staging: Path, disks: list[tuple[Path, int]]) -> None:
    _mount("-t", "tmpfs", "-o", "mode=0755,nosuid,size=1m", "lab-dev", str(staging))
    for name in CHARACTER_DEVICES:
        found = os.stat(f"/dev/{name}")
        if stat.S_ISCHR(found.st_mode):
            os.mknod(staging / name, found.st_mode, found.st_rdev)
    for name, target in SYMLINKS.items():
        os.symlink(target, staging / name)
    (staging / "pts").mkdir()
    _mount("--bind", "/dev/pts", str(staging / "pts"))
    (staging / "shm").mkdir()
    _mount("-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "lab-shm", str(staging / "shm"))
    for path, device in disks:
        node = staging / path.relative_to("/dev")
        node.parent.mkdir(parents=True, exist_ok=True)
        os.mknod(node, stat.S_IFBLK | 0o660, device)
    _mount("--move", str(staging), "/dev")


def main(argv: list[str]) -> int:
    if not argv:
        print(USAGE, file=sys.stderr)
        return 2
    os.umask(0)  # the device nodes keep the host's modes: /dev/null is writable by all
    try:
        disks = [_disk(spec) for spec in argv[1:]]
        build(Path(argv[0]), disks)
    except (OSError, ValueError, subprocess.CalledProcessError) as err:
        print(f"nodedev: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
