"""Load, memory and swap of the node (psutil), and its name: what placement and monitors weigh."""

import os
import time

import psutil

from reconciler.observe.facts import Fact

PROBE = "<psutil>"


class HostLoad(Fact):
    node: str
    cpu_count: int
    load1: float
    load5: float
    load15: float
    memory_total: int
    memory_available: int
    memory_percent: float
    swap_total: int
    swap_used: int
    swap_percent: float
    boot_time: float

    @property
    def load_per_cpu(self) -> float:
        """LEAST_CPU_LOAD compares this: a 2-CPU node at load 1 is as busy as a 4-CPU one at 2."""
        return self.load1 / max(self.cpu_count, 1)


def read_host() -> HostLoad:
    load1, load5, load15 = os.getloadavg()
    memory = psutil.virtual_memory()
    swap = psutil.swap_memory()
    return HostLoad(
        node=os.uname().nodename,
        cpu_count=psutil.cpu_count() or 1,
        load1=load1,
        load5=load5,
        load15=load15,
        memory_total=memory.total,
        memory_available=memory.available,
        memory_percent=memory.percent,
        swap_total=swap.total,
        swap_used=swap.used,
        swap_percent=swap.percent,
        boot_time=psutil.boot_time() or time.time(),
    )
