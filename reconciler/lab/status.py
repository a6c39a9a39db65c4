"""What a lab looks like now: per node, its holder, its links and addresses as `ip` shows them
inside the node, and whether it reaches its peer on each network (one ping from inside).

Everything is observed afresh; the inventory only says where to look and what was intended
(`running`, `partitioned`), so a status shows a difference between the two rather than hiding it.
"""

from concurrent.futures import ThreadPoolExecutor

from pydantic import BaseModel

from reconciler.lab.inventory import Lab, ManifestRef
from reconciler.lab.network import LinkPlan, list_namespaces, name_prefix, observe_addresses, ping
from reconciler.lab.node import holder_alive
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


class NodeStatus(BaseModel):
    name: str
    namespace: str
    namespace_present: bool
    holder_pid: int | None
    holder_alive: bool
    running: bool  # what the inventory intends (`kill` / `start`)
    links: list[LinkStatus]


class LabStatus(BaseModel):
    lab_id: str
    directory: str
    manifest: ManifestRef
    complete: bool
    partitioned: list[str]
    nodes: list[NodeStatus]


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
    return LabStatus(
        lab_id=lab.id,
        directory=str(lab.dir),
        manifest=lab.inventory.manifest,
        complete=lab.inventory.complete,
        partitioned=list(lab.inventory.partitioned),
        nodes=nodes,
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
    for node in lab.nodes:
        power = "on" if node.holder_alive else "OFF"
        holder = f"holder {node.holder_pid}" if node.holder_pid else "no holder"
        missing = "" if node.namespace_present else " (MISSING)"
        lines.append(f"{node.name}: {power}, namespace {node.namespace}{missing}, {holder}")
        for link in node.links:
            state = "absent" if not link.present else "up" if link.admin_up else "DOWN"
            carrier = "" if not link.present or link.carrier else ", no carrier"
            cut = " [partitioned]" if link.partitioned else ""
            reach = _yes_no(link.reachable, "reachable", "UNREACHABLE")
            lines.append(
                f"  {link.network:<10} {link.interface:<8} {state}{carrier} "
                f"{' '.join(link.addresses) or '(no address)'} -> peer {link.peer}: {reach}{cut}"
            )
    return "\n".join(lines)
