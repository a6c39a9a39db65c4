"""One observation pass (parse every tool's output into the Observed model) for 1 to 500 applications.

The outputs are real captures scaled up (tests/observe/synthetic.py), replayed without running
commands, so this measures the parsers and the model, which is what grows with a cluster; the
commands themselves are a constant seven per pass (tests/observe/test_node.py proves the count).
"""

import statistics
import time
import tracemalloc

from reconciler.observe.node import observe_node
from reconciler.observe.runner import ReplayRunner
from tests.observe.synthetic import node_outputs

SIZES = (1, 10, 100, 500)
REPEATS = 5
HEADER = ("applications", "output KiB", "pass ms (median of 5)", "ms per application", "peak MiB", "commands")


def measure(apps: int) -> tuple[str, ...]:
    results = node_outputs(apps)
    size = sum(len(r.stdout) for r in results) / 1024
    times = []
    for _ in range(REPEATS):
        runner = ReplayRunner(results)
        start = time.perf_counter()
        observe_node(runner)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    observe_node(ReplayRunner(results))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    median = statistics.median(times) * 1000
    return (
        str(apps),
        f"{size:.0f}",
        f"{median:.1f}",
        f"{median / apps:.2f}",
        f"{peak / 2**20:.1f}",
        str(len(runner.calls)),
    )


def main() -> list[tuple[str, ...]]:
    return [measure(apps) for apps in SIZES]
