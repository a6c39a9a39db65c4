"""Building and removing a lab, and cutting its networks: `up`, `down`, `partition`, `heal`.

`up` records each step in the inventory before taking it, and undoes everything when a step
fails. Besides the network it gives the lab its simulator (`simsetup`: the shared state, the
stand-ins in bin/, and `standin_server`, the process on the host that answers them), each node
its disks (`disks`: loop devices for real lvm2) and its private
/etc directories; a host directory they are mounted
over is created only if missing, and then removed again by `down`.

`down` works from whatever inventory there is (none, partial or whole) and also finds what a
crash left unrecorded by the lab's name prefix: namespaces, veth ends still in the host's
namespace, holder processes and the stand-in server by their command line, loop devices by their
backing file. It never touches anything else.
"""

import errno
import os
import shutil
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from reconciler.lab import disks, replication, simsetup, standin_server
from reconciler.lab import node as nodes
from reconciler.lab.errors import CommandFailed, LabError
from reconciler.lab.inventory import (
    INVENTORY_FILE,
    Inventory,
    Lab,
    ManifestRef,
    NodeRecord,
    check_lab_id,
    lab_dir,
    list_labs,
    load_inventory,
    new_lab_id,
)
from reconciler.lab.network import (
    EndPlan,
    delete_host_link,
    delete_namespace,
    host_links,
    list_namespaces,
    name_prefix,
    plan_network,
    settle_links,
)
from reconciler.lab.simstate import DEFAULT_SPEED
from reconciler.lab.simstate import set_links as set_sim_links
from reconciler.lab.switch import OneWay, apply_faults, create_switch, set_forwarding
from reconciler.manifest import ManifestError, ManifestSet, load_manifests
from reconciler.manifest.loader import LoadedCluster
from reconciler.observe.runner import DEFAULT_TIMEOUT, Runner, SubprocessRunner


def require_root() -> None:
    if os.geteuid() != 0:
        raise LabError("the lab needs root (it creates network namespaces and veth links): run it as root")


def load_set(manifests: Path) -> ManifestSet:
    """The manifests of a file or directory; every error at once otherwise."""
    try:
        return load_manifests([manifests])
    except ManifestError as err:
        raise LabError(f"{err.render_text()}\n{len(err.diagnostics)} error(s) in the manifests") from err


def load_cluster(manifests: Path) -> LoadedCluster:
    """The Cluster document of a manifest file or directory; every error at once otherwise."""
    return load_set(manifests).cluster


def up(
    manifests: Path,
    root: Path,
    lab_id: str | None = None,
    runner: Runner | None = None,
    speed: float = DEFAULT_SPEED,
    drbd: Sequence[str] = (),
    toolstack: str | None = None,
) -> Lab:
    """Build a lab from the manifests in `manifests` (a file or a directory): its network from
    the Cluster document, its simulator from the whole set. `speed`: simulated seconds per second;
    `drbd`: `--drbd` values (a version for both nodes, or NODE=VERSION); `toolstack`: xm or xl."""
    manifest_set = load_set(manifests)
    loaded = manifest_set.cluster
    versions = simsetup.drbd_versions(manifest_set, drbd)
    lab_id = check_lab_id(lab_id) if lab_id is not None else new_lab_id()
    runner = runner or SubprocessRunner()
    _refuse_existing(root, lab_id, runner)
    inventory = Inventory(
        lab_id=lab_id,
        manifest=ManifestRef.of(Path(loaded.source.file), loaded.document.metadata.name),
        plan=plan_network(lab_id, loaded.document),
    )
    lab = Lab(root=root, inventory=inventory, runner=runner)
    # Outside the clean-up below: if another `up` made this directory meanwhile, it is not ours.
    try:
        lab.dir.mkdir(parents=True)
    except FileExistsError:
        raise LabError(f"lab {lab_id} exists already") from None
    try:
        lab.save()  # first, so that what follows is in a directory `down` knows to be a lab's
        _make_dirs(lab)
        simsetup.create(lab.dir, lab.bin_dir, manifest_set, [manifests], speed, versions, toolstack)
        _start_server(lab)
        _make_disks(lab, manifest_set)
        _build(lab)
    except BaseException as failure:
        # Even on ^C: a half-built lab holds namespaces and processes nobody would remember.
        try:
            down(root, lab_id, runner)
        except LabError as err:
            failure.add_note(f"removing the half-built lab failed too: {err}")
        raise
    return lab


def _refuse_existing(root: Path, lab_id: str, runner: Runner) -> None:
    if lab_dir(root, lab_id).exists() or list_namespaces(runner, name_prefix(lab_id)):
        raise LabError(f"lab {lab_id} exists already (`lab down --id {lab_id}` removes it)")


def _make_dirs(lab: Lab) -> None:
    # The stand-in executables go into bin/, first on every node's PATH.
    lab.bin_dir.mkdir()
    for planned in lab.inventory.plan.nodes:
        lab.state_dir(planned.name).mkdir(parents=True)
        for path in nodes.PRIVATE_DIRS:
            nodes.private_dir(lab, planned.name, path).mkdir(parents=True)
    for path in nodes.PRIVATE_DIRS:
        _host_dir(lab, Path(path))


def _start_server(lab: Lab) -> None:
    """The process that answers the nodes' stand-ins (`standin_server`); recorded once its PID
    is known (a crash before leaves it to be found by its command line)."""
    result = lab.runner.run(standin_server.server_argv(lab.dir), DEFAULT_TIMEOUT)
    if not result.ok:
        raise CommandFailed(result)
    try:
        lab.inventory.server_pid = int(result.stdout.strip())
    except ValueError:
        raise LabError(f"the stand-in server printed {result.stdout!r} instead of its PID") from None
    lab.save()


def _make_disks(lab: Lab, manifest_set: ManifestSet) -> None:
    lab.inventory.disks = disks.plan_disks(lab.dir, manifest_set)
    lab.save()
    for planned in lab.inventory.plan.nodes:
        disks.staging_dir(lab.dir, planned.name).mkdir()
        disks.write_lvm_conf(lab, planned.name)
    disks.attach_all(lab)


def _host_dir(lab: Lab, path: Path) -> None:
    """Make `path` on the host if it is missing (a mount point), each level recorded first."""
    missing = [p for p in (*reversed(path.parents), path) if not p.exists()]
    for directory in missing:
        lab.inventory.host_dirs.append(str(directory))
        lab.save()
        directory.mkdir()


def _build(lab: Lab) -> None:
    inventory = lab.inventory
    inventory.switch = inventory.plan.switch
    lab.save()
    create_switch(lab.runner, inventory.plan)
    for planned in inventory.plan.nodes:
        inventory.nodes.append(NodeRecord(name=planned.name, namespace=planned.namespace))
        lab.save()
        nodes.plug(lab, inventory.nodes[-1])
    for record in inventory.nodes:
        nodes.boot(lab, record)
    settle_links(lab.runner, inventory.live_ends())
    inventory.complete = True
    lab.save()


def down(root: Path, lab_id: str, runner: Runner | None = None) -> list[str]:
    """Remove lab `lab_id` and whatever is left of it; what was removed, one line each.

    Every step is tried even when one fails; the failures are reported together at the end, and
    the lab directory is kept then, so that `down` can be run again.
    """
    check_lab_id(lab_id)
    runner = runner or SubprocessRunner()
    directory = lab_dir(root, lab_id)
    try:
        inventory: Inventory | None = load_inventory(directory)
    except LabError:
        inventory = None  # a crash before the first save, or a damaged file: the scans still work
    prefix = name_prefix(lab_id)
    removed: list[str] = []
    errors: list[str] = []
    namespaces = list_namespaces(runner, prefix)
    # The server first: it starts guests in the nodes, which must not begin while they are emptied.
    _attempt(errors, partial(_stop_server, lab_id, directory, inventory, removed))
    _attempt(errors, partial(_kill_all, runner, lab_id, namespaces, inventory, removed))
    _attempt(errors, partial(_detach_disks, runner, directory, removed))
    # Host-side ends (left by a lab of an older version) first: a namespace's veths (and so
    # their peers in the host) are destroyed only some time after `ip netns del` returns, and one
    # could vanish while being deleted. The switch's namespace is among the lab's, by its prefix.
    for name in host_links(runner, prefix):
        _attempt(errors, partial(_remove_host_link, runner, name, removed))
    for namespace in namespaces:
        _attempt(errors, partial(_remove_namespace, runner, namespace, removed))
    if inventory is not None and not errors:
        # Only once no node is left: the nodes' bind mounts are over these.
        for path in reversed(inventory.host_dirs):
            _attempt(errors, partial(_remove_host_dir, Path(path), removed))
    if errors:
        raise LabError(f"lab {lab_id} is not fully removed:\n" + "\n".join(errors))
    if _remove_lab_dir(directory):
        removed.append(f"directory {directory}")
    return removed


def _remove_lab_dir(directory: Path) -> bool:
    """Remove a lab's directory, but only one that is a lab's: a mistaken --root must not cost
    a directory that happens to be called like a lab id (`etc`, `usr`)."""
    if (directory / INVENTORY_FILE).exists():
        shutil.rmtree(directory)
        return True
    if directory.is_dir():
        try:
            directory.rmdir()  # `up` stopped between its mkdir and its first save
        except OSError:
            raise LabError(f"{directory} holds no {INVENTORY_FILE}: not a lab's, left alone") from None
        return True
    return False


def _attempt(errors: list[str], step: Callable[[], None]) -> None:
    try:
        step()
    except LabError as err:
        errors.append(str(err))


def _remove_host_dir(path: Path, removed: list[str]) -> None:
    """Remove a directory `up` made on the host, unless something was put there since."""
    try:
        path.rmdir()
    except FileNotFoundError:
        return
    except OSError as err:
        if err.errno == errno.ENOTEMPTY:
            removed.append(f"NOT host directory {path} (made by the lab, but no longer empty)")
            return
        raise LabError(f"cannot remove {path}: {err.strerror}") from err
    removed.append(f"host directory {path}")


def _detach_disks(runner: Runner, directory: Path, removed: list[str]) -> None:
    removed.extend(f"loop device {loop}" for loop in disks.detach_all(runner, directory))


def _remove_namespace(runner: Runner, namespace: str, removed: list[str]) -> None:
    delete_namespace(runner, namespace)
    removed.append(f"namespace {namespace}")


def _remove_host_link(runner: Runner, name: str, removed: list[str]) -> None:
    # A veth end left in the host's namespace by a crash; deleting it deletes its peer too.
    delete_host_link(runner, name)
    removed.append(f"host link {name}")


def _kill_all(
    runner: Runner, lab_id: str, namespaces: list[str], inventory: Inventory | None, removed: list[str]
) -> None:
    """Every process of the lab: those in its namespaces, and its holders and replication
    processes wherever they are."""
    for namespace in namespaces:
        killed = nodes.kill_namespace(runner, namespace)
        if killed:
            removed.append(f"processes {' '.join(map(str, killed))} in {namespace}")
    for pid in replication.find_processes(lab_id):
        nodes.kill_if(pid, lambda p: replication.is_replication(p, lab_id))
        if not nodes.wait_until(partial(replication.gone, pid, lab_id)):
            raise LabError(f"the replication process {pid} survives SIGKILL")
        removed.append(f"replication process {pid}")
    holders = dict(nodes.find_holders(lab_id))
    if inventory is not None:
        holders.update({r.holder_pid: r.name for r in inventory.nodes if r.holder_pid is not None})
    for pid, node in sorted(holders.items()):
        if nodes.is_holder(pid, lab_id, node):
            nodes.kill_holder(pid, lab_id, node)
            nodes.wait_gone(pid, lab_id, node)
            removed.append(f"holder {pid} of {node}")


def _stop_server(lab_id: str, directory: Path, inventory: Inventory | None, removed: list[str]) -> None:
    """The lab's stand-in server, recorded or found by its command line (a crash of `up` may
    have started it unrecorded), and its socket (a killed server cannot remove it)."""
    pids = set(standin_server.find_servers(lab_id))
    if inventory is not None and inventory.server_pid is not None:
        pids.add(inventory.server_pid)
    for pid in sorted(pids):
        try:
            if standin_server.stop(pid, lab_id):
                removed.append(f"stand-in server {pid}")
        except TimeoutError as err:
            raise LabError(str(err)) from None
    standin_server.socket_path(directory).unlink(missing_ok=True)


def down_all(root: Path, runner: Runner | None = None) -> dict[str, list[str]]:
    """`down` for every lab with a directory under `root` (labs of other roots are left alone)."""
    return {lab_id: down(root, lab_id, runner) for lab_id in list_labs(root)}


def partition(lab: Lab, network: str | None = None, sender: str | None = None) -> list[str]:
    """Cut `network` (every network for None) at the switch; the networks cut. With `sender`,
    one way only: what `sender` sends there is dropped, what it receives still comes."""
    inventory = lab.inventory
    links = inventory.plan.selected_links(network)
    if sender is not None:
        lab.node(sender)
        cuts = [OneWay(network=link.network, node=sender) for link in links]
        inventory.one_way += [cut for cut in cuts if cut not in inventory.one_way]
        lab.save()
        apply_faults(lab.runner, inventory.plan, lab.dir, inventory.one_way, inventory.link_faults)
    else:
        inventory.partitioned += [link.network for link in links if link.network not in inventory.partitioned]
        lab.save()
        for link in links:
            for end in _plugged(lab, link.ends):
                set_forwarding(lab.runner, inventory.plan.switch, end, forwarding=False)
    # Either way DRBD's TCP connection breaks: it needs both directions.
    set_sim_links(lab.dir, [link.network for link in links], up=False)
    return [link.network for link in links]


def _plugged(lab: Lab, ends: tuple[EndPlan, EndPlan]) -> list[EndPlan]:
    """The ends whose node is on: a node that is off has no port in the switch."""
    return [end for end in ends if (record := lab.inventory.record(end.node)) is not None and record.running]


def heal(lab: Lab, network: str | None = None) -> list[str]:
    """Undo the partitions and one-way cuts of `network` (every network for None) at the switch."""
    inventory = lab.inventory
    links = inventory.plan.selected_links(network)
    healed = {link.network for link in links}
    inventory.partitioned = [n for n in inventory.partitioned if n not in healed]
    inventory.one_way = [cut for cut in inventory.one_way if cut.network not in healed]
    lab.save()
    for link in links:
        for end in _plugged(lab, link.ends):
            set_forwarding(lab.runner, inventory.plan.switch, end, forwarding=True)
    apply_faults(lab.runner, inventory.plan, lab.dir, inventory.one_way, inventory.link_faults)
    settle_links(lab.runner, inventory.live_ends())
    set_sim_links(lab.dir, [link.network for link in links], up=True)
    return [link.network for link in links]
