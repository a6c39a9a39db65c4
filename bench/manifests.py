"""Load and validate manifest sets of 1 to 500 applications: time and peak memory.

The agent re-reads the manifests on every edit, and validate runs in the CI of manifest repos; both
must stay fast as a cluster grows. Cost should grow linearly with the number of applications (the
cross-document checks are hash-based, except nested mounts, which compare pairs).
"""

import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from reconciler.manifest import load_manifests

REPO = Path(__file__).resolve().parent.parent
SIZES = (1, 10, 100, 500)
REPEATS = 3


def write_set(directory: Path, count: int) -> None:
    (directory / "cluster.yaml").write_text((REPO / "manifests" / "cluster.yaml").read_text())
    template = (REPO / "manifests" / "xapache.yaml").read_text()
    for i in range(count):
        text = (
            template.replace("name: xapache", f"name: app{i}")
            .replace("name: virtvg", f"name: vg{i}")
            .replace("resource: xapache-lv01", f"resource: app{i}-lv01")
            .replace("minor: 0", f"minor: {i}")
            .replace("port: 7789", f"port: {10000 + i}")
            .replace("mountPoint: /virt", f"mountPoint: /virt/app{i}")
            .replace("name: apache", f"name: dom{i}")
            .replace("[/dev/hda]", f"[/dev/disk{i}]")  # a disk belongs to one volume group
        )
        (directory / f"app{i}.yaml").write_text(text)


def measure(directory: Path) -> tuple[float, float]:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        load_manifests([directory])
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    load_manifests([directory])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times), peak / 2**20


def main() -> list[tuple[str, ...]]:
    rows = []
    for count in SIZES:
        with tempfile.TemporaryDirectory() as tmp:
            write_set(Path(tmp), count)
            seconds, peak = measure(Path(tmp))
        rows.append((str(count), f"{seconds * 1000:.1f}", f"{seconds * 1000 / count:.2f}", f"{peak:.1f}"))
    return rows


HEADER = ("applications", "load+validate ms (median of 3)", "ms per application", "peak MiB (tracemalloc)")
