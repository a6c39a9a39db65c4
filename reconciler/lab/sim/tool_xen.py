"""xl and xm stand-ins: list, create, shutdown -w, destroy. A node has one of them (or none).

`create` reads the config with the project's own reader and needs what the domain's disks name:
a DRBD device must be Primary here (as the block hotplug script fails to open a Secondary),
a file must be on a mounted filesystem. `shutdown -w` waits, on the virtual clock, for the
domain's shutdown time; a domain that ignores the request makes it time out.
"""

import posixpath

from reconciler.lab.sim import reports
from reconciler.lab.sim.model import MIB, SimDomain, SimNode
from reconciler.lab.sim.result import failed, missing, ok, timed_out, unsupported
from reconciler.lab.sim.state import Cluster
from reconciler.lab.sim.tool_fs import drbd_device, open_problem
from reconciler.observe.errors import ParseError
from reconciler.observe.runner import CommandResult
from reconciler.observe.xen_config import XenConfig, parse_xen_config


def _absent(argv: tuple[str, ...], name: str) -> CommandResult:
    if argv[0] == "xl":
        return failed(argv, 1, f"{name} is an invalid domain identifier (rc=-6)\n")
    return failed(argv, 1, f"Error: Domain '{name}' does not exist.\n")


def _list(node: SimNode, argv: tuple[str, ...]) -> CommandResult:
    table = reports.xen_list(node)
    if len(argv) == 2:
        return ok(argv, table)
    name = argv[2]
    header, *rows = table.splitlines()
    mine = [r for r in rows if r.split()[0] == name]
    return ok(argv, "\n".join([header, *mine]) + "\n") if mine else _absent(argv, name)


def _storage_problem(cluster: Cluster, node: SimNode, config: XenConfig) -> str | None:
    for disk in config.disks:
        target = disk.target or ""
        res = drbd_device(node, target)
        if res is not None:
            problem = open_problem(cluster, node, res)
            if problem is not None:
                return f"libxl: error: libxl_device.c: device {target}: {problem.lower()}"
        elif target.startswith("/dev/"):
            if node.block_size(target) is None:
                return f"libxl: error: libxl_device.c: failed to stat {target}: No such file or directory"
        else:
            directory = posixpath.dirname(target)
            mount = node.mount_at(directory)
            if target not in node.files and (mount is None or mount.base):
                return f"libxl: error: libxl_device.c: failed to stat {target}: No such file or directory"
    return None


def _config(node: SimNode, argv: tuple[str, ...], parsing: str) -> XenConfig | CommandResult:
    path = argv[2]
    text = node.files.get(path)
    if text is None:
        if argv[0] == "xl":
            return failed(
                argv, 1, f"{parsing}Failed to read config file: {path}: No such file or directory\n"
            )
        return failed(argv, 1, f"Error: Unable to open config file: {path}\n")
    try:
        config = parse_xen_config(text)
    except ParseError as err:
        return failed(argv, 1, f"{parsing}Failed to parse config: {err}\n")
    if config.name is None:
        return failed(argv, 1, f"{parsing}Domain name must be specified.\n")
    running = node.xen.domain(config.name)
    if running is not None:
        message = (
            f"libxl: error: libxl_create.c: domain name '{config.name}' already exists (domain {running.id})"
        )
        return failed(argv, 1, f"{parsing}{message}\n")
    return config


def _create(cluster: Cluster, node: SimNode, argv: tuple[str, ...]) -> CommandResult:
    tool, path = argv[0], argv[2]
    parsing = f"Parsing config from {path}\n" if tool == "xl" else ""
    config = _config(node, argv, parsing)
    if isinstance(config, CommandResult):
        return config
    assert config.name is not None
    problem = _storage_problem(cluster, node, config)
    if problem is not None:
        return failed(argv, 1, f"{parsing}{problem}\n")
    domain = SimDomain(
        name=config.name,
        id=node.xen.next_id,
        memory=(config.memory or 128 * MIB) // MIB,
        vcpus=config.vcpus or 1,
        config_path=path,
        devices=[d.target for d in config.disks if d.target],
        ips=[v.options["ip"] for v in config.vifs if "ip" in v.options],
        shutdown_seconds=node.xen.shutdown_seconds,
    )
    node.xen.domains.append(domain)
    node.xen.next_id += 1
    if tool == "xm":
        return ok(argv, f'Using config file "{path}".\nStarted domain {domain.name} (id={domain.id})\n')
    return ok(argv, stderr=parsing)


def _shutdown(cluster: Cluster, node: SimNode, argv: tuple[str, ...], timeout: float) -> CommandResult:
    name = argv[-1]
    domain = node.xen.domain(name)
    if domain is None:
        return _absent(argv, name)
    if domain.shutdown_at is None:
        domain.shutdown_at = cluster.clock
    if "-w" not in argv:
        return ok(argv)
    waited = "Waiting for 1 domains\n" if argv[0] == "xl" else ""
    if (
        domain.shutdown_seconds is None
        or domain.shutdown_at + domain.shutdown_seconds - cluster.clock > timeout
    ):
        cluster.tick(timeout)
        return timed_out(argv, timeout, waited)
    cluster.tick(max(0.0, domain.shutdown_at + domain.shutdown_seconds - cluster.clock))
    return ok(
        argv, waited + (f"Domain {domain.id} has been shut down, reason code 0\n" if argv[0] == "xl" else "")
    )


def _destroy(cluster: Cluster, node: SimNode, argv: tuple[str, ...], timeout: float) -> CommandResult:
    domain = node.xen.domain(argv[2])
    if domain is None:
        return _absent(argv, argv[2])
    node.xen.domains.remove(domain)
    return ok(argv)


def xen(cluster: Cluster, node: SimNode, argv: tuple[str, ...], timeout: float) -> CommandResult:
    if node.xen.toolstack != argv[0]:
        return missing(argv)
    sub = argv[1] if len(argv) > 1 else ""
    if sub == "list" and len(argv) in (2, 3):
        return _list(node, argv)
    if sub == "create" and len(argv) == 3:
        return _create(cluster, node, argv)
    if sub == "shutdown" and len(argv) in (3, 4) and argv[2:-1] in ((), ("-w",)):
        return _shutdown(cluster, node, argv, timeout)
    if sub == "destroy" and len(argv) == 3:
        return _destroy(cluster, node, argv, timeout)
    return unsupported(argv)
