"""A lab's inventory: what `lab up` planned and created, in `<root>/<lab id>/lab.json`.

Each thing is recorded before it is created (namespaces, the switch) or right after (the PIDs of
the holders and of the stand-in server, known only then), and the file is rewritten atomically
each time. A crash of `lab up` at any point thus leaves an inventory that names everything that
may exist, so `down` can undo it; what a crash leaves unrecorded `down` still finds by the lab's
name prefix, or a process by its command line.

The lab directory also holds `bin/` (stand-in executables, first on each node's PATH), `sim/`
(the simulator's state, shared by the nodes), `standin.sock` (the socket of the stand-in server
that answers them; its `standin.log` and `standin-drbd.conf` beside it), and per node
`<node>/state/` (its state directory), `<node>/etc/` (its own /etc/drbd.d and /etc/xen),
`<node>/disks/` (its physical volumes' images), `<node>/lvm/` (its lvm.conf) and its kernel files
`proc-drbd` and `mountinfo`, all kept across a power-off, as a disk would be; `disks/<node>/drbd<minor>/`
holds what a node's DRBD device carries (the directory mounted where the device is, `fsmount.py`),
and `<node>/root` is where a node's own root is assembled at boot; `switch.nft` the switch's rules.
"""

import hashlib
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from reconciler.lab.errors import LabError
from reconciler.lab.network import EndPlan, NetworkPlan
from reconciler.lab.switch import LinkFault, OneWay
from reconciler.observe.runner import Runner, SubprocessRunner
from reconciler.render.files import write_atomically

DEFAULT_ROOT = Path("/run/reconciler-lab")
ROOT_ENV = "RECONCILER_LAB_ROOT"
INVENTORY_FILE = "lab.json"
BIN_DIR = "bin"
# Short and without '-': the id goes into interface names (15 characters at most) and must not
# make one lab's name prefix the beginning of another's.
_LAB_ID = re.compile(r"[a-z0-9]{1,8}")


def default_root() -> Path:
    return Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT)


def check_lab_id(value: str) -> str:
    if not _LAB_ID.fullmatch(value):
        raise LabError(f"{value!r} is not a lab id: use 1 to 8 lower-case letters and digits")
    return value


def new_lab_id() -> str:
    return secrets.token_hex(3)


class ManifestRef(BaseModel):
    """The Cluster manifest a lab was built from, to tell later whether it has changed."""

    path: str
    cluster: str
    sha256: str

    @classmethod
    def of(cls, path: Path, cluster: str) -> "ManifestRef":
        return cls(
            path=str(path.resolve()), cluster=cluster, sha256=hashlib.sha256(path.read_bytes()).hexdigest()
        )


class NodeRecord(BaseModel):
    name: str
    namespace: str
    holder_pid: int | None = None
    running: bool = False
    interfaces: dict[str, str] = {}  # network -> interface name, once the end is in place


class DiskRecord(BaseModel):
    """A node's physical volume: a sparse file on a loop device, shown in the node as `path`."""

    node: str
    path: str  # as the manifests name it, e.g. /dev/hda
    image: str
    size: int
    loop: str | None = None  # /dev/loopN, once attached


class Inventory(BaseModel):
    version: int = 1
    lab_id: str
    manifest: ManifestRef
    plan: NetworkPlan
    switch: str | None = None  # the switch's namespace, recorded before it is made
    nodes: list[NodeRecord] = []
    partitioned: list[str] = []  # networks cut at the switch by `partition`, until `heal`
    one_way: list[OneWay] = []  # one-way cuts (`partition --from`), until `heal`
    link_faults: list[LinkFault] = []  # loss and delay (`fault net`), until `fault net --clear`
    host_dirs: list[str] = []  # directories of the host that `up` created (mount points), parents first
    disks: list[DiskRecord] = []  # recorded before their image and loop device are made
    server_pid: int | None = None  # the stand-in server's, once started
    complete: bool = False  # set by the last step of `up`

    def record(self, node: str) -> NodeRecord | None:
        return next((n for n in self.nodes if n.name == node), None)

    def live_ends(self) -> list[EndPlan]:
        """The node ends that should have carrier: those of the nodes that are on (a partition
        is cut at the switch; the nodes keep their carrier)."""
        running = {n.name for n in self.nodes if n.running}
        return [end for link in self.plan.links for end in link.ends if end.node in running]


def lab_dir(root: Path, lab_id: str) -> Path:
    return root / check_lab_id(lab_id)


def save_inventory(directory: Path, inventory: Inventory) -> None:
    write_atomically(
        directory / INVENTORY_FILE, inventory.model_dump_json(indent=2) + "\n", keep_previous=False
    )


def load_inventory(directory: Path) -> Inventory:
    path = directory / INVENTORY_FILE
    try:
        return Inventory.model_validate_json(path.read_text())
    except FileNotFoundError:
        raise LabError(f"no lab at {directory} ({INVENTORY_FILE} is missing)") from None
    except (OSError, ValidationError) as err:
        raise LabError(f"cannot read {path}: {err}") from err


def list_labs(root: Path) -> list[str]:
    """Ids of the labs with a directory and an inventory under `root` (complete or not)."""
    if not root.is_dir():
        return []
    return sorted(
        p.name for p in root.iterdir() if _LAB_ID.fullmatch(p.name) and (p / INVENTORY_FILE).is_file()
    )


@dataclass
class Lab:
    """A lab as the operations see it: where it lives, its inventory, how to run commands."""

    root: Path
    inventory: Inventory
    runner: Runner = field(default_factory=SubprocessRunner)

    @property
    def id(self) -> str:
        return self.inventory.lab_id

    @property
    def dir(self) -> Path:
        return lab_dir(self.root, self.id)

    @property
    def bin_dir(self) -> Path:
        return self.dir / BIN_DIR

    def state_dir(self, node: str) -> Path:
        return self.dir / node / "state"

    def node(self, name: str) -> NodeRecord:
        self.inventory.plan.node(name)  # an unknown name: the error lists the lab's nodes
        record = self.inventory.record(name)
        if record is None:
            raise LabError(f"node {name} of lab {self.id} was never created (a half-built lab: `lab down`)")
        return record

    def save(self) -> None:
        save_inventory(self.dir, self.inventory)


def select_lab_id(root: Path, lab_id: str | None) -> str:
    """`lab_id`, or the only lab under `root` when it is None."""
    if lab_id is not None:
        return check_lab_id(lab_id)
    labs = list_labs(root)
    if len(labs) != 1:
        found = f"labs {', '.join(labs)}" if labs else "no lab"
        raise LabError(f"{found} under {root}: " + ("choose one with --id" if labs else "run `lab up`"))
    return labs[0]


def open_lab(root: Path, lab_id: str | None, runner: Runner | None = None) -> Lab:
    """The lab `lab_id` under `root`, or the only lab there when `lab_id` is None."""
    inventory = load_inventory(lab_dir(root, select_lab_id(root, lab_id)))
    return Lab(root=root, inventory=inventory, runner=runner or SubprocessRunner())
