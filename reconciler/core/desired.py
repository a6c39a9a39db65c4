"""The desired state of one node, given the manifests and who is active for each application.

On the active node: storage up, DRBD Primary, filesystems mounted, addresses up, domain running.
On the standby: storage up, DRBD Secondary and in sync; nothing mounted, no address, no domain.
Pure: the configuration files are rendered here, the caller decides where the roles come from
(preferred node, `--active APP=NODE`, later the arbiter).
"""

from datetime import timedelta
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address

from pydantic import BaseModel, ConfigDict

from reconciler.manifest import LoadedApplication, ManifestSet
from reconciler.manifest.application import LEAST_CPU_LOAD, StopEscalation, Takeover
from reconciler.manifest.domain import Toolstack
from reconciler.manifest.monitor import PingMonitor, TcpMonitor
from reconciler.manifest.storage import Filesystem
from reconciler.render.drbd import DrbdFlavour, render_drbd_resource
from reconciler.render.xen import render_domain_config

DRBD_CONFIG_DIR = "/etc/drbd.d"
XEN_CONFIG_DIR = "/etc/xen"


class AppRole(StrEnum):
    ACTIVE = "active"
    STANDBY = "standby"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class DesiredVolume(Frozen):
    lv: str
    vg: str
    size: int
    resource: str
    minor: int
    sync_rate: int
    filesystem: Filesystem | None
    config_path: str
    config: str

    @property
    def device(self) -> str:
        return f"/dev/drbd{self.minor}"

    @property
    def backing(self) -> str:
        return f"/dev/{self.vg}/{self.lv}"


class DesiredAddress(Frozen):
    address: IPv4Address | IPv6Address
    prefix: int
    interface: str
    network: str
    declared: tuple[str | int, ...]

    @property
    def cidr(self) -> str:
        return f"{self.address}/{self.prefix}"


class DesiredDomain(Frozen):
    name: str
    toolstack: Toolstack
    config_path: str | None
    config: str | None
    start: tuple[str, ...]
    stop: tuple[str, ...]
    status: tuple[str, ...]
    destroy: tuple[str, ...] | None


class DesiredApp(Frozen):
    name: str
    role: AppRole
    source: LoadedApplication
    vg: str
    physical_volumes: tuple[str, ...]
    volumes: tuple[DesiredVolume, ...]
    addresses: tuple[DesiredAddress, ...]
    needed_interfaces: tuple[tuple[str, str], ...]  # (network, interface) that must be up
    domain: DesiredDomain
    start_timeout: timedelta
    stop_timeout: timedelta
    escalation: StopEscalation
    takeover: Takeover
    readiness: TcpMonitor | PingMonitor | None


class DesiredLink(Frozen):
    """The node's own address on one cluster network, on the interface the Cluster names."""

    network: str
    interface: str
    address: IPv4Address | IPv6Address
    prefix: int
    declared_at: str

    @property
    def cidr(self) -> str:
        return f"{self.address}/{self.prefix}"


class DesiredNode(Frozen):
    node: str
    flavour: DrbdFlavour
    apps: tuple[DesiredApp, ...]
    links: tuple[DesiredLink, ...] = ()


class PlacementError(ValueError):
    pass


def placement(manifests: ManifestSet, overrides: dict[str, str]) -> dict[str, str]:
    """Which node is active for each application: `--active` overrides, else the preferred node.

    LEAST_CPU_LOAD needs both nodes' loads, which only the arbiter has; without it, the first node
    of the cluster is taken, and the override says otherwise.
    """
    nodes = [n.name for n in manifests.cluster.document.spec.nodes]
    names = {a.name for a in manifests.applications}
    for name, node in overrides.items():
        if name not in names:
            raise PlacementError(f"--active {name}={node}: no application {name!r}")
        if node not in nodes:
            raise PlacementError(
                f"--active {name}={node}: {node!r} is not a node of the cluster ({', '.join(nodes)})"
            )
    result = {}
    for app in manifests.applications:
        preferred = app.document.spec.placement.preferred_node
        result[app.name] = overrides.get(app.name, nodes[0] if preferred == LEAST_CPU_LOAD else preferred)
    return result


def desired_node(
    manifests: ManifestSet, node: str, active: dict[str, str], flavour: DrbdFlavour
) -> DesiredNode:
    if node not in [n.name for n in manifests.cluster.document.spec.nodes]:
        raise PlacementError(
            f"this node {node!r} is not a node of cluster {manifests.cluster.document.metadata.name!r}"
        )
    apps = tuple(
        _desired_app(
            manifests, app, node, AppRole.ACTIVE if active[app.name] == node else AppRole.STANDBY, flavour
        )
        for app in manifests.applications
    )
    return DesiredNode(node=node, flavour=flavour, apps=apps, links=_links(manifests, node))


def _links(manifests: ManifestSet, node: str) -> tuple[DesiredLink, ...]:
    cluster = manifests.cluster
    spec = cluster.document.spec
    index = next(i for i, n in enumerate(spec.nodes) if n.name == node)
    links = []
    for net in spec.networks:
        address = spec.nodes[index].addresses.get(net.name)
        interface = net.interfaces.get(node)
        if address is None or interface is None:
            continue  # the manifest checks refuse this; nothing to compare
        where = cluster.source.locate(("spec", "nodes", index, "addresses", net.name))
        links.append(
            DesiredLink(
                network=net.name,
                interface=interface,
                address=address,
                prefix=net.subnet.prefixlen,
                declared_at=f"{where.file}:{where.line}",
            )
        )
    return tuple(links)


def _desired_app(
    manifests: ManifestSet, app: LoadedApplication, node: str, role: AppRole, flavour: DrbdFlavour
) -> DesiredApp:
    spec = app.document.spec
    cluster = manifests.cluster.document
    vg = spec.storage.volume_group
    volumes = tuple(
        DesiredVolume(
            lv=lv.name,
            vg=vg.name,
            size=lv.size,
            resource=lv.drbd.resource,
            minor=lv.drbd.minor,
            sync_rate=lv.drbd.sync_rate,
            filesystem=lv.filesystem,
            config_path=f"{DRBD_CONFIG_DIR}/{lv.drbd.resource}.res",
            config=render_drbd_resource(cluster, app.document, lv, flavour),
        )
        for lv in spec.storage.logical_volumes
    )
    networks = {n.name: n for n in cluster.spec.networks}
    addresses = tuple(
        DesiredAddress(
            address=address,
            prefix=networks[net.name].subnet.prefixlen,
            interface=networks[net.name].interfaces[node],
            network=net.name,
            declared=("spec", "networks", i, "addresses", j),
        )
        for i, net in enumerate(spec.networks)
        for j, address in enumerate(net.addresses)
    )
    needed = tuple((n.name, networks[n.name].interfaces[node]) for n in spec.networks)
    return DesiredApp(
        name=app.name,
        role=role,
        source=app,
        vg=vg.name,
        physical_volumes=vg.physical_volumes[node],
        volumes=volumes,
        addresses=addresses,
        needed_interfaces=needed,
        domain=_desired_domain(app, node),
        start_timeout=spec.start.timeout,
        stop_timeout=spec.stop.timeout,
        escalation=spec.stop.escalation,
        takeover=spec.placement.takeover,
        readiness=spec.start.readiness,
    )


def _desired_domain(app: LoadedApplication, node: str) -> DesiredDomain:
    domain = app.document.spec.domain
    if domain.toolstack is Toolstack.COMMANDS:
        assert domain.start and domain.stop and domain.status  # the model requires them
        return DesiredDomain(
            name=domain.name,
            toolstack=domain.toolstack,
            config_path=None,
            config=None,
            start=domain.start,
            stop=domain.stop,
            status=domain.status,
            destroy=None,
        )
    override = domain.nodes.get(node)
    config_file = override.config_file if override and override.config_file else domain.config_file
    config = render_domain_config(app.document, node)
    path = config_file or f"{XEN_CONFIG_DIR}/{domain.name}"
    tool = domain.toolstack.value
    return DesiredDomain(
        name=domain.name,
        toolstack=domain.toolstack,
        config_path=path,
        config=config,
        start=(tool, "create", path),
        stop=(tool, "shutdown", "-w", domain.name),
        status=(tool, "list", domain.name),
        destroy=(tool, "destroy", domain.name),
    )
