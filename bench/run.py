"""`make bench`: every benchmark, each printed as a table. Not part of the test suite."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import failover, manifests, observe
from bench.table import print_table

BENCHMARKS = [
    ("manifests: load and validate", manifests.HEADER, manifests.main),
    ("observe: one pass of parsing into the Observed model", observe.HEADER, observe.main),
    (
        "failover on the lab, default settings (power-off -> domain running on the survivor)",
        failover.HEADER,
        failover.main,
    ),
]

if __name__ == "__main__":
    for title, header, run in BENCHMARKS:
        print_table(title, header, run())
