"""What a lab looks like now: per node, its holder, its links and addresses as `ip` shows them
inside the node, whether it reaches its peer on each network (one ping from inside), and its
replication processes with the paths they measure; the switch's ports as `bridge` shows them,
with the cuts and faults in force; the stand-in server.

Everything is observed afresh; the inventory only says where to look and what was intended
(`running`, `partitioned`), so a status shows a difference between the two rather than hiding it.
"""

import json
import time
from concurrent.futures import ThreadPoolExecutor

from pydantic import BaseModel

from reconciler.lab import replication, standin_server
from reconciler.lab.inventory import Lab, ManifestRef
from reconciler.lab.network import LinkPlan, list_namespaces, name_prefix, observe_addresses, ping
from reconciler.lab.node import holder_alive
from reconciler.lab.switch import LinkFault, OneWay
from reconciler.observe.ip import AddrList, Interface


class LinkStatus(BaseModel):
    network: str
    interface: str
    present: bool  # the interface exists in the node's namespace
    admin_up: bool = False
    carrier: bool = False  # LOWER_UP: the peer's end is up too
    addresses: list[str] = []
    peer: str  # the peer's address on this network
    reachable: bool | None = None  # None: not checked (the node is off or has no namespace)
    partitioned: bool = False


class ReplicationStatus(BaseModel):
    """The node's replication processes (one while it is on), and the paths they measure up."""

    pids: list[int] = []
    paths: dict[str, bool] = {}  # per DRBD resource: its TCP path carries pings (a fresh report)


class NodeStatus(BaseModel):
    name: str
    namespace: str
    namespace_present: bool
    holder_pid: int | None
    holder_alive: bool
    running: bool  # what the inventory intends (`kill` / `start`)
    links: list[LinkStatus]
    replication: ReplicationStatus = ReplicationStatus()


class PortStatus(BaseModel):
    network: str
    node: str
    port: str
    present: bool  # a node that is off has no port
    state: str | None = None  # the bridge's: forwarding, or disabled while partitioned
    carrier: bool = False


class SwitchStatus(BaseModel):
    namespace: str
    present: bool
    ports: list[PortStatus] = []
    one_way: list[OneWay] = []
    link_faults: list[LinkFault] = []


class ServerStatus(BaseModel):
    pid: int | None
    alive: bool
    socket: str
    socket_present: bool


class LabStatus(BaseModel):
    lab_id: str
    directory: str
    manifest: ManifestRef
    complete: bool
    partitioned: list[str]
    nodes: list[NodeStatus]
    switch: SwitchStatus | None = None
    server: ServerStatus | None = None


def _link_status(lab: Lab, node: str, link: LinkPlan, addrs: AddrList | None) -> LinkStatus:
    end = link.end(node)
    found: Interface | None = None
    if addrs is not None:
        found = next((i for i in addrs.interfaces if i.name == end.interface), None)
    return LinkStatus(
        network=link.network,
        interface=end.interface,
        present=found is not None,
        admin_up=found is not None and found.admin_up,
        carrier=found is not None and found.lower_up,
        addresses=[str(a.ip) for a in found.addresses if a.scope == "global"] if found else [],
        peer=str(link.peer(node).address.ip),
        partitioned=link.network in lab.inventory.partitioned,
    )


def _node_status(lab: Lab, node: str, namespace: str, present: bool) -> NodeStatus:
    record = lab.inventory.record(node)
    pid = record.holder_pid if record else None
    addrs = observe_addresses(lab.runner, namespace) if present else None
    return NodeStatus(
        name=node,
        namespace=namespace,
        namespace_present=present,
        holder_pid=pid,
        holder_alive=holder_alive(pid, lab.id, node),
        running=record.running if record else False,
        links=[_link_status(lab, node, link, addrs) for link in lab.inventory.plan.links],
    )


def status(lab: Lab) -> LabStatus:
    existing = set(list_namespaces(lab.runner, name_prefix(lab.id)))
    nodes = [
        _node_status(lab, n.name, n.namespace, n.namespace in existing) for n in lab.inventory.plan.nodes
    ]
    _check_reachability(lab, nodes)
    _add_replication(lab, nodes)
    return LabStatus(
        lab_id=lab.id,
        directory=str(lab.dir),
        manifest=lab.inventory.manifest,
        complete=lab.inventory.complete,
        partitioned=list(lab.inventory.partitioned),
        nodes=nodes,
        switch=_switch_status(lab, lab.inventory.plan.switch in existing),
        server=_server_status(lab),
    )


def _add_replication(lab: Lab, nodes: list[NodeStatus]) -> None:
    found = replication.find_node_processes(lab.id)
    now = time.time()
    for node in nodes:
        paths = replication.read_paths(replication.status_file(lab.dir, node.name), now)
        node.replication = ReplicationStatus(pids=found.get(node.name, []), paths=paths)


def _switch_status(lab: Lab, present: bool) -> SwitchStatus:
    inventory = lab.inventory
    shown: dict[str, dict[str, object]] = {}
    if present:
        result = lab.runner.run(["bridge", "-n", inventory.plan.switch, "-j", "link", "show"])
        if result.ok and result.stdout.strip():
            shown = {str(e.get("ifname")): e for e in json.loads(result.stdout)}
    ports = []
    for link in inventory.plan.links:
        for end in link.ends:
            entry = shown.get(end.port)
            flags = entry.get("flags", []) if entry else []
            ports.append(
                PortStatus(
                    network=link.network,
                    node=end.node,
                    port=end.port,
                    present=entry is not None,
                    state=str(entry["state"]) if entry and "state" in entry else None,
                    carrier=isinstance(flags, list) and "LOWER_UP" in flags,
                )
            )
    return SwitchStatus(
        namespace=inventory.plan.switch,
        present=present,
        ports=ports,
        one_way=list(inventory.one_way),
        link_faults=list(inventory.link_faults),
    )


def _server_status(lab: Lab) -> ServerStatus:
    pid = lab.inventory.server_pid
    socket = standin_server.socket_path(lab.dir)
    return ServerStatus(
        pid=pid,
        alive=pid is not None and standin_server.is_server(pid, lab.id),
        socket=str(socket),
        socket_present=socket.is_socket(),
    )


def _check_reachability(lab: Lab, nodes: list[NodeStatus]) -> None:
    """Ping every peer from every live node at once: a failed ping waits its whole second."""
    checks = [(node, link) for node in nodes if node.holder_alive for link in node.links]
    if not checks:
        return
    with ThreadPoolExecutor(max_workers=len(checks)) as pool:
        answers = pool.map(lambda c: ping(lab.runner, c[0].namespace, c[1].peer), checks)
        for (_, link), reachable in zip(checks, answers, strict=True):
            link.reachable = reachable


def _yes_no(value: bool | None, yes: str, no: str) -> str:
    return "-" if value is None else yes if value else no


def render_status(lab: LabStatus) -> str:
    lines = [f"lab {lab.lab_id}: cluster {lab.manifest.cluster} ({lab.manifest.path}), in {lab.directory}"]
    if not lab.complete:
        lines.append("  INCOMPLETE: `lab up` did not finish; `lab down` removes what it made")
    if lab.server is not None:
        lines.append(_render_server(lab.server))
    for node in lab.nodes:
        lines += _render_node(node)
    if lab.switch is not None:
        lines += _render_switch(lab.switch)
    return "\n".join(lines)


def _render_server(server: ServerStatus) -> str:
    state = "running" if server.alive else "NOT RUNNING"
    socket = "" if server.socket_present else " (MISSING)"
    return f"stand-in server: {state}, pid {server.pid or '-'}, socket {server.socket}{socket}"


def _render_node(node: NodeStatus) -> list[str]:
    power = "on" if node.holder_alive else "OFF"
    holder = f"holder {node.holder_pid}" if node.holder_pid else "no holder"
    # A node that is off has no namespace (its NICs are gone): missing only when it should be on.
    missing = "" if node.namespace_present or not node.running else " (MISSING)"
    lines = [f"{node.name}: {power}, namespace {node.namespace}{missing}, {holder}"]
    for link in node.links:
        state = "absent" if not link.present else "up" if link.admin_up else "DOWN"
        carrier = "" if not link.present or link.carrier else ", no carrier"
        cut = " [partitioned]" if link.partitioned else ""
        reach = _yes_no(link.reachable, "reachable", "UNREACHABLE")
        lines.append(
            f"  {link.network:<10} {link.interface:<8} {state}{carrier} "
            f"{' '.join(link.addresses) or '(no address)'} -> peer {link.peer}: {reach}{cut}"
        )
    pids = " ".join(map(str, node.replication.pids)) or "none"
    paths = ", ".join(f"{name} {'up' if up else 'DOWN'}" for name, up in node.replication.paths.items())
    lines.append(f"  replication: pid {pids}; paths: {paths or 'none'}")
    return lines


def _render_switch(switch: SwitchStatus) -> list[str]:
    missing = "" if switch.present else " (MISSING)"
    lines = [f"switch: namespace {switch.namespace}{missing}"]
    for port in switch.ports:
        state = f"{port.state}{'' if port.carrier else ', no carrier'}" if port.present else "absent"
        lines.append(f"  {port.network:<10} {port.port:<8} to {port.node}: {state}")
    lines += [f"  one way: {cut.network}: what {cut.node} sends is dropped" for cut in switch.one_way]
    lines += [f"  fault: {fault.describe()}" for fault in switch.link_faults]
    return lines
