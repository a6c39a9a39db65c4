"""What one simulated node holds: disks, LVM, DRBD, files, mounts, interfaces, Xen domains, load.

Plain mutable pydantic models, JSON-serialisable, so that a node's state can be written to a
directory and read back by another process (see `state`). The DRBD enums are the observer's own,
spelled as the kernel prints them. Sizes are bytes; Xen memory is MiB, as `xl list` shows it.
"""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from reconciler.observe.drbd.states import ConnectionState, DiskState, Role

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
PE_START = MIB  # lvm2 puts the first physical extent 1 MiB into a PV
DEFAULT_EXTENT = 4 * MIB
DRBD_MAJOR = 147
DM_MAJOR = 254


def metadata_size(size: int) -> int:
    """Internal meta data at the end of the backing device: bitmap (one bit per 4 KiB), 32 KiB
    activity log, 4 KiB superblock, in 4 KiB units."""
    bitmap = -(-size // (4 * KIB * 8))
    return -(-bitmap // (4 * KIB)) * 4 * KIB + 36 * KIB


class SimModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Disk(SimModel):
    """A block device that `vgcreate` may turn into a PV (`/dev/sdb`, `/dev/hda`)."""

    path: str
    size: int
    major: int = 8
    minor: int = 0


class Segment(SimModel):
    """Extents of an LV on one PV, in the LV's logical order."""

    pv: str
    start_pe: int
    size_pe: int


class SimLogicalVolume(SimModel):
    name: str
    vg: str
    size: int
    uuid: str
    segments: list[Segment] = Field(default_factory=list)
    created: str = "2026-01-01 00:00:00 +0000"
    kernel_minor: int = 0
    tags: list[str] = Field(default_factory=list)

    @property
    def path(self) -> str:
        return f"/dev/{self.vg}/{self.name}"


class SimVolumeGroup(SimModel):
    name: str
    uuid: str
    pvs: list[str]
    pv_uuids: dict[str, str] = Field(default_factory=dict)
    extent_size: int = DEFAULT_EXTENT
    extent_count: int = 0
    seqno: int = 1

    @property
    def size(self) -> int:
        return self.extent_count * self.extent_size


class DrbdMetadata(SimModel):
    """What `drbdadm create-md` wrote on a backing device, and what DRBD keeps there since.

    `diverged`: this side changed its data (was Primary) while not connected to the peer, so a
    reconnect must resync from it, or is a split brain when the peer diverged too. `pending`:
    bytes this side still has to receive (None: all of it, as after create-md). `fstype`: the
    filesystem inside the replicated device (`mkfs` on the Primary; copied by a resync).
    """

    disk: DiskState = DiskState.INCONSISTENT
    diverged: bool = False
    peer_outdated: bool = False
    pending: int | None = None
    dirty: int = 0
    fstype: str | None = None


class DrbdResource(SimModel):
    """A resource the kernel has (it is up). The peer's side is read from the peer node."""

    name: str
    minor: int
    volume: int = 0
    backing: str
    node_id: int = 0
    peer_node_id: int = 1
    peer_name: str
    role: Role = Role.SECONDARY
    connection: ConnectionState = ConnectionState.CONNECTING
    split_brain: bool = False
    discard_my_data: bool = False
    rate: int = 250 * KIB  # bytes/s; drbd's default resync-rate is 250K
    size: int = 0
    address: str | None = None  # this node's replication address, from the resource file
    written: int = 0
    # False once the backing device is detached (Diskless): after an I/O error (`on-io-error
    # detach`) or an `up` whose attach failed. The metadata on the device is left as it was.
    attached: bool = True

    @property
    def device(self) -> str:
        return f"/dev/drbd{self.minor}"


class SimDrbd(SimModel):
    """The DRBD kernel module and userland of a node.

    `installed`: the module can be loaded (drbdsetup loads it on first use). `load_at_boot`: the
    distribution's drbd init script loads it when the node boots (the lab's DRBD 8 nodes: CentOS 5's
    drbd83 package), so /proc/drbd tells the version before any resource is up. `auto_promote`:
    DRBD 9's default is yes (opening the device promotes it); the lab defaults to no, so that
    only an explicit `drbdadm primary` promotes.
    """

    installed: bool = True
    load_at_boot: bool = False
    loaded: bool = False
    version: str = "9.2.8"
    auto_promote: bool = False
    resources: list[DrbdResource] = Field(default_factory=list)
    metadata: dict[str, DrbdMetadata] = Field(default_factory=dict)

    @property
    def nine(self) -> bool:
        return int(self.version.split(".", 1)[0]) >= 9

    @property
    def family(self) -> str:
        """The family, `versions.RELEASES`' key (8.3, 8.4, 9): what the stand-ins print depends on it."""
        major, minor = self.version.split(".")[:2]
        return "9" if self.nine else f"{major}.{minor}"

    def resource(self, name: str) -> DrbdResource | None:
        return next((r for r in self.resources if r.name == name), None)

    def by_minor(self, minor: int) -> DrbdResource | None:
        return next((r for r in self.resources if r.minor == minor), None)


class SimMount(SimModel):
    mount_id: int
    parent_id: int
    mount_point: str
    source: str
    fstype: str
    options: list[str] = Field(default_factory=lambda: ["rw", "relatime"])
    super_options: list[str] = Field(default_factory=lambda: ["rw"])
    major: int = 0
    minor: int = 0
    base: bool = False  # part of the booted system: survives a power cycle


class SimAddress(SimModel):
    cidr: str  # "10.0.0.1/24"
    broadcast: str | None = None
    label: str | None = None
    permanent: bool = True  # configured at boot; `ip addr add` ones are lost at power off


class SimInterface(SimModel):
    name: str
    index: int
    mac: str = "52:54:00:00:00:01"
    up: bool = True
    loopback: bool = False
    mtu: int = 1500
    addresses: list[SimAddress] = Field(default_factory=list)


class SimDomainState(StrEnum):
    RUNNING = "r-----"
    BLOCKED = "-b----"


class SimDomain(SimModel):
    """A running guest. `shutdown_seconds` is how long it takes to shut down when asked (None:
    it ignores the request); `shutdown_at` is set once asked."""

    name: str
    id: int
    memory: int  # MiB
    vcpus: int = 1
    state: SimDomainState = SimDomainState.BLOCKED
    cpu_time: float = 0.0
    config_path: str | None = None
    devices: list[str] = Field(default_factory=list)
    ips: list[str] = Field(default_factory=list)
    shutdown_seconds: float | None = 5.0
    shutdown_at: float | None = None
    pid: int | None = None  # in a lab with namespaces: the real process that stands for the guest


class Xen(SimModel):
    """`toolstack` is the command the node has (`xl` or `xm`), None for a node without Xen."""

    toolstack: str | None = "xl"
    dom0_memory: int = 1024
    dom0_vcpus: int = 2
    domains: list[SimDomain] = Field(default_factory=list)
    next_id: int = 1
    shutdown_seconds: float | None = 5.0  # of domains created from now on

    def domain(self, name: str) -> SimDomain | None:
        return next((d for d in self.domains if d.name == name), None)


class Load(SimModel):
    """What the host probe reports (HostLoad without the node name)."""

    cpu_count: int = 4
    load1: float = 0.1
    load5: float = 0.1
    load15: float = 0.1
    memory_total: int = 8 * GIB
    memory_available: int = 6 * GIB
    memory_percent: float = 25.0
    swap_total: int = 2 * GIB
    swap_used: int = 0
    swap_percent: float = 0.0
    boot_time: float = 1_700_000_000.0


# Directories of a booted node (paths inside the simulated node, not of this machine).
DEFAULT_DIRECTORIES = ("/", "/etc", "/etc/drbd.d", "/etc/xen", "/mnt", "/srv", "/var", "/var/lib")


class SimNode(SimModel):
    name: str
    powered: bool = True
    disks: list[Disk] = Field(default_factory=list)
    vgs: list[SimVolumeGroup] = Field(default_factory=list)
    lvs: list[SimLogicalVolume] = Field(default_factory=list)
    drbd: SimDrbd = Field(default_factory=SimDrbd)
    files: dict[str, str] = Field(default_factory=dict)
    directories: list[str] = Field(default_factory=lambda: list(DEFAULT_DIRECTORIES))
    mounts: list[SimMount] = Field(default_factory=list)
    next_mount_id: int = 100
    interfaces: list[SimInterface] = Field(default_factory=list)
    xen: Xen = Field(default_factory=Xen)
    load: Load = Field(default_factory=Load)
    serial: int = 0  # for generated UUIDs, so that a saved state replays the same
    # Block devices (disks, LVs) whose I/O fails: the hardware is broken, so it stays broken
    # through a power cycle until `drbd_disk.repair_disk` (see there).
    failed_devices: list[str] = Field(default_factory=list)

    def disk(self, path: str) -> Disk | None:
        return next((d for d in self.disks if d.path == path), None)

    def vg(self, name: str) -> SimVolumeGroup | None:
        return next((v for v in self.vgs if v.name == name), None)

    def lv(self, vg: str, name: str) -> SimLogicalVolume | None:
        return next((lv for lv in self.lvs if lv.vg == vg and lv.name == name), None)

    def lv_at(self, path: str) -> SimLogicalVolume | None:
        return next((lv for lv in self.lvs if lv.path == path), None)

    def interface(self, name: str) -> SimInterface | None:
        return next((i for i in self.interfaces if i.name == name), None)

    def mount_at(self, mount_point: str) -> SimMount | None:
        return next((m for m in reversed(self.mounts) if m.mount_point == mount_point), None)

    def block_size(self, path: str) -> int | None:
        """The size of a block device of this node (a disk or an LV), None if there is none."""
        disk = self.disk(path)
        if disk is not None:
            return disk.size
        lv = self.lv_at(path)
        return lv.size if lv is not None else None


class Sync(SimModel):
    """A resync of one resource between the two nodes, in bytes still to copy."""

    resource: str
    source: str
    target: str
    total: int
    left: int
    started_at: float = 0.0
