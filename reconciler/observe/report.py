"""The observed state of a node, as a person reads it."""

from reconciler.observe.drbd.models import Resource
from reconciler.observe.state import Observed


def _gib(size: int | None) -> str:
    return "?" if size is None else f"{size / 2**30:.1f}G"


def render_observed(o: Observed) -> str:
    lines = [f"node {o.node}  (observed {o.taken_at:%Y-%m-%d %H:%M:%S %Z}, {len(o.commands)} commands)"]
    if o.host:
        h = o.host
        lines.append(
            f"  host        load {h.load1:.2f} {h.load5:.2f} {h.load15:.2f} on {h.cpu_count} CPUs, "
            f"memory {h.memory_percent:.0f}% used, swap {h.swap_percent:.0f}% used"
        )
    if o.lvm:
        lines.append(f"  lvm         {len(o.lvm.vgs)} volume groups, {len(o.lvm.lvs)} logical volumes")
        for vg in o.lvm.vgs:
            lvs = ", ".join(
                f"{lv.name} {_gib(lv.size)}" for lv in o.lvm.lvs if lv.vg == vg.name and not lv.hidden
            )
            lines.append(f"    {vg.name}  {_gib(vg.size)}, {_gib(vg.free)} free: {lvs or 'no volumes'}")
    if o.drbd:
        head = f"DRBD {o.drbd.version}" if o.drbd.loaded else "module not loaded"
        lines.append(f"  drbd        {head}, {len(o.drbd.resources)} resources")
        lines += [f"    {_resource(r)}" for r in o.drbd.resources]
    if o.domains:
        doms = ", ".join(f"{d.name} ({d.raw_state or '?'})" for d in o.domains.domains if not d.is_dom0)
        lines.append(f"  domains     {o.domains.toolstack}: {doms or 'none but Domain-0'}")
    if o.interfaces:
        for i in o.interfaces.interfaces:
            addrs = " ".join(str(a.ip) for a in i.addresses) or "-"
            lines.append(f"  interface   {i.name} {i.operstate.value}: {addrs}")
    if o.mounts:
        lines.append(f"  mounts      {len(o.mounts.mounts)} in the mount table")
    for e in o.errors:
        lines.append(f"  ERROR       {e.section.value}: {e.message}")
    for section, u in o.surprises():
        lines.append(f"  UNKNOWN     {section.value}: line {u.line}: {u.field} = {u.value!r}")
    return "\n".join(lines)


def _resource(r: Resource) -> str:
    disks = "/".join(v.disk_state.value for v in r.volumes) or "no disk"
    peers = "; ".join(
        f"peer {c.name or '?'} {c.connection_state.value} {c.peer_role.value} "
        + "/".join(p.peer_disk_state.value for p in c.peer_volumes)
        for c in r.connections
    )
    minors = ",".join(str(v.minor) for v in r.volumes if v.minor is not None)
    return f"{r.name or 'minor ' + minors} {r.role.value} {disks}" + (f", {peers}" if peers else "")
