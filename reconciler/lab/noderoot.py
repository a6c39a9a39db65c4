"""A lab node's own root: the host's directories, bound onto a root of the node's own.

Run as a script inside the node's mount namespace (`nsenter --mount`), first at each boot:
`python -I noderoot.py STAGING`. It mounts a small tmpfs on STAGING (a directory of the lab),
binds each of the host's top-level directories there with everything mounted below them
(`--rbind`: /proc, /dev, /run, /tmp and the lab's own directories stay as they are), copies the
host's top-level symbolic links and binds its top-level files, then makes it the namespace's
root (pivot_root) and lets go of the old one. Writes under /etc or /var still reach the host's
directories; only a new top-level directory, such as an application's mount point /virt, is the
node's alone: made on its tmpfs root, gone at power-off, never seen by the host.

It imports nothing of the reconciler, as holder.py: it runs in a namespace being set up.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

USAGE = "usage: noderoot.py STAGING"
HOST_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
OLD_ROOT = ".old-root"


def _program(name: str) -> str:
    found = shutil.which(name, path=HOST_PATH)
    if found is None:
        raise OSError(f"{name} not found")
    return found


def _mount(*args: str) -> None:
    subprocess.run([_program("mount"), *args], check=True, stdin=subprocess.DEVNULL)


def _furnish(staging: Path) -> None:
    """The host's top level, bound into `staging`."""
    for entry in sorted(os.scandir("/"), key=lambda e: e.name):
        target = staging / entry.name
        if entry.is_symlink():
            os.symlink(os.readlink(entry.path), target)
        elif entry.is_dir():
            target.mkdir()
            _mount("--rbind", entry.path, str(target))
        else:
            target.touch()
            _mount("--bind", entry.path, str(target))


def build(staging: Path) -> None:
    _mount("-t", "tmpfs", "-o", "mode=0755,size=16m", "lab-root", str(staging))
    _furnish(staging)
    (staging / OLD_ROOT).mkdir()
    os.chdir(staging)
    # pivot_root(2) moves the root (and the working directory) of every process of the
    # namespace that had the old one, the holder's included.
    subprocess.run([_program("pivot_root"), ".", OLD_ROOT], check=True, stdin=subprocess.DEVNULL)
    os.chdir("/")
    subprocess.run([_program("umount"), "-l", f"/{OLD_ROOT}"], check=True, stdin=subprocess.DEVNULL)
    os.rmdir(f"/{OLD_ROOT}")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        build(Path(argv[0]))
    except (OSError, subprocess.CalledProcessError) as err:
        print(f"noderoot: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
