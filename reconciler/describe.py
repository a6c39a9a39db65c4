"""A plan-less summary of what a manifest set declares, for people."""

from reconciler.manifest import LoadedApplication, ManifestSet
from reconciler.manifest.cluster import ArbitrationSpec, ClusterSpec
from reconciler.manifest.monitor import format_action
from reconciler.manifest.storage import Storage
from reconciler.manifest.units import format_duration, format_rate, format_size


def describe(manifests: ManifestSet) -> str:
    cluster = manifests.cluster.document
    lines = [f"Cluster {cluster.metadata.name}: nodes {', '.join(n.name for n in cluster.spec.nodes)}"]
    lines += _networks(cluster.spec)
    lines.append(f"  arbitration  {_arbitration(cluster.spec.arbitration)}")
    lines.append(f"  state        {cluster.spec.state_dir}")
    for app in manifests.applications:
        lines.append("")
        lines += _application(app)
    return "\n".join(lines)


def _networks(spec: ClusterSpec) -> list[str]:
    out = []
    for net in spec.networks:
        ends = "; ".join(
            f"{node.name} {net.interfaces.get(node.name, '?')} {node.addresses.get(net.name, '?')}"
            for node in spec.nodes
        )
        role = "heartbeat" if net.heartbeat else "no heartbeat"
        out.append(f"  network      {net.name} {net.subnet}: {ends} ({role})")
    return out


def _arbitration(a: ArbitrationSpec) -> str:
    tie = f"tie-breaker {a.tie_breaker.type} {a.tie_breaker.address}" if a.tie_breaker else "no tie-breaker"
    fence = f"fencing {a.fencing.command[0]}" if a.fencing else "no fencing"
    every, dead = format_duration(a.heartbeat_interval), format_duration(a.dead_time)
    return f"heartbeat every {every} on port {a.port}, peer dead after {dead}, {tie}, {fence}"


def _storage(storage: Storage) -> list[str]:
    vg = storage.volume_group
    pvs = "; ".join(f"{node}: {' '.join(devs)}" for node, devs in vg.physical_volumes.items())
    out = [f"  storage      volume group {vg.name} ({pvs})"]
    for lv in storage.logical_volumes:
        d = lv.drbd
        fs = (
            f", {lv.filesystem.type.value} on {lv.filesystem.mount_point}"
            if lv.filesystem
            else ", raw device"
        )
        out.append(
            f"    {lv.name} {format_size(lv.size)}: DRBD {d.resource} /dev/drbd{d.minor} port {d.port} "
            f"protocol {d.protocol} at {format_rate(d.sync_rate)}{fs}"
        )
    return out


def _application(app: LoadedApplication) -> list[str]:
    spec = app.document.spec
    p = spec.placement
    out = [
        f"Application {app.name}  ({app.source.start.file}:{app.source.start.line})",
        f"  placement    preferred {p.preferred_node}, {'sticky' if p.stickiness else 'not sticky'}, "
        f"failback {p.failback.value}, takeover {p.takeover.value}, "
        f"{'autostart' if p.autostart else 'manual start'}",
        *_storage(spec.storage),
    ]
    dom = spec.domain
    source = (
        "config inline"
        if dom.config is not None
        else f"config {dom.config_file}"
        if dom.config_file
        else "commands"
    )
    overrides = "; ".join(
        f"{n} overrides {', '.join(o.config) or o.config_file}" for n, o in dom.nodes.items()
    )
    out.append(
        f"  domain       {dom.name} ({dom.toolstack.value}), {source}"
        + (f"; {overrides}" if overrides else "")
    )
    for net in spec.networks:
        out.append(f"  network      {net.name}: {net.ip or ', '.join(str(a) for a in net.addresses)}")
    out.append(
        f"  start        timeout {format_duration(spec.start.timeout)}"
        + (f", ready when {spec.start.readiness.type} succeeds" if spec.start.readiness else "")
    )
    out.append(
        f"  stop         timeout {format_duration(spec.stop.timeout)}, then {spec.stop.escalation.value}"
    )
    for m in spec.monitors:
        actions = ", ".join(f"{rc} {format_action(a)}" for rc, a in sorted(m.actions.items()))
        out.append(f"  monitor      {m.name} ({m.type}) every {format_duration(m.interval)}: {actions}")
    return out
