"""Shared set-ups of the lab tests: a simulated two-node cluster with one DRBD resource, and
waiting for a process to end."""

import time
from pathlib import Path

from reconciler.lab.sim import Cluster, handle, simple_cluster
from reconciler.lab.sim.model import GIB, MIB
from reconciler.observe.runner import CommandResult

RESOURCE = "r0"
DEVICE = "/dev/drbd0"
LV_SIZE = GIB
RATE = 10 * MIB  # resync-rate 10M in the file: about 102 s for the whole LV


def resource_file(nodes: tuple[str, str] = ("alpha", "beta"), nine: bool = True) -> str:
    hosts = []
    for i, node in enumerate(nodes):
        node_id = f"        node-id   {i};\n" if nine else ""
        hosts.append(
            f'    on "{node}" {{\n{node_id}'
            f"        device    /dev/drbd0;\n"
            f'        disk      "/dev/vg0/data";\n'
            f"        address   192.168.100.{11 + i}:7789;\n"
            f"        meta-disk internal;\n    }}\n"
        )
    mesh = f'    connection-mesh {{\n        hosts "{nodes[0]}" "{nodes[1]}";\n    }}\n' if nine else ""
    return (
        '# /etc/drbd.d/r0.res: generated for the lab tests (with "quotes" in a comment)\n'
        f'resource "{RESOURCE}" {{\n    net {{\n        protocol C;\n    }}\n'
        "    disk {\n        c-plan-ahead 0;\n        resync-rate 10M;\n    }\n"
        + "".join(hosts)
        + mesh
        + "}\n"
    )


def run(cluster: Cluster, node: str, *argv: str, timeout: float = 10.0) -> CommandResult:
    return handle(cluster, node, argv, timeout)


def must(cluster: Cluster, node: str, *argv: str) -> CommandResult:
    result = run(cluster, node, *argv)
    assert result.ok, result.describe()
    return result


def storage(cluster: Cluster, node: str) -> None:
    must(cluster, node, "vgcreate", "vg0", "/dev/sdb")
    must(cluster, node, "lvcreate", "--yes", "--name", "data", "--size", f"{LV_SIZE}b", "vg0")
    cluster.node(node).files["/etc/drbd.d/r0.res"] = resource_file(nine=cluster.node(node).drbd.nine)


def force_primary(nine: bool, resource: str = RESOURCE) -> tuple[str, ...]:
    """The initial sync's promotion as each version's drbdadm takes it (8.3 has no --force)."""
    if nine:
        return ("drbdadm", "primary", "--force", resource)
    return ("drbdadm", "--", "--overwrite-data-of-peer", "primary", resource)


def fresh_pair(drbd_version: str = "9.2.8", toolstack: str = "xl") -> Cluster:
    """Both nodes with the LV, fresh metadata and the resource up: Inconsistent/Inconsistent."""
    cluster = simple_cluster(drbd_version=drbd_version, toolstack=toolstack)
    for node in ("alpha", "beta"):
        storage(cluster, node)
        must(cluster, node, "drbdadm", "create-md", RESOURCE)
        must(cluster, node, "drbdadm", "up", RESOURCE)
    return cluster


def synced_pair(drbd_version: str = "9.2.8", toolstack: str = "xl") -> Cluster:
    """alpha Primary with an ext4 filesystem, beta Secondary, both UpToDate and connected."""
    cluster = fresh_pair(drbd_version, toolstack)
    must(cluster, "alpha", *force_primary(cluster.node("alpha").drbd.nine))
    cluster.tick(LV_SIZE / RATE + 1)
    must(cluster, "alpha", "mkfs", "-t", "ext4", DEVICE)
    return cluster


def dstate(cluster: Cluster, node: str) -> str:
    return must(cluster, node, "drbdadm", "dstate", RESOURCE).stdout.strip()


def role(cluster: Cluster, node: str) -> str:
    return must(cluster, node, "drbdadm", "role", RESOURCE).stdout.strip()


def gone(pid: int) -> bool:
    """The process has exited (a zombie not yet reaped counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def wait_until_gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
