"""drbd-utils stand-ins: `drbdadm` (the commands the planner emits) and `drbdsetup status --json`.

drbdadm reads the resource from the node's /etc/drbd.d/*.res, runs drbdsetup or drbdmeta and,
when one fails, prints "Command '...' terminated with exit code N" and exits with that code;
the lab prints the same. DRBD 9 names the resource in messages, 8.4 the minor. Exit codes are
drbdsetup's (10 for a kernel "Failure", 11 for a refused state change, 17 when no UpToDate data
is reachable, 20 for a tool error) and drbdmeta's (1 when it was not allowed to overwrite
metadata, 20 when it cannot open the device, 255 when there is no metadata).
"""

from collections.abc import Callable
from dataclasses import dataclass

from reconciler.lab.sim import drbd, drbd_disk
from reconciler.lab.sim.drbd import Refused, Side
from reconciler.lab.sim.drbd_report import (
    dstate_text,
    dump_md_text,
    offline_dstate_text,
    role_text,
    status_json,
    status_text,
)
from reconciler.lab.sim.drbdconf import ConfError, ResourceConf, find_resource
from reconciler.lab.sim.model import KIB, DrbdMetadata, SimNode, metadata_size
from reconciler.lab.sim.result import failed, ok, unsupported
from reconciler.lab.sim.state import Cluster
from reconciler.observe.runner import CommandResult

TOOL_ERROR = 20
_OPTIONS = {
    "role": (),
    "dstate": (),
    "dump-md": (),
    "create-md": ("--force",),
    "up": (),
    "down": (),
    "adjust": (),
    "attach": (),
    "primary": ("--force", "--overwrite-data-of-peer"),
    "secondary": (),
    "connect": ("--discard-my-data",),
    "disconnect": (),
}
# What a family's drbdsetup does not take: 8.3 forces a promotion only with
# `--overwrite-data-of-peer` (`--force` came with 8.4). drbd-utils 9 drops that option instead.
_NOT_TAKEN = {("8.3", "primary"): frozenset({"--force"})}
# Options drbdadm 8.3 hands to drbdsetup only when they follow `--` (its getopt knows none of them).
_SETUP_OPTIONS = frozenset({"--overwrite-data-of-peer", "--discard-my-data"})
# 8.3 words some refusals differently (drbd_strings.c of 8.3).
_NO_UP_TO_DATE_83 = "State change failed: (-2) Refusing to be Primary without at least one UpToDate disk"
_WORDING_83 = {drbd.NEED_UP_TO_DATE[1]: _NO_UP_TO_DATE_83}


@dataclass
class DrbdCall:
    cluster: Cluster
    node: SimNode
    argv: tuple[str, ...]
    conf: ResourceConf
    options: list[str]

    @property
    def nine(self) -> bool:
        return self.node.drbd.nine

    @property
    def family(self) -> str:
        return self.node.drbd.family

    @property
    def obj(self) -> str:
        return self.conf.name if self.nine else str(self.conf.minor)

    def setup(self, sub: str, extra: str = "") -> str:
        """The drbdsetup command drbdadm ran, as its failure names it: 9 and 8.4 put the object
        after the command, 8.3 the minor before it (drbd-utils runs drbdsetup-84/-83 for them)."""
        if self.nine:
            return f"drbdsetup {sub} {self.conf.name}{extra}"
        if self.family == "8.3":
            return f"drbdsetup-83 {self.conf.minor} {sub}{extra}"
        return f"drbdsetup-84 {sub} {self.conf.minor}{extra}"

    def attach_command(self) -> str:
        disks = f"{self.conf.disk} {self.conf.disk} internal"
        if self.family == "8.3":
            return f"drbdsetup-83 {self.conf.minor} disk {disks}"
        attach = f"attach {self.conf.minor} {disks}"
        return f"drbdsetup {attach}" if self.nine else f"drbdsetup-84 {attach}"

    def attach_failed(self, refusal: Refused) -> CommandResult:
        """drbdsetup names the minor in the attach's messages, in DRBD 9 too."""
        return self.fail(refusal.exit_code, f"{self.conf.minor}: {refusal.message}\n", self.attach_command())

    def no_device(self) -> CommandResult | None:
        """drbdmeta apply-al, run before the attach, opens the backing device first."""
        if self.node.block_size(self.conf.disk) is not None:
            return None
        return self.fail(
            TOOL_ERROR, f"open({self.conf.disk}) failed: No such file or directory\n", self.meta("apply-al")
        )

    def meta(self, sub: str) -> str:
        return f"drbdmeta {self.conf.minor} {'v09' if self.nine else 'v08'} {self.conf.disk} internal {sub}"

    def fail(self, code: int, message: str, command: str, stdout: str = "") -> CommandResult:
        return failed(
            self.argv, code, f"{message}Command '{command}' terminated with exit code {code}\n", stdout
        )

    def refused(self, refusal: Refused, command: str) -> CommandResult:
        message = refusal.message
        if self.family == "8.3":
            message = _WORDING_83.get(message, message)
        return self.fail(refusal.exit_code, f"{self.obj}: {message}\n", command)

    def module(self, command: str) -> CommandResult | None:
        """drbdsetup loads the module on first use; a node without it cannot."""
        if not self.node.drbd.installed:
            return self.fail(TOOL_ERROR, "Failed to modprobe drbd (No such file or directory)\n", command)
        self.node.drbd.loaded = True
        return None

    def side(self) -> Side | None:
        res = self.node.drbd.resource(self.conf.name)
        return Side(self.node, res) if res is not None else None

    def not_up(self, sub: str) -> CommandResult:
        if self.nine:
            return self.refused(Refused(drbd.UNKNOWN_RESOURCE), self.setup(sub))
        return self.refused(Refused((10, "Failure: (127) Device minor not allocated")), self.setup(sub))

    def offline_problem(self, sub: str) -> CommandResult | None:
        """drbdmeta's checks of a resource that is down: device, then metadata."""
        if self.node.block_size(self.conf.disk) is None:
            return self.fail(
                TOOL_ERROR, f"open({self.conf.disk}) failed: No such file or directory\n", self.meta(sub)
            )
        if self.conf.disk not in self.node.drbd.metadata:
            return self.fail(255, "No valid meta data found\n", self.meta(sub))
        return None


def _role(c: DrbdCall) -> CommandResult:
    problem = c.module(c.setup("role"))
    if problem is not None:
        return problem
    side = c.side()
    if side is None:
        if c.nine:
            return c.fail(10, f"{c.conf.name}: Unknown resource\n", c.setup("role"))
        return c.not_up("role")
    return ok(c.argv, role_text(c.cluster, side))


def _dstate(c: DrbdCall) -> CommandResult:
    side = c.side()
    if side is not None:
        return ok(c.argv, dstate_text(c.cluster, side))
    problem = c.offline_problem("dstate")
    if problem is not None:
        return problem
    return ok(c.argv, offline_dstate_text(c.node.drbd.metadata[c.conf.disk], c.nine))


def _dump_md(c: DrbdCall) -> CommandResult:
    if c.side() is not None:
        return c.fail(TOOL_ERROR, f"Device '{c.conf.minor}' is configured!\n", c.meta("dump-md"))
    problem = c.offline_problem("dump-md")
    if problem is not None:
        return problem
    size = c.node.block_size(c.conf.disk) or 0
    return ok(c.argv, dump_md_text(c.meta("dump-md"), c.node.drbd.metadata[c.conf.disk], size, c.nine))


def _create_md(c: DrbdCall) -> CommandResult:
    force = "--force" in c.options
    sub = ("create-md 1" if c.nine else "create-md") + (" --force" if force else "")
    if c.side() is not None:
        return c.fail(TOOL_ERROR, f"Device '{c.conf.minor}' is configured!\n", c.meta(sub))
    size = c.node.block_size(c.conf.disk)
    if size is None:
        return c.fail(TOOL_ERROR, f"open({c.conf.disk}) failed: No such file or directory\n", c.meta(sub))
    fmt = "v09" if c.nine else "v08"
    old = c.node.drbd.metadata.get(c.conf.disk)
    question = ""
    if old is not None:
        question = (
            f"You want me to create a {fmt} style flexible-size internal meta data block.\n"
            f"There appears to be a {fmt} flexible-size internal meta data block\n"
            f"already in place on {c.conf.disk} at byte offset {size - 4 * KIB}\n\n"
            "Do you really want to overwrite the existing meta-data?\n"
        )
        if not force:
            return c.fail(
                1, question + "[need to type 'yes' to confirm] \n", c.meta(sub), "Operation cancelled.\n"
            )
        question += "*** confirmation forced via --force option ***\n"
    # The data stays where it was: only DRBD's view of it (Inconsistent, no history) is new.
    c.node.drbd.metadata[c.conf.disk] = DrbdMetadata(fstype=old.fstype if old else None)
    bitmap_kb = metadata_size(size) // KIB - 36
    return ok(
        c.argv,
        "initializing activity log\n"
        f"initializing bitmap ({bitmap_kb} KB) to all zero\nWriting meta data...\n"
        "New drbd meta data block successfully created.\n",
        question,
    )


def _up(c: DrbdCall) -> CommandResult:
    problem = c.module(c.setup("new-resource"))
    if problem is not None:
        return problem
    if c.side() is not None or c.node.drbd.by_minor(c.conf.minor) is not None:
        return c.refused(Refused(drbd.MINOR_EXISTS), c.setup("new-minor", f" {c.conf.minor} 0"))
    problem = c.no_device()
    if problem is not None:
        return problem
    peer_name = c.cluster.peer(c.node).name
    if drbd_disk.is_failed(c.node, c.conf.disk):
        # The resource and its minor exist by then: drbdadm stops at the failed attach.
        drbd.bring_up(c.cluster, c.node, c.conf, peer_name, attach_failed=True)
        return c.attach_failed(Refused(drbd_disk.IO_ERROR_MD))
    if c.conf.disk not in c.node.drbd.metadata:
        return c.attach_failed(Refused(drbd_disk.NO_METADATA))
    drbd.bring_up(c.cluster, c.node, c.conf, peer_name)
    return ok(c.argv)


def _down(c: DrbdCall) -> CommandResult:
    side = c.side()
    if side is None:
        return ok(c.argv)
    try:
        drbd.take_down(c.cluster, c.node, side.res)
    except Refused as refusal:
        return c.refused(refusal, c.setup("down"))
    return ok(c.argv)


def _adjust(c: DrbdCall) -> CommandResult:
    side = c.side()
    if side is None:
        return _up(c)
    problem = None if side.res.attached else c.no_device()
    if problem is not None:
        return problem
    try:
        drbd_disk.adjust(c.cluster, c.node, side.res, c.conf)
    except Refused as refusal:
        return c.attach_failed(refusal)
    return ok(c.argv)


def _attach(c: DrbdCall) -> CommandResult:
    problem = c.module(c.attach_command())
    if problem is not None:
        return problem
    side = c.side()
    if side is None:
        return c.attach_failed(Refused((10, "Failure: (127) Device minor not allocated")))
    problem = None if side.res.attached else c.no_device()
    if problem is not None:
        return problem
    try:
        drbd_disk.attach(c.cluster, c.node, side.res)
    except Refused as refusal:
        return c.attach_failed(refusal)
    return ok(c.argv)


def _with_resource(sub: str, act: Callable[[DrbdCall, Side], None]) -> Callable[[DrbdCall], CommandResult]:
    def run(c: DrbdCall) -> CommandResult:
        problem = c.module(c.setup(sub))
        if problem is not None:
            return problem
        side = c.side()
        if side is None:
            return c.not_up(sub)
        try:
            act(c, side)
        except Refused as refusal:
            extra = "".join(f" {o}" for o in c.options if o != "--overwrite-data-of-peer" or not c.nine)
            return c.refused(refusal, c.setup(sub, extra))
        return ok(c.argv)

    return run


def _promote(c: DrbdCall, side: Side) -> None:
    force = "--force" in c.options or (not c.nine and "--overwrite-data-of-peer" in c.options)
    drbd.promote(c.cluster, c.node, side.res, force)


_COMMANDS: dict[str, Callable[[DrbdCall], CommandResult]] = {
    "role": _role,
    "dstate": _dstate,
    "dump-md": _dump_md,
    "create-md": _create_md,
    "up": _up,
    "down": _down,
    "adjust": _adjust,
    "attach": _attach,
    "primary": _with_resource("primary", _promote),
    "secondary": _with_resource("secondary", lambda c, s: drbd.demote(c.node, s.res)),
    "connect": _with_resource(
        "connect", lambda c, s: drbd.connect(c.cluster, c.node, s.res, "--discard-my-data" in c.options)
    ),
    "disconnect": _with_resource("disconnect", lambda c, s: drbd.disconnect(c.cluster, c.node, s.res)),
}


@dataclass(frozen=True)
class _Parsed:
    command: str
    resource: str
    options: list[str]
    passed: list[str]  # the options after `--`: drbdadm hands them to drbdsetup or drbdmeta


def _parse(argv: tuple[str, ...]) -> _Parsed | None:
    """`drbdadm [-- OPTION...] COMMAND [OPTION...] RESOURCE`: options are drbdadm's own before
    `--`; 8.4 and 9 also take them after the command."""
    words = list(argv[1:])
    cut = words.index("--") if "--" in words else len(words)
    words = words[:cut] + words[cut + 1 :]
    options = [w for w in words if w.startswith("--")]
    rest = [w for w in words if not w.startswith("-")]
    if len(rest) != 2 or len(options) + len(rest) != len(words):
        return None
    passed = [w for w in words[cut:] if w.startswith("--")]
    return _Parsed(rest[0], rest[1], options, passed)


def _unknown_option(node: SimNode, parsed: _Parsed) -> str | None:
    not_taken = _NOT_TAKEN.get((node.drbd.family, parsed.command), frozenset())
    for option in parsed.options:
        if option not in _OPTIONS[parsed.command] or option in not_taken:
            return option
        if node.drbd.family == "8.3" and option in _SETUP_OPTIONS and option not in parsed.passed:
            return option
    return None


def drbdadm(cluster: Cluster, node: SimNode, argv: tuple[str, ...], timeout: float) -> CommandResult:
    parsed = _parse(argv)
    if parsed is None or parsed.command not in _COMMANDS:
        return unsupported(argv, TOOL_ERROR)
    command, name, options = parsed.command, parsed.resource, parsed.options
    unknown = _unknown_option(node, parsed)
    if unknown is not None:
        return failed(argv, TOOL_ERROR, f"drbdadm {command}: unrecognized option '{unknown}'\n")
    try:
        conf = find_resource(node.files, name, node.name)
    except ConfError as err:
        return failed(argv, err.exit_code, f"{err}\n")
    return _COMMANDS[command](DrbdCall(cluster, node, argv, conf, options))


_STATUS = (("status", "--json", "--statistics"), ("status", "--json"), ("status",))


def _drbdsetup_8(node: SimNode, argv: tuple[str, ...]) -> CommandResult:
    """What drbdsetup of DRBD 8 answers to 9's `status`: 8.3's wants a device first
    (`drbdsetup /dev/drbd0 state`), 8.4's has a `status` of its own, without --json."""
    if node.drbd.family == "8.3":
        usage = "USAGE: drbdsetup device command arguments options\n"
        return failed(argv, TOOL_ERROR, f"drbdsetup: {argv[1]} is not a DRBD device\n{usage}")
    if argv[1:] == ("status",):
        return unsupported(argv, TOOL_ERROR)  # drbd-utils 8.9's own layout: not simulated
    return failed(argv, TOOL_ERROR, "drbdsetup-84 status: unrecognized option '--json'\n")


def drbdsetup(cluster: Cluster, node: SimNode, argv: tuple[str, ...], timeout: float) -> CommandResult:
    """`drbdsetup status [--json [--statistics]]` of all resources (DRBD 9's drbd-utils)."""
    if argv[1:] not in _STATUS:
        return unsupported(argv, TOOL_ERROR)
    if not node.drbd.installed:
        return failed(argv, TOOL_ERROR, "Failed to modprobe drbd (No such file or directory)\n")
    node.drbd.loaded = True
    if not node.drbd.nine:
        return _drbdsetup_8(node, argv)
    if argv[1:] == ("status",):
        return ok(argv, status_text(cluster, node))
    return ok(argv, status_json(cluster, node))
