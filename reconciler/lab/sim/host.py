"""`SimHost`: one node of the lab cluster as the executor's `Host` and the observer's `Runner`.

The same object serves `observe_node` (run, read, host) and the executor (run, read, write_file,
tcp_connect, monotonic, sleep), so a test drives the real observe -> diff -> plan -> execute code
against a node whose state changes when commands run. Time is the cluster's virtual clock:
`sleep` advances it (and with it every resync and shutdown), `monotonic` reads it.

With `root`, every call runs as a transaction on the saved cluster (lock, load, act, save), as a
stand-in process would; without it, on the in-memory `cluster`.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from reconciler.core.plan.model import FileWrite
from reconciler.lab.sim import commands
from reconciler.lab.sim.state import Cluster, locked
from reconciler.observe.runner import DEFAULT_TIMEOUT, CommandResult

T = TypeVar("T")


class SimHost:
    def __init__(self, cluster: Cluster | None, node: str, root: Path | None = None) -> None:
        if (cluster is None) == (root is None):
            raise ValueError("SimHost needs either a cluster in memory or the root of a saved one")
        self._cluster = cluster
        self.node = node
        self.root = root

    @property
    def cluster(self) -> Cluster:
        """The in-memory cluster, or a fresh read of the saved one (read-only use)."""
        if self._cluster is not None:
            return self._cluster
        assert self.root is not None
        return Cluster.load(self.root)

    @contextmanager
    def _state(self) -> Iterator[Cluster]:
        if self._cluster is not None:
            yield self._cluster
            return
        assert self.root is not None
        with locked(self.root):
            cluster = Cluster.load(self.root)
            try:
                yield cluster
            except commands.SimCrashed:
                cluster.save(self.root)  # the command took effect before the caller died
                raise
            cluster.save(self.root)

    def _with(self, act: Callable[[Cluster], T]) -> T:
        with self._state() as cluster:
            return act(cluster)

    # --- Runner ------------------------------------------------------------------------------

    def run(self, argv: Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> CommandResult:
        return self._with(lambda c: commands.handle(c, self.node, argv, timeout))

    def read(self, path: str) -> CommandResult:
        return self._with(lambda c: commands.read(c, self.node, path))

    def host(self) -> CommandResult:
        return self._with(lambda c: commands.host_probe(c, self.node))

    # --- Host --------------------------------------------------------------------------------

    def write_file(self, write: FileWrite) -> bool:
        return self._with(lambda c: commands.write(c, self.node, write))

    def tcp_connect(self, address: str, port: int, timeout: float = DEFAULT_TIMEOUT) -> bool:
        return self._with(lambda c: commands.tcp_connect(c, self.node, address, port, timeout))

    def monotonic(self) -> float:
        return self._with(lambda c: c.clock)

    def sleep(self, seconds: float) -> None:
        self._with(lambda c: c.tick(seconds))
