"""(Re)create the simulator-derived cases of tests/core/cases (see the README there).

    .venv/bin/python -m tests.core.make_cases [NAME ...]     # all generated cases, or those named
    UPDATE_CASES=1 .venv/bin/python -m pytest -q tests/core  # then their expected plans; review them

Each case below drives the lab's simulator (`SimHost` over `lab_cluster`) through real apply
rounds and commands to a state, records one observation pass of the planning node with
`capture` (a `RecordingRunner`), optionally edits what was recorded (a command that failed, a
file that differs), and writes it as plain files. Only the directories named here are rewritten:
hand-made cases (the README lists them) are left alone. Nothing here runs on the host.
"""

import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.core.placement import StaticPlacement
from reconciler.core.plan.model import FileWrite
from reconciler.core.reconcile import PassContext, PassOptions, only, probe_apps, reconcile
from reconciler.execute import NullJournal
from reconciler.lab.sim import Cluster, SimHost, lab_cluster
from reconciler.lab.sim import commands as sim_commands
from reconciler.lab.sim.model import GIB
from reconciler.lab.sim.rounds import FAST, REVISION
from reconciler.manifest import ManifestSet, load_manifests
from reconciler.observe.bundle import capture
from reconciler.observe.host import PROBE
from reconciler.observe.node import HostFiles
from reconciler.observe.runner import CommandResult, Outcome, Runner
from reconciler.render.drbd import DrbdFlavour, render_drbd_resource
from tests.conftest import FIXTURES, REPO
from tests.core.test_cases import CASES, EXPECTED, INDEX

S1, S2 = "centos5s1", "centos5s2"
DRBD9, DRBD84, DRBD83 = "9.2.8", "8.4.11", "8.3.8"
SERVICE = "/etc/init.d/httpd"  # the `commands` toolstack's start/stop/status script
Results = list[CommandResult]
Setup = Callable[["Lab"], object]  # brings the simulated cluster to the case's state

# --- manifests: the seed, and edits of it ----------------------------------------------------

SEED_CLUSTER = (REPO / "manifests" / "cluster.yaml").read_text()
SEED_APP = (REPO / "manifests" / "xapache.yaml").read_text()
XEN_DOMAIN = SEED_APP[SEED_APP.index("  domain:\n") : SEED_APP.index("  networks:\n")]
COMMANDS_DOMAIN = f"""\
  domain:
    toolstack: commands               # a service on the node, no Xen: its own start/stop/status
    name: apache
    start: [{SERVICE}, start]
    stop: [{SERVICE}, stop]
    status: [{SERVICE}, status]      # LSB: exit 0 running, 3 stopped
"""
XWEB = """\
# yaml-language-server: $schema=../schemas/manifest.schema.json
#
# A second application beside the seed's xapache: its own disk, volume group, DRBD minor and port.
apiVersion: reconciler/v1
kind: Application
metadata:
  name: xweb
  description: Xen VM "web" on replicated storage
spec:
  placement:
    preferredNode: centos5s2
  storage:
    volumeGroup:
      name: webvg
      physicalVolumes:
        centos5s1: [/dev/hdb]
        centos5s2: [/dev/hdb]
    logicalVolumes:
      - name: web01
        size: 4G
        drbd:
          resource: xweb-web01
          minor: 1
          port: 7790
          protocol: C
          syncRate: 10M/s
        filesystem:
          type: ext3
          mountPoint: /web
  domain:
    toolstack: xm
    name: web
    config:
      name: web
      memory: 256
      vcpus: 1
      bootloader: /usr/bin/pygrub
      disk: ["tap:aio:/web/web.img,xvda,w"]
      vif: ["mac=00:16:3e:01:13:98,bridge=xenbr0"]
  networks:
    - name: public
      addresses: [192.168.1.41]
  stop:
    timeout: 120s
"""


def edit(text: str, old: str, new: str) -> str:
    assert old in text, f"manifest edit: {old!r} not found"
    return text.replace(old, new, 1)


def seed(app: str = SEED_APP, *more: tuple[str, str]) -> dict[str, str]:
    return {"cluster.yaml": SEED_CLUSTER, "xapache.yaml": app, **dict(more)}


def xl(app: str = SEED_APP) -> str:
    return edit(
        app,
        "toolstack: xm                     # /usr/sbin/xm create apache; xm shutdown -w apache",
        "toolstack: xl                     # xl create /etc/xen/apache; xl shutdown -w apache",
    )


def commands(app: str = SEED_APP) -> str:
    return edit(app, XEN_DOMAIN, COMMANDS_DOMAIN)


def addressed(app: str = SEED_APP) -> str:
    return edit(
        app,
        "ip: MONITOR                     # needed to run; no address of its own",
        "addresses: [192.168.1.40]       # the service address moves with the application",
    )


def escalating(app: str = SEED_APP) -> str:
    return edit(
        app, "timeout: 600s                     # <maxstoptime>", "timeout: 600s\n    escalation: destroy"
    )


def ready(app: str = SEED_APP) -> str:
    return edit(
        addressed(app),
        "timeout: 600s                     # <maxstarttime>",
        "timeout: 600s\n    readiness:\n      name: http\n      type: tcp\n      address: 192.168.1.40\n"
        "      port: 80",
    )


LV02 = """\
      - name: lv02                    # a second volume, mounted inside the first
        size: 2G
        drbd:
          resource: xapache-lv02
          minor: 2
          port: 7791
          protocol: C
          syncRate: 10M/s
        filesystem:
          type: ext3
          mountPoint: /virt/data
"""


def two_volumes(app: str = SEED_APP) -> str:
    return edit(app, "  domain:\n", LV02 + "  domain:\n")


def inner_first(app: str = SEED_APP) -> str:
    """The second volume (mounted inside the first) declared before it."""
    return edit(app, "    logicalVolumes:\n", "    logicalVolumes:\n" + LV02)


def preserving(app: str = SEED_APP) -> str:
    """on_crash: preserve, so that a crashed domain stays listed (for xm dump-core)."""
    return edit(app, "on_crash: restart", "on_crash: preserve")


def forced(app: str = SEED_APP) -> str:
    return edit(app, "takeover: normal                  # <takeover>", "takeover: force")


# --- the simulated cluster, and hosts that also answer the `commands` service ---------------


class AppHost(SimHost):
    """A simulated node that also has the `commands` application's LSB service script."""

    def __init__(self, cluster: Cluster, node: str, services: dict[str, bool]) -> None:
        super().__init__(cluster, node)
        self.services = services

    def run(self, argv: Sequence[str], timeout: float = 10.0) -> CommandResult:
        args = tuple(argv)
        if not args or args[0] != SERVICE:
            return super().run(args, timeout)
        verb = args[1]
        running = self.services.get(self.node, False)
        if verb == "status":
            text = "httpd (pid 2817) is running...\n" if running else "httpd is stopped\n"
            return CommandResult(
                argv=args,
                outcome=Outcome.OK if running else Outcome.FAILED,
                returncode=0 if running else 3,
                stdout=text,
            )
        if verb in ("start", "stop"):
            self.services[self.node] = verb == "start"
            self.cluster.actions.append(f"{self.node}: {' '.join(args)} -> 0")
            return CommandResult(
                argv=args, outcome=Outcome.OK, returncode=0, stdout=f"{verb}ing httpd: [  OK  ]\n"
            )
        return CommandResult(
            argv=args,
            outcome=Outcome.FAILED,
            returncode=2,
            stderr=f"Usage: {SERVICE} {{start|stop|status}}\n",
        )


@dataclass
class Lab:
    cluster: Cluster
    manifests: ManifestSet
    services: dict[str, bool] = field(default_factory=dict)

    def host(self, node: str) -> AppHost:
        return AppHost(self.cluster, node, self.services)

    def apply(self, node: str, active: dict[str, str], destructive: bool = True) -> bool:
        """One apply pass on `node`; True when it had nothing left to do."""
        placed = only(self.manifests, set(active))
        ctx = PassContext(
            manifests=placed,
            revision=REVISION,
            node=node,
            host=self.host(node),
            placement=StaticPlacement(active, source="simulator"),
            journal=NullJournal(),
            options=PassOptions(allow_destructive=destructive, act=True, settings=FAST),
        )
        return reconcile(ctx).report is None

    def converge(self, active: dict[str, str], nodes: Sequence[str] = (S1, S2)) -> None:
        for _ in range(10):
            if all([self.apply(n, active) for n in nodes]):
                return
        raise AssertionError(f"no convergence for {active}: {self.cluster.actions[-8:]}")

    def run(self, node: str, *argv: str) -> None:
        result = self.host(node).run(argv)
        assert result.ok, result.describe()

    def write(self, node: str, path: str, content: str) -> None:
        sim_commands.write(self.cluster, node, FileWrite(path=path, content=content))


def new_lab(files: dict[str, str], drbd: str = DRBD9, toolstack: str = "xm") -> Lab:
    manifests = _load(files)
    disks = {
        pv: 20 * GIB
        for app in manifests.applications
        for pvs in app.document.spec.storage.volume_group.physical_volumes.values()
        for pv in pvs
    }
    cluster = lab_cluster(manifests.cluster.document, disks=disks, drbd_version=drbd, toolstack=toolstack)
    return Lab(cluster, manifests)


_LOADED: dict[str, ManifestSet] = {}


def _load(files: dict[str, str]) -> ManifestSet:
    """The manifests of `files` (name -> text), loaded once per distinct set."""
    key = json.dumps(files, sort_keys=True)
    if key not in _LOADED:
        with tempfile.TemporaryDirectory(prefix="case-manifests-") as where:
            for name, text in files.items():
                (Path(where) / name).write_text(text)
            _LOADED[key] = load_manifests([Path(where)])
    return _LOADED[key]


# --- edits of a recorded observation ---------------------------------------------------------


def _find(results: Results, argv: tuple[str, ...]) -> int:
    for i, r in enumerate(results):
        if r.argv == argv:
            return i
    raise AssertionError(f"{argv} was not recorded")


def fail(
    argv: tuple[str, ...], outcome: Outcome, stderr: str, returncode: int | None = None, seconds: float = 0.0
) -> Callable[[Results], Results]:
    def tweak(results: Results) -> Results:
        i = _find(results, argv)
        results[i] = CommandResult(
            argv=argv, outcome=outcome, returncode=returncode, stderr=stderr, seconds=seconds
        )
        return results[: i + 1] + [r for r in results[i + 1 :] if not _after_failure(argv, r.argv)]

    return tweak


def _after_failure(failed: tuple[str, ...], argv: tuple[str, ...]) -> bool:
    # What the pass does not run once /proc/drbd cannot be read: the DRBD 9 status.
    return failed == ("<read>", "/proc/drbd") and argv[:2] == ("drbdsetup", "status")


def stdout(argv: tuple[str, ...], change: Callable[[str], str]) -> Callable[[Results], Results]:
    def tweak(results: Results) -> Results:
        i = _find(results, argv)
        results[i] = results[i].model_copy(update={"stdout": change(results[i].stdout)})
        return results

    return tweak


def sub(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    def change(text: str) -> str:
        assert old in text, f"{old!r} not in the recorded output"
        return text.replace(old, new, count)

    return change


PROC = ("<read>", "/proc/drbd")
_838 = (FIXTURES / "drbd" / "proc-drbd-838-connected-synced.txt").read_text().splitlines(keepends=True)


def as_83(results: Results) -> Results:
    """The simulator prints 8.3 as it prints 8.4; a real 8.3.8 has its own header (from the
    captured tests/fixtures/drbd/proc-drbd-838-connected-synced.txt), 5-letter flags and no
    blank line between minors."""

    def change(text: str) -> str:
        lines = text.splitlines(keepends=True)
        body = [line.replace(" r-----", " r----") for line in lines[2:] if line.strip()]
        return "".join(_838[:2] + body)

    return stdout(PROC, change)(results)


# --- writing a case --------------------------------------------------------------------------

NAMES = {
    (PROBE,): "host.json",
    ("lvm", "fullreport", "--reportformat", "json", "--units", "b", "--nosuffix"): "lvm-fullreport.json",
    PROC: "proc-drbd.txt",
    ("drbdsetup", "status", "--json", "--statistics"): "drbdsetup-status.json",
    ("xl", "list"): "xl-list.txt",
    ("xm", "list"): "xm-list.txt",
    ("ip", "-j", "addr", "show"): "ip-j-addr-show.json",
    ("ip", "addr", "show"): "ip-addr-show.txt",
    ("<read>", "/proc/self/mountinfo"): "mountinfo.txt",
}


def stdout_name(argv: tuple[str, ...]) -> str:
    if argv in NAMES:
        return NAMES[argv]
    if argv[0] == "<read>":
        return "files" + argv[1]
    return "-".join(a.strip("/").replace("/", "_") for a in argv) + ".txt"


def write_observed(where: Path, results: Results) -> None:
    index = []
    for r in results:
        name = stdout_name(r.argv) if r.stdout else None
        if name is not None:
            (where / name).parent.mkdir(parents=True, exist_ok=True)
            (where / name).write_text(r.stdout)
        entry: dict[str, object] = {
            "argv": list(r.argv),
            "outcome": r.outcome.value,
            "returncode": r.returncode,
            "stdout_file": name,
            "stderr": r.stderr,
        }
        if r.outcome is Outcome.TIMEOUT:
            entry["seconds"] = r.seconds
        index.append(entry)
    (where / INDEX).write_text("[\n" + ",\n".join("  " + json.dumps(e) for e in index) + "\n]\n")


def _yaml_str(text: str) -> str:
    return json.dumps(" ".join(text.split()))


def write_case(spec: "Spec", lab: Lab, results: Results) -> None:
    where = CASES / spec.name
    # The expected answer is not the generator's: kept as it is (UPDATE_CASES=1 rewrites it).
    answer = (where / EXPECTED).read_text() if (where / EXPECTED).exists() else None
    shutil.rmtree(where, ignore_errors=True)
    (where / "manifests").mkdir(parents=True)
    (where / "observed").mkdir()
    for name, text in spec.files.items():
        (where / "manifests" / name).write_text(text)
    write_observed(where / "observed", results)
    lines = [
        f"# Generated by tests/core/make_cases.py ({spec.name}); edit the generator, not this file.",
        f"description: {_yaml_str(spec.description)}",
        f"node: {spec.node}",
        "placement:" + ("" if spec.placement else " {}"),
        *(f"  {app}: {node}" for app, node in spec.placement.items()),
        f"allowDestructive: {'true' if spec.destructive else 'false'}",
    ]
    if spec.status:
        lines.append(f"expectStatus: {spec.status}")
    if spec.xfail:
        lines.append(f"xfail: {_yaml_str(spec.xfail)}")
    (where / "case.yaml").write_text("\n".join(lines) + "\n")
    if answer is not None:
        (where / EXPECTED).write_text(answer)


@dataclass(frozen=True)
class Spec:
    name: str
    description: str
    files: dict[str, str]
    setup: Setup
    node: str
    placement: dict[str, str]
    drbd: str = DRBD9
    toolstack: str = "xm"
    destructive: bool = False
    status: str | None = None
    tweaks: tuple[Callable[[Results], Results], ...] = ()
    xfail: str | None = None


def make(spec: Spec) -> None:
    lab = new_lab(spec.files, spec.drbd, spec.toolstack)
    spec.setup(lab)
    placed = only(lab.manifests, set(spec.placement))

    def also(runner: Runner) -> object:
        return probe_apps(runner, placed, spec.node, dict(spec.placement))

    _, bundle = capture(lab.host(spec.node), HostFiles(), also)
    results = list(bundle.results)
    if spec.drbd == DRBD83:
        results = as_83(results)
    for tweak in spec.tweaks:
        results = tweak(results)
    write_case(spec, lab, results)


# --- states ----------------------------------------------------------------------------------

ON_S1 = {"xapache": S1}
ON_S2 = {"xapache": S2}


def nothing(lab: Lab) -> None:
    pass


def converged(active: dict[str, str]) -> Setup:
    def setup(lab: Lab) -> None:
        lab.converge(active)

    return setup


def then(*steps: Setup) -> Setup:
    def setup(lab: Lab) -> None:
        for step in steps:
            step(lab)

    return setup


def cmd(node: str, *argv: str) -> Setup:
    return lambda lab: lab.run(node, *argv)


def both_up_uninitialised(lab: Lab) -> None:
    for node in (S1, S2):
        lab.apply(node, ON_S1, destructive=False)


def module_loaded(node: str) -> Setup:
    def setup(lab: Lab) -> None:
        lab.cluster.node(node).drbd.loaded = True

    return setup


def tick(seconds: float) -> Setup:
    return lambda lab: lab.cluster.tick(seconds)


def resync_after_standby_was_down(lab: Lab) -> None:
    """The standby was down while the active node wrote 2 GiB; it comes back and resyncs."""
    lab.converge(ON_S1)
    lab.run(S2, "drbdadm", "down", "xapache-lv01")
    lab.cluster.write(S1, "xapache-lv01", 2 * GIB)
    lab.run(S2, "drbdadm", "up", "xapache-lv01")
    lab.cluster.tick(30)


def split_brain(lab: Lab) -> None:
    """Both links cut; the standby takes over by hand while the active node keeps writing; the
    links come back: both sides changed, DRBD drops the connection (StandAlone on both)."""
    lab.converge(ON_S1)
    lab.cluster.set_link("public", False)
    lab.cluster.set_link("private", False)
    lab.cluster.write(S1, "xapache-lv01", 64 * 2**20)
    lab.apply(S2, ON_S2)  # s2 thinks it is alone: promote, mount, start
    lab.cluster.write(S2, "xapache-lv01", 64 * 2**20)
    lab.cluster.set_link("public", True)
    lab.cluster.set_link("private", True)


def split_brain_standby_stopped(lab: Lab) -> None:
    split_brain(lab)
    lab.run(S2, "xm", "shutdown", "-w", "apache")
    lab.run(S2, "umount", "/virt")
    lab.run(S2, "drbdadm", "secondary", "xapache-lv01")


def stopped_on(node: str) -> Setup:
    """The application stopped by hand on `node`: domain shut down, unmounted, demoted."""
    return then(
        cmd(node, "xm", "shutdown", "-w", "apache"),
        cmd(node, "umount", "/virt"),
        cmd(node, "drbdadm", "secondary", "xapache-lv01"),
    )


def outdated_standby_then_active_dies(lab: Lab) -> None:
    """The standby was disconnected cleanly (Outdated), the active node wrote on and then lost
    power: the standby's data is stale."""
    lab.converge(ON_S1)
    lab.run(S2, "drbdadm", "disconnect", "xapache-lv01")
    lab.cluster.write(S1, "xapache-lv01", 64 * 2**20)
    lab.cluster.power_off(S1)
    lab.run(S2, "drbdadm", "connect", "xapache-lv01")


def half_built(upto: int) -> Setup:
    def setup(lab: Lab) -> None:
        steps = [
            ("vgcreate", "virtvg", "/dev/hda"),
            ("lvcreate", "--yes", "--name", "lv01", "--size", "8589934592b", "virtvg"),
            None,  # the resource file
            ("drbdadm", "create-md", "xapache-lv01"),
        ]
        for step in steps[:upto]:
            if step is None:
                app = lab.manifests.applications[0]
                lv = app.document.spec.storage.logical_volumes[0]
                text = render_drbd_resource(lab.manifests.cluster.document, app.document, lv, DrbdFlavour.V9)
                lab.write(S1, "/etc/drbd.d/xapache-lv01.res", text)
            else:
                lab.run(S1, *step)

    return setup


def service(node: str, running: bool) -> Setup:
    def setup(lab: Lab) -> None:
        lab.services[node] = running

    return setup


TWO = seed(SEED_APP, ("xweb.yaml", XWEB))
BOTH_ON_S1 = {"xapache": S1, "xweb": S1}
SPLIT = {"xapache": S1, "xweb": S2}

LVM = ("lvm", "fullreport", "--reportformat", "json", "--units", "b", "--nosuffix")
XM_LIST = ("xm", "list")
XL_LIST = ("xl", "list")
IP_J = ("ip", "-j", "addr", "show")
MOUNTINFO = ("<read>", "/proc/self/mountinfo")
STATUS9 = ("drbdsetup", "status", "--json", "--statistics")
RES = ("<read>", "/etc/drbd.d/xapache-lv01.res")
XEN_CFG = ("<read>", "/etc/xen/apache")
HTTPD_STATUS = (SERVICE, "status")


# --- the cases -------------------------------------------------------------------------------


def moved_by_old_node(lab: Lab) -> None:
    """Converged on centos5s1, then moved: centos5s1 stops it (its passes only), the peer has not
    started it yet."""
    lab.converge(ON_S1)
    lab.converge(ON_S2, nodes=(S1,))


def converge_with(lab: Lab, files: dict[str, str]) -> None:
    """Converge with other manifests than the case's (the case then plans with its own)."""
    mine = lab.manifests
    lab.manifests = _load(files)
    lab.converge(ON_S1)
    lab.manifests = mine


SPECS: list[Spec] = [
    # Fresh nodes: nothing there yet.
    Spec(
        "fresh-active-drbd9",
        "A fresh active node (no VG, no LV, DRBD module not loaded, no domain): the plan "
        "builds the storage (VG, LV, resource file, metadata without --force, up) and writes the domain "
        "config, then stops: whose data is good is only known once the resource is up. Nothing destructive.",
        seed(),
        nothing,
        S1,
        ON_S1,
        status="requeue",
    ),
    Spec(
        "fresh-standby-drbd9",
        "A fresh standby node: the same storage steps as on the active node, the "
        "standby's own domain config (bridge xenbr0), and nothing that starts, mounts or promotes.",
        seed(),
        nothing,
        S2,
        ON_S1,
        status="requeue",
    ),
    Spec(
        "fresh-active-destructive",
        "A fresh active node planned with allowDestructive: the only difference "
        "is create-md --force (marked destructive); the round still stops after the resource is up.",
        seed(),
        nothing,
        S1,
        ON_S1,
        destructive=True,
        status="requeue",
    ),
    Spec(
        "fresh-active-drbd84-module-loaded",
        "A fresh active node whose DRBD 8.4 module is loaded at boot "
        "(/proc/drbd has the version line and no minor): the resource file is written in 8.4 syntax (no "
        "node-id, no connection-mesh), create-md and up as for DRBD 9.",
        seed(),
        module_loaded(S1),
        S1,
        ON_S1,
        drbd=DRBD84,
        status="requeue",
    ),
    Spec(
        "fresh-active-drbd83-module-loaded",
        "A fresh active node whose DRBD 8.3 module is loaded at boot (/proc/drbd of 8.3.8, no minor): "
        "the resource file is written in 8.3 syntax (protocol at resource level, syncer { rate }), then "
        "create-md and up.",
        seed(),
        module_loaded(S1),
        S1,
        ON_S1,
        drbd=DRBD83,
        status="requeue",
    ),
    Spec(
        "fresh-active-xl",
        "A fresh active node with the xl toolstack (xm list is missing, xl list shows "
        "Domain-0 only): storage steps and /etc/xen/apache; start is xl create, later.",
        seed(xl()),
        nothing,
        S1,
        ON_S1,
        toolstack="xl",
        status="requeue",
    ),
    Spec(
        "fresh-active-commands",
        "A fresh active node for an application run by its own LSB script "
        "(toolstack: commands; status exits 3): storage steps only, no domain config file; the start "
        "waits for the resource to be up and promoted.",
        seed(commands()),
        service(S1, False),
        S1,
        ON_S1,
        status="requeue",
    ),
    # Half-built nodes.
    Spec(
        "half-built-vg-only",
        "An active node where only vgcreate ran: the plan continues with the LV, the "
        "resource file, metadata and up; it does not create the VG again.",
        seed(),
        half_built(1),
        S1,
        ON_S1,
        status="requeue",
    ),
    Spec(
        "half-built-lv-and-resource-file",
        "VG, LV and the resource file are there (an apply died before "
        "create-md): create-md (its check skips it if metadata exists) and up, nothing else.",
        seed(),
        half_built(3),
        S1,
        ON_S1,
        status="requeue",
    ),
    Spec(
        "half-built-metadata-resource-down",
        "Metadata was created but the resource is not up (an apply "
        "died after create-md): the plan brings it up; create-md is planned but its check (drbdadm dump-md "
        "not exit 255) skips it, so the metadata is never overwritten.",
        seed(),
        half_built(4),
        S1,
        ON_S1,
        status="requeue",
    ),
    Spec(
        "half-built-standby-up-peer-absent",
        "The standby's resource is up, Inconsistent, and its peer "
        "has never connected (Connecting, DUnknown): nothing to do on the standby; no initial sync here.",
        seed(),
        lambda lab: lab.apply(S2, ON_S1, destructive=False),
        S2,
        ON_S1,
        status="requeue",
    ),
    # The initial sync.
    Spec(
        "uninitialised-active-refused",
        "Both sides up and connected, both Inconsistent (a new resource): "
        "without allowDestructive the active node refuses the initial sync with an error naming the flag, "
        "and plans nothing after it (no mkfs, no mount, no start).",
        seed(),
        both_up_uninitialised,
        S1,
        ON_S1,
        status="refused",
    ),
    Spec(
        "uninitialised-active-destructive-drbd9",
        "Both sides Inconsistent, allowDestructive: the active "
        "node becomes the sync source (drbdadm primary --force), then mkfs (skipped by blkid when a "
        "signature exists), mkdir, fsck, mount and start; initial-sync and mkfs are destructive.",
        seed(),
        both_up_uninitialised,
        S1,
        ON_S1,
        destructive=True,
        status="requeue",
    ),
    Spec(
        "uninitialised-active-destructive-drbd84",
        "The initial sync on DRBD 8.4: the 8.4 form "
        "drbdadm -- --overwrite-data-of-peer primary, destructive. The resource file of the first round "
        "was written in DRBD 9 syntax (the module was not loaded yet): it is rewritten in 8.4 syntax and "
        "adjusted first.",
        seed(),
        both_up_uninitialised,
        S1,
        ON_S1,
        drbd=DRBD84,
        destructive=True,
        status="requeue",
    ),
    Spec(
        "uninitialised-active-destructive-drbd83",
        "The initial sync on DRBD 8.3 (/proc/drbd of 8.3.8, "
        "the resource known by its minor only): drbdadm -- --overwrite-data-of-peer primary, after the "
        "resource file of the first round (DRBD 9 syntax) is rewritten and adjusted.",
        seed(),
        both_up_uninitialised,
        S1,
        ON_S1,
        drbd=DRBD83,
        destructive=True,
        status="requeue",
    ),
    Spec(
        "uninitialised-standby",
        "Both sides Inconsistent, seen from the standby, even with "
        "allowDestructive: the standby never starts the initial sync (that is the active node's choice) "
        "and plans nothing.",
        seed(),
        both_up_uninitialised,
        S2,
        ON_S1,
        destructive=True,
        status="requeue",
    ),
    # Converged.
    Spec(
        "converged-active-drbd9",
        "The active node fully converged (Primary, UpToDate/UpToDate, mounted, "
        "domain running, files as generated): no actions, no drift.",
        seed(),
        converged(ON_S1),
        S1,
        ON_S1,
        status="converged",
    ),
    Spec(
        "converged-standby-drbd9",
        "The standby fully converged (Secondary, in sync, nothing mounted, no domain): no actions, no drift.",
        seed(),
        converged(ON_S1),
        S2,
        ON_S1,
        status="converged",
    ),
    Spec(
        "converged-active-drbd84",
        "Converged active node on DRBD 8.4 (/proc/drbd, resource by minor): no actions.",
        seed(),
        converged(ON_S1),
        S1,
        ON_S1,
        drbd=DRBD84,
        status="converged",
    ),
    Spec(
        "converged-standby-drbd84",
        "Converged standby on DRBD 8.4: no actions.",
        seed(),
        converged(ON_S1),
        S2,
        ON_S1,
        drbd=DRBD84,
        status="converged",
    ),
    Spec(
        "converged-active-drbd83",
        "Converged active node on DRBD 8.3.8: no actions.",
        seed(),
        converged(ON_S1),
        S1,
        ON_S1,
        drbd=DRBD83,
        status="converged",
    ),
    Spec(
        "converged-standby-drbd83",
        "Converged standby on DRBD 8.3.8: no actions.",
        seed(),
        converged(ON_S1),
        S2,
        ON_S1,
        drbd=DRBD83,
        status="converged",
    ),
    Spec(
        "converged-active-xl",
        "Converged active node with xl (xm missing): no actions.",
        seed(xl()),
        converged(ON_S1),
        S1,
        ON_S1,
        toolstack="xl",
        status="converged",
    ),
    Spec(
        "converged-standby-xl-drbd84",
        "Converged standby, xl toolstack, DRBD 8.4: no actions.",
        seed(xl()),
        converged(ON_S1),
        S2,
        ON_S1,
        drbd=DRBD84,
        toolstack="xl",
        status="converged",
    ),
    Spec(
        "converged-active-commands",
        "Converged active node of a commands application (status exits 0): no actions.",
        seed(commands()),
        converged(ON_S1),
        S1,
        ON_S1,
        status="converged",
    ),
    # The application runs on the node that is now the standby: stop it, in reverse order.
    Spec(
        "standby-running-drbd9",
        "The application runs here but placement moved it to the peer: stop the "
        "domain (xm shutdown -w, no destroy), unmount /virt, demote; each after the one before. Nothing "
        "else, and nothing destructive.",
        seed(),
        converged(ON_S1),
        S1,
        ON_S2,
        status="requeue",
    ),
    Spec(
        "standby-running-drbd84",
        "The same stop on DRBD 8.4: stop domain, unmount, demote.",
        seed(),
        converged(ON_S1),
        S1,
        ON_S2,
        drbd=DRBD84,
        status="requeue",
    ),
    Spec(
        "standby-running-drbd83",
        "The same stop on DRBD 8.3: stop domain, unmount, demote.",
        seed(),
        converged(ON_S1),
        S1,
        ON_S2,
        drbd=DRBD83,
        status="requeue",
    ),
    Spec(
        "standby-running-xl",
        "The same stop with xl: xl shutdown -w apache, unmount, demote.",
        seed(xl()),
        converged(ON_S1),
        S1,
        ON_S2,
        toolstack="xl",
        status="requeue",
    ),
    Spec(
        "standby-running-commands",
        "A commands application running on the node that is now the standby: "
        "its stop command, then unmount and demote.",
        seed(commands()),
        converged(ON_S1),
        S1,
        ON_S2,
        status="requeue",
    ),
    Spec(
        "standby-running-with-address",
        "The application with a service address runs on the node that is "
        "now the standby: stop the domain, remove 192.168.1.40, unmount, demote, in that order.",
        seed(addressed()),
        converged(ON_S1),
        S1,
        ON_S2,
        status="requeue",
    ),
    Spec(
        "standby-running-escalation-destroy-allowed",
        "stop.escalation: destroy and allowDestructive: the "
        "stop carries xm destroy as its on_timeout and is marked destructive.",
        seed(escalating()),
        converged(ON_S1),
        S1,
        ON_S2,
        destructive=True,
        status="requeue",
    ),
    Spec(
        "standby-running-escalation-destroy-not-allowed",
        "stop.escalation: destroy without "
        "allowDestructive: the stop has no on_timeout (a domain that does not shut down fails the step; "
        "it is never destroyed unasked).",
        seed(escalating()),
        converged(ON_S1),
        S1,
        ON_S2,
        status="requeue",
    ),
    Spec(
        "standby-half-stopped-still-mounted",
        "The domain was shut down by hand on the node that is now "
        "the standby, but /virt is still mounted and the resource Primary: unmount then demote; no stop.",
        seed(),
        then(converged(ON_S1), cmd(S1, "xm", "shutdown", "-w", "apache")),
        S1,
        ON_S2,
        status="requeue",
    ),
    Spec(
        "standby-still-primary",
        "Domain stopped and /virt unmounted, but the resource is still Primary on "
        "the node that is now the standby: demote only.",
        seed(),
        then(converged(ON_S1), cmd(S1, "xm", "shutdown", "-w", "apache"), cmd(S1, "umount", "/virt")),
        S1,
        ON_S2,
        status="requeue",
    ),
    # Takeover on the new active node.
    Spec(
        "takeover-peer-still-primary",
        "Placement moved the application here, but the peer is still "
        "Primary (it has not stopped yet): never two Primaries, so no promote, mount or start; an error "
        "says the peer must demote first.",
        seed(),
        converged(ON_S1),
        S2,
        ON_S2,
        status="refused",
    ),
    Spec(
        "takeover-after-peer-stopped-drbd9",
        "The peer stopped and demoted; this node, Secondary and "
        "UpToDate, is now active: promote, mkdir, fsck, mount, start; no mkfs without allowDestructive.",
        seed(),
        then(converged(ON_S1), stopped_on(S1)),
        S2,
        ON_S2,
        status="requeue",
    ),
    Spec(
        "takeover-after-peer-stopped-drbd84",
        "The same takeover on DRBD 8.4.",
        seed(),
        then(converged(ON_S1), stopped_on(S1)),
        S2,
        ON_S2,
        drbd=DRBD84,
        status="requeue",
    ),
    Spec(
        "takeover-peer-dead-drbd9",
        "The active node lost power; this node is UpToDate with the peer "
        "unknown (Connecting): it may take over (promote, mount, start).",
        seed(),
        then(converged(ON_S1), lambda lab: lab.cluster.power_off(S1)),
        S2,
        ON_S2,
        status="requeue",
    ),
    Spec(
        "takeover-peer-dead-drbd83",
        "The same takeover on DRBD 8.3 (WFConnection, DUnknown peer).",
        seed(),
        then(converged(ON_S1), lambda lab: lab.cluster.power_off(S1)),
        S2,
        ON_S2,
        drbd=DRBD83,
        status="requeue",
    ),
    Spec(
        "takeover-outdated-refused",
        "This node's disk is Outdated (it was disconnected cleanly and the "
        "active node wrote on before dying): promoting it would serve stale data, so the pass refuses with "
        "an error and plans no promote, mount or start (invariant 2).",
        seed(),
        outdated_standby_then_active_dies,
        S2,
        ON_S2,
        status="refused",
    ),
    Spec(
        "takeover-outdated-force-refused",
        "takeover: force on an Outdated disk: still refused (forcing "
        "stale data is not automated), with its own error.",
        seed(forced()),
        outdated_standby_then_active_dies,
        S2,
        ON_S2,
        status="refused",
    ),
    Spec(
        "takeover-synctarget-waits",
        "This node is active but still the target of a resync from the "
        "peer (Inconsistent, SyncTarget): wait for the local disk to be UpToDate, then promote, mount, "
        "start.",
        seed(),
        then(resync_after_standby_was_down, stopped_on(S1)),
        S2,
        ON_S2,
        status="requeue",
    ),
    # Resync.
    Spec(
        "resync-standby-synctarget-drbd9",
        "The standby is resyncing from the active node (SyncTarget, "
        "Inconsistent): a wait-sync on both disks UpToDate; nothing else.",
        seed(),
        resync_after_standby_was_down,
        S2,
        ON_S1,
        status="requeue",
    ),
    Spec(
        "resync-active-syncsource-drbd9",
        "The active node is the resync source: DRBD_SYNCING is drift "
        "but nothing is planned on the active side (the standby waits).",
        seed(),
        resync_after_standby_was_down,
        S1,
        ON_S1,
        status="requeue",
    ),
    Spec(
        "resync-standby-drbd84",
        "The standby's resync on DRBD 8.4 (cs:SyncTarget with progress lines in /proc/drbd): wait-sync.",
        seed(),
        resync_after_standby_was_down,
        S2,
        ON_S1,
        drbd=DRBD84,
        status="requeue",
    ),
    Spec(
        "resync-active-drbd83",
        "The active node as resync source on DRBD 8.3 (cs:SyncSource): nothing planned.",
        seed(),
        resync_after_standby_was_down,
        S1,
        ON_S1,
        drbd=DRBD83,
        status="requeue",
    ),
    # Degraded.
    Spec(
        "peer-down-active-drbd9",
        "The standby lost power: the active node is Primary, UpToDate, peer "
        "Connecting/DUnknown. Drift (disconnected, degraded) but nothing to do here.",
        seed(),
        then(converged(ON_S1), lambda lab: lab.cluster.power_off(S2)),
        S1,
        ON_S1,
        status="requeue",
    ),
    Spec(
        "peer-down-active-drbd84",
        "The same on DRBD 8.4 (cs:WFConnection ro:Primary/Unknown ds:UpToDate/DUnknown): nothing to do.",
        seed(),
        then(converged(ON_S1), lambda lab: lab.cluster.power_off(S2)),
        S1,
        ON_S1,
        drbd=DRBD84,
        status="requeue",
    ),
    Spec(
        "standby-disconnected-outdated",
        "An operator ran drbdadm disconnect on the standby: StandAlone "
        "and Outdated. Without allowDestructive the plan reconnects it as it is (drbdadm connect).",
        seed(),
        then(converged(ON_S1), cmd(S2, "drbdadm", "disconnect", "xapache-lv01")),
        S2,
        ON_S1,
        status="requeue",
    ),
    Spec(
        "active-peer-disconnected-outdated",
        "Seen from the active node after the standby disconnected: "
        "Primary, peer unknown. Nothing to do here (the standby reconnects).",
        seed(),
        then(converged(ON_S1), cmd(S2, "drbdadm", "disconnect", "xapache-lv01")),
        S1,
        ON_S1,
        status="requeue",
    ),
    Spec(
        "active-diskless",
        "The active node's backing disk failed and DRBD detached it (Diskless, I/O "
        "served by the UpToDate peer): degraded drift, nothing planned (no demote, no stop).",
        seed(),
        then(converged(ON_S1), lambda lab: lab.cluster.fail_disk(S1, "xapache-lv01")),
        S1,
        ON_S1,
        status="requeue",
    ),
    Spec(
        "standby-diskless-drbd84",
        "The standby's disk failed (Diskless/UpToDate on DRBD 8.4): degraded drift, nothing planned.",
        seed(),
        then(converged(ON_S1), lambda lab: lab.cluster.fail_disk(S2, "xapache-lv01")),
        S2,
        ON_S1,
        drbd=DRBD84,
        status="requeue",
    ),
    Spec(
        "active-peer-diskless",
        "Seen from the active node when the standby's disk failed (UpToDate/Diskless): nothing to do.",
        seed(),
        then(converged(ON_S1), lambda lab: lab.cluster.fail_disk(S2, "xapache-lv01")),
        S1,
        ON_S1,
        status="requeue",
    ),
    # Split brain.
    Spec(
        "split-brain-standby-running-refused",
        "After a partition both nodes ran the application and "
        "wrote; now both are StandAlone. This node is the standby: stop the domain, unmount, demote, then "
        "reconnect without discarding (the split brain stays until an operator allows the discard).",
        seed(),
        split_brain,
        S2,
        ON_S1,
        status="requeue",
    ),
    Spec(
        "split-brain-standby-running-destructive",
        "The same split brain with allowDestructive: after the "
        "stop, the standby reconnects with --discard-my-data (destructive): its changes since the split "
        "are lost, the active node's are kept.",
        seed(),
        split_brain,
        S2,
        ON_S1,
        destructive=True,
        status="requeue",
    ),
    Spec(
        "split-brain-active",
        "The split brain seen from the active node (Primary, StandAlone): it "
        "reconnects as it is (drbdadm connect), never discarding its own data.",
        seed(),
        split_brain,
        S1,
        ON_S1,
        destructive=True,
        status="requeue",
    ),
    Spec(
        "split-brain-standby-secondary-drbd84",
        "A split brain on DRBD 8.4 whose standby was already "
        "stopped by hand (Secondary, StandAlone), allowDestructive: drbdadm -- --discard-my-data connect.",
        seed(),
        split_brain_standby_stopped,
        S2,
        ON_S1,
        drbd=DRBD84,
        destructive=True,
        status="requeue",
    ),
    Spec(
        "split-brain-standby-secondary-drbd83",
        "The same on DRBD 8.3 without allowDestructive: a plain drbdadm connect, nothing destructive.",
        seed(),
        split_brain_standby_stopped,
        S2,
        ON_S1,
        drbd=DRBD83,
        status="requeue",
    ),
    # Configuration drift.
    Spec(
        "drbd-config-differs-active",
        "The resource file on the active node was edited by hand (another "
        "resync rate): write the generated file back and drbdadm adjust; nothing stops.",
        seed(),
        converged(ON_S1),
        S1,
        ON_S1,
        tweaks=(stdout(RES, sub("resync-rate 10M", "resync-rate 100M")),),
        status="requeue",
    ),
    Spec(
        "drbd-config-missing-standby-drbd84",
        "The standby's resource file is gone (the resource is up, from before): write it and adjust.",
        seed(),
        converged(ON_S1),
        S2,
        ON_S1,
        drbd=DRBD84,
        tweaks=(
            fail(RES, Outcome.MISSING, "[Errno 2] No such file or directory: '/etc/drbd.d/xapache-lv01.res'"),
        ),
        status="requeue",
    ),
    Spec(
        "xen-config-differs-active",
        "/etc/xen/apache on the active node differs (memory edited by hand) "
        "while the domain runs: write the file; the start step is planned but its check (xm list apache) "
        "skips it, so the running domain is neither restarted nor stopped.",
        seed(),
        converged(ON_S1),
        S1,
        ON_S1,
        tweaks=(stdout(XEN_CFG, sub("memory = 512", "memory = 1024")),),
        status="requeue",
    ),
    Spec(
        "xen-config-differs-standby-xl",
        "/etc/xen/apache on the standby still has the active node's "
        "bridge (xenbr4): write the standby's own config (xenbr0); nothing starts.",
        seed(xl()),
        converged(ON_S1),
        S2,
        ON_S1,
        toolstack="xl",
        tweaks=(stdout(XEN_CFG, sub("bridge=xenbr0", "bridge=xenbr4")),),
        status="requeue",
    ),
    Spec(
        "manifest-sync-rate-changed",
        "The manifest's syncRate went from 10M/s to 30M/s after the node "
        "converged: the resource file is rewritten and adjusted, nothing else.",
        seed(edit(SEED_APP, "syncRate: 10M/s ", "syncRate: 30M/s ")),
        lambda lab: converge_with(lab, seed()),
        S1,
        ON_S1,
        status="requeue",
    ),
    # Addresses and networks.
    Spec(
        "missing-ip-active",
        "The application's service address was removed by hand on the active node: "
        "add it back; nothing else.",
        seed(addressed()),
        then(converged(ON_S1), cmd(S1, "ip", "addr", "del", "192.168.1.40/24", "dev", "eth0")),
        S1,
        ON_S1,
        status="requeue",
    ),
    Spec(
        "unexpected-ip-standby",
        "The standby holds the application's service address (an operator's "
        "mistake): remove it; nothing else.",
        seed(addressed()),
        then(converged(ON_S1), cmd(S2, "ip", "addr", "add", "192.168.1.40/24", "dev", "eth0")),
        S2,
        ON_S1,
        status="requeue",
    ),
    Spec(
        "network-down-active",
        "The public interface (eth0) of the active node is down: NETWORK_DOWN "
        "drift; the plan does nothing about it (no link set up is in the vocabulary).",
        seed(),
        then(converged(ON_S1), cmd(S1, "ip", "link", "set", "eth0", "down")),
        S1,
        ON_S1,
        status="requeue",
    ),
    Spec(
        "active-domain-stopped",
        "On the converged active node the domain was shut down by hand: start "
        "it again (xm create /etc/xen/apache); storage and mount are left as they are.",
        seed(),
        then(converged(ON_S1), cmd(S1, "xm", "shutdown", "-w", "apache")),
        S1,
        ON_S1,
        status="requeue",
    ),
    Spec(
        "active-commands-stopped",
        "On the active node the commands application's status exits 3 "
        "(stopped): run its start command; nothing else.",
        seed(commands()),
        then(converged(ON_S1), service(S1, False)),
        S1,
        ON_S1,
        status="requeue",
    ),
    # Blind observations: a section could not be seen.
    Spec(
        "blind-lvm-timeout-active",
        "lvm fullreport timed out on the converged active node: the plan is "
        "not applyable (refused) and its errors say why; nothing is stopped.",
        seed(),
        converged(ON_S1),
        S1,
        ON_S1,
        tweaks=(fail(LVM, Outcome.TIMEOUT, "", seconds=10.0),),
        status="refused",
    ),
    Spec(
        "blind-domains-timeout-active",
        "xm list timed out on the converged active node: the domain may "
        "be running, so no start is planned; refused.",
        seed(),
        converged(ON_S1),
        S1,
        ON_S1,
        tweaks=(fail(XM_LIST, Outcome.TIMEOUT, "", seconds=10.0),),
        status="refused",
    ),
    Spec(
        "blind-ip-timeout-active",
        "ip -j addr show timed out on the converged active node: refused, "
        "nothing planned on addresses (the service address is not added again on a guess).",
        seed(addressed()),
        converged(ON_S1),
        S1,
        ON_S1,
        tweaks=(fail(IP_J, Outcome.TIMEOUT, "", seconds=10.0),),
        status="refused",
    ),
    Spec(
        "blind-no-toolstack",
        "Neither xl nor xm is installed on a converged standby: the domains section "
        "fails, the plan is refused.",
        seed(),
        converged(ON_S1),
        S2,
        ON_S1,
        tweaks=(fail(XM_LIST, Outcome.MISSING, "[Errno 2] No such file or directory: 'xm'"),),
        status="refused",
    ),
    Spec(
        "blind-drbd-status-timeout-standby",
        "drbdsetup status timed out on a converged standby (DRBD 9): "
        "the DRBD section is unknown; refused, nothing stopped or demoted.",
        seed(),
        converged(ON_S1),
        S2,
        ON_S1,
        tweaks=(fail(STATUS9, Outcome.TIMEOUT, "", seconds=10.0),),
        status="refused",
    ),
    Spec(
        "blind-lvm-timeout-standby-running",
        "lvm timed out on the node that runs the application but is "
        "now the standby: refused, not applyable, nothing planned for a node that cannot be seen.",
        seed(),
        converged(ON_S1),
        S1,
        ON_S2,
        tweaks=(fail(LVM, Outcome.TIMEOUT, "", seconds=10.0),),
        status="refused",
    ),
    Spec(
        "blind-host-probe-failed",
        "The host probe (load, memory) failed on a converged active node: it "
        "is not a section the plan depends on, so the plan is applyable and empty.",
        seed(),
        converged(ON_S1),
        S1,
        ON_S1,
        tweaks=(fail((PROBE,), Outcome.ERROR, "psutil: permission denied"),),
    ),
    Spec(
        "blind-domains-timeout-standby-running",
        "xm list timed out on the node that runs the application "
        "but is now the standby: the domain is possibly running. Refused, not applyable, and nothing is "
        "planned for it: any step would be a guess.",
        seed(),
        converged(ON_S1),
        S1,
        ON_S2,
        tweaks=(fail(XM_LIST, Outcome.TIMEOUT, "", seconds=10.0),),
        status="refused",
    ),
    Spec(
        "blind-mountinfo-unreadable-standby-running",
        "/proc/self/mountinfo could not be read on the node "
        "that runs the application but is now the standby: refused, not applyable, and nothing is "
        "planned for it (no demote under a possibly mounted /virt).",
        seed(),
        converged(ON_S1),
        S1,
        ON_S2,
        tweaks=(fail(MOUNTINFO, Outcome.ERROR, "[Errno 13] Permission denied: '/proc/self/mountinfo'"),),
        status="refused",
    ),
    Spec(
        "blind-proc-drbd-unreadable-active-drbd84",
        "/proc/drbd could not be read on a converged DRBD 8.4 "
        "active node: the DRBD section is unknown (not 'module not loaded'); refused, and no metadata or "
        "up step is planned for a resource that may well be up and Primary.",
        seed(),
        converged(ON_S1),
        S1,
        ON_S1,
        drbd=DRBD84,
        tweaks=(fail(PROC, Outcome.ERROR, "[Errno 5] Input/output error: '/proc/drbd'"),),
        status="refused",
    ),
    Spec(
        "blind-lvm-timeout-fresh-destructive",
        "lvm timed out on a fresh node planned with "
        "allowDestructive: nothing is known of the VG and LV, so no vgcreate or lvcreate is planned on a "
        "guess; refused.",
        seed(),
        nothing,
        S1,
        ON_S1,
        destructive=True,
        tweaks=(fail(LVM, Outcome.TIMEOUT, "", seconds=10.0),),
        status="refused",
    ),
    Spec(
        "commands-status-timeout-active",
        "The commands application's status script timed out on the "
        "converged active node: whether it runs is unknown, as with a timed-out xm list. The pass must not "
        "start it a second time on a guess: refused, not applyable, no start.",
        seed(commands()),
        converged(ON_S1),
        S1,
        ON_S1,
        tweaks=(fail(HTTPD_STATUS, Outcome.TIMEOUT, "", seconds=10.0),),
        status="refused",
    ),
    Spec(
        "commands-status-timeout-standby-running",
        "The status script timed out on the node that runs "
        "the commands application but is now the standby: the application is possibly running, so the "
        "pass must not unmount and demote under it as if it were stopped; refused, not applyable.",
        seed(commands()),
        converged(ON_S1),
        S1,
        ON_S2,
        tweaks=(fail(HTTPD_STATUS, Outcome.TIMEOUT, "", seconds=10.0),),
        status="refused",
    ),
    Spec(
        "fs-wrong-source-active",
        "/virt on the active node is mounted from /dev/sdb1, not /dev/drbd0 (an "
        "operator's mount), and the domain is down: FS_WRONG_SOURCE. The domain must not be started on "
        "the wrong filesystem (it would run on data that DRBD does not replicate): no start, an error.",
        seed(),
        then(converged(ON_S1), cmd(S1, "xm", "shutdown", "-w", "apache")),
        S1,
        ON_S1,
        tweaks=(stdout(MOUNTINFO, sub("/dev/drbd0", "/dev/sdb1")),),
        status="refused",
    ),
    # Held applications.
    Spec(
        "held-app-running-here",
        "The placement holds xapache (an undecided arbiter, maintenance): it runs "
        "here, but nothing at all is planned for it; no drift either.",
        seed(),
        converged(ON_S1),
        S1,
        {},
        status="converged",
    ),
    Spec(
        "held-app-blind",
        "Nothing is placed and lvm timed out: no application is planned, so the failed "
        "section concerns none of them.",
        seed(),
        converged(ON_S1),
        S1,
        {},
        tweaks=(fail(LVM, Outcome.TIMEOUT, "", seconds=10.0),),
        status="converged",
    ),
    # Two applications on one node.
    Spec(
        "two-apps-fresh-active",
        "Two applications (xapache, xweb) active on a fresh node: each gets its "
        "own storage chain (VG, LV, resource file, metadata, up) and its domain config; no "
        "cross-dependencies.",
        TWO,
        nothing,
        S1,
        BOTH_ON_S1,
        status="requeue",
    ),
    Spec(
        "two-apps-converged-drbd84",
        "Both applications converged and active on one DRBD 8.4 node (two minors in /proc/drbd): no actions.",
        TWO,
        converged(BOTH_ON_S1),
        S1,
        BOTH_ON_S1,
        drbd=DRBD84,
        status="converged",
    ),
    Spec(
        "two-apps-one-each",
        "xapache active here, xweb active on the peer, both converged: no actions.",
        TWO,
        converged(SPLIT),
        S1,
        SPLIT,
        status="converged",
    ),
    Spec(
        "two-apps-move-one-away",
        "Both run here; placement moves xweb to the peer: stop web, remove its "
        "address, unmount /web, demote xweb-web01; xapache untouched.",
        TWO,
        converged(BOTH_ON_S1),
        S1,
        SPLIT,
        status="requeue",
    ),
    Spec(
        "two-apps-one-held",
        "Both run here; xweb is held: only xapache is considered (converged), nothing planned for xweb.",
        TWO,
        converged(BOTH_ON_S1),
        S1,
        {"xapache": S1},
        status="converged",
    ),
    Spec(
        "two-apps-xl-one-down",
        "xl toolstack, both applications active here; the web domain was shut down by hand: start web only.",
        {
            "cluster.yaml": SEED_CLUSTER,
            "xapache.yaml": xl(),
            "xweb.yaml": edit(XWEB, "toolstack: xm", "toolstack: xl"),
        },
        then(converged(BOTH_ON_S1), cmd(S1, "xl", "shutdown", "-w", "web")),
        S1,
        BOTH_ON_S1,
        toolstack="xl",
        status="requeue",
    ),
    # More shapes of an application.
    Spec(
        "two-volumes-standby-running",
        "An application with two volumes, the second mounted inside the first (/virt, /virt/data), runs "
        "on the node that is now the standby: stop the domain, unmount /virt/data before /virt, then "
        "demote both resources, each after both unmounts.",
        seed(two_volumes()),
        converged(ON_S1),
        S1,
        ON_S2,
        status="requeue",
    ),
    Spec(
        "two-volumes-takeover",
        "The two-volume application after the peer stopped it: promote both, mount /virt before "
        "/virt/data, start the domain after both mounts.",
        seed(two_volumes()),
        moved_by_old_node,
        S2,
        ON_S2,
        status="requeue",
    ),
    Spec(
        "two-volumes-inner-first-takeover",
        "The two-volume application declares /virt/data (lv02) before /virt (lv01); after the peer stopped "
        "it, the takeover must still mount /virt before /virt/data (mounting /virt second would hide "
        "/virt/data, and the domain would run on the wrong filesystem's files), and start after both.",
        seed(inner_first()),
        moved_by_old_node,
        S2,
        ON_S2,
        status="requeue",
    ),
    Spec(
        "active-domain-stopped-with-readiness",
        "The application declares a TCP readiness check (192.168.1.40:80); its domain was shut down on "
        "the active node: start it, then wait for the readiness check; nothing else.",
        seed(ready()),
        then(converged(ON_S1), cmd(S1, "xm", "shutdown", "-w", "apache")),
        S1,
        ON_S1,
        status="requeue",
    ),
    Spec(
        "standby-domain-crashed",
        "The domain crashed (xm list state ----c-, on_crash preserved it) on the node that is now the "
        "standby: a crashed domain still holds its devices (the tap:aio image on /virt), so it must be "
        "destroyed before /virt is unmounted and the resource demoted; it is dead already, so destroying "
        "it loses nothing.",
        seed(preserving()),
        converged(ON_S1),
        S1,
        ON_S2,
        tweaks=(stdout(XM_LIST, sub("     -b----", "     ----c-")),),
        status="requeue",
    ),
    Spec(
        "active-domain-crashed",
        "The domain crashed on the active node (xm list state ----c-): it is not running, but its name "
        "and devices are taken until it is destroyed, so `xm create` would fail: destroy it, then start.",
        seed(preserving()),
        converged(ON_S1),
        S1,
        ON_S1,
        tweaks=(stdout(XM_LIST, sub("     -b----", "     ----c-")),),
        status="requeue",
    ),
    Spec(
        "unexpected-ip-standby-other-interface",
        "The standby holds the service address on eth1 instead of eth0 (an operator's mistake): it must "
        "be removed from where it is (dev eth1).",
        seed(addressed()),
        then(converged(ON_S1), cmd(S2, "ip", "addr", "add", "192.168.1.40/24", "dev", "eth1")),
        S2,
        ON_S1,
        status="requeue",
    ),
    # LVM.
    Spec(
        "lv-undeclared",
        "An LV the manifest does not declare sits in the application's VG: a warning "
        "(removing it destroys its data); no lvremove is planned, even with allowDestructive.",
        seed(),
        then(
            converged(ON_S1),
            cmd(S1, "lvcreate", "--yes", "--name", "scratch", "--size", "1073741824b", "virtvg"),
        ),
        S1,
        ON_S1,
        destructive=True,
        status="requeue",
    ),
    Spec(
        "lv-too-small",
        "The manifest now asks for a 10G LV; the node has 8G: LV_TOO_SMALL drift, and no "
        "resize is planned (growing DRBD's backing device is an operator's step).",
        seed(edit(SEED_APP, "size: 8G", "size: 10G")),
        lambda lab: converge_with(lab, seed()),
        S1,
        ON_S1,
        status="requeue",
    ),
]


def main(names: Sequence[str]) -> None:
    chosen = [s for s in SPECS if not names or s.name in names]
    unknown = set(names) - {s.name for s in SPECS}
    if unknown:
        sys.exit(f"no generated case named {', '.join(sorted(unknown))}")
    for spec in chosen:
        make(spec)
        print(f"wrote {spec.name}")


if __name__ == "__main__":
    main(sys.argv[1:])
