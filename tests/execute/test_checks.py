"""Checks that cannot mistake an error for "done": every probe the planner writes answers "holds",
"does not hold" or nothing, and a check with no answer fails its action with the tool's words.

The probes are the planner's own (`steps`, `storage_steps`), built for the seed's xapache; the
host answers with the exit statuses and messages the real tools give (see each case).
"""

from collections.abc import Callable
from ipaddress import IPv4Address

import pytest

from reconciler.core.desired import DesiredAddress, DesiredApp, DesiredVolume, desired_node
from reconciler.core.plan import steps, storage_steps
from reconciler.core.plan.model import Action, Plan, Probe
from reconciler.execute import ActionStatus, ExecutionReport, NullJournal, execute
from reconciler.execute.probe import ProbeVerdict as Verdict
from reconciler.execute.probe import judge
from reconciler.manifest import ManifestSet
from reconciler.observe.runner import CommandResult
from reconciler.render.drbd import DrbdFlavour
from tests.execute.fakes import FAST, ScriptedHost, fail, missing, ok, plan, timeout
from tests.plan.seed import ON_S1, seed_manifests


@pytest.fixture(scope="module")
def app() -> DesiredApp:
    manifests: ManifestSet = seed_manifests()
    node = desired_node(manifests, "centos5s1", ON_S1, DrbdFlavour.V84)
    return node.apps[0]


def run(p: Plan, host: ScriptedHost) -> ExecutionReport:
    return execute(p.model_copy(update={"allow_destructive": True}), host, NullJournal(), settings=FAST)


def only(report: ExecutionReport) -> tuple[ActionStatus, str]:
    (a,) = report.actions
    return a.status, a.message


# --- create-md: the case that made this rule --------------------------------------------------

CONF_INVALID = fail(
    10, stderr="/etc/drbd.d/xapache-lv01.res:7: Parse error: 'disk | device | address' expected,\n"
)


def create_md_host(dump_md: CommandResult) -> ScriptedHost:
    return ScriptedHost(
        {
            ("drbdadm", "dump-md", "xapache-lv01"): [dump_md],
            ("drbdadm", "create-md", "xapache-lv01"): [ok()],
        }
    )


def create_md(app: DesiredApp) -> Action:
    return storage_steps.create_md(steps.Step(app), app.volumes[0], force=False)


def test_dump_md_exiting_10_fails_create_md_with_drbdadms_message(app: DesiredApp) -> None:
    host = create_md_host(CONF_INVALID)
    status, message = only(run(plan(create_md(app)), host))
    assert host.ran("drbdadm", "create-md", "xapache-lv01") == 0
    assert status is ActionStatus.FAILED
    assert "'drbdadm dump-md xapache-lv01' exited 10, which is no answer" in message
    assert "Parse error: 'disk | device | address' expected" in message


@pytest.mark.parametrize(
    ("dump_md", "created", "status"),
    [
        (ok('version "v08";\n'), 0, ActionStatus.SKIPPED),  # metadata present: already done
        (
            fail(
                255, stderr="No valid meta data found\nCommand 'drbdmeta ...' terminated with exit code 255\n"
            ),
            1,
            ActionStatus.DONE,
        ),
        # drbdmeta's 255 for another error (it returns -1 for most of them) is no answer.
        (fail(255, stderr="open(/dev/virtvg/lv01) failed: Permission denied\n"), 0, ActionStatus.FAILED),
        (fail(20, stderr="Device '1' is configured!\n"), 0, ActionStatus.FAILED),  # the resource is up
        (missing(), 0, ActionStatus.FAILED),
        (timeout(), 0, ActionStatus.FAILED),
    ],
)
def test_create_md_only_on_no_metadata_said_so(
    app: DesiredApp, dump_md: CommandResult, created: int, status: ActionStatus
) -> None:
    host = create_md_host(dump_md)
    assert only(run(plan(create_md(app)), host))[0] is status
    assert host.ran("drbdadm", "create-md", "xapache-lv01") == created


# --- every other check: its "no" runs the action, its errors fail it -------------------------

Build = Callable[[DesiredApp], Action]
SERVICE_IP = DesiredAddress(
    address=IPv4Address("192.0.2.10"), prefix=24, interface="eth9", network="public", declared=()
)


def _vol(app: DesiredApp) -> DesiredVolume:
    return app.volumes[0]


BUILDS: dict[str, Build] = {
    "create-vg": lambda a: storage_steps.create_vg(steps.Step(a)),
    "create-lv": lambda a: storage_steps.create_lv(steps.Step(a), _vol(a)),
    "drbd-up": lambda a: storage_steps.drbd_up(steps.Step(a), _vol(a)),
    "promote": lambda a: storage_steps.promote(steps.Step(a), _vol(a)),
    "mkdir": lambda a: steps.mkdir(steps.Step(a), "/srv/x"),
    "mkfs": lambda a: steps.mkfs(steps.Step(a), _vol(a)),
    "mount": lambda a: steps.mount(steps.Step(a), _vol(a)),
    "unmount": lambda a: steps.unmount(steps.Step(a), "/srv/x", 30.0),
    "add-address": lambda a: steps.add_address(steps.Step(a), SERVICE_IP),
    "start-domain": lambda a: steps.start_domain(steps.Step(a), a.domain, 30.0),
    "stop-domain": lambda a: steps.stop_domain(steps.Step(a), a.domain, 30.0, destroy=False),
}

NOT_FOUND_VG = fail(5, stderr='  Volume group "virtvg" not found\n  Cannot process volume group virtvg\n')
LOCKING = fail(
    5,
    stderr="  /run/lock/lvm/V_virtvg:aux: open failed: Read-only file system\n  Can't get lock for virtvg\n",
)
NOT_UP = fail(
    10,
    stderr="1: Failure: (127) Device minor not allocated\n"
    "Command 'drbdsetup-84 role 1' terminated with exit code 10\n",
)
NO_MODULE = fail(20, stderr="Failed to modprobe drbd (No such file or directory)\n")
XM_ABSENT = fail(1, stderr="Error: Domain 'apache' does not exist.\n")
XEND_DOWN = fail(1, stderr="Error: Unable to connect to xend: No such file or directory. Is xend running?\n")

# (action, the check's "does not hold" answer, an answer that is an error and a word of it)
CASES = [
    ("create-vg", NOT_FOUND_VG, LOCKING, "Can't get lock for virtvg"),
    (
        "create-lv",
        fail(5, stderr='  Failed to find logical volume "virtvg/lv01"\n'),
        LOCKING,
        "Can't get lock",
    ),
    ("drbd-up", NOT_UP, NO_MODULE, "Failed to modprobe drbd"),
    ("drbd-up", ok("Unconfigured\n"), CONF_INVALID, "Parse error"),  # DRBD 8.3 says so on stdout
    ("promote", ok("Secondary/Primary\n"), CONF_INVALID, "Parse error"),
    ("mkdir", fail(1), fail(2, stderr="test: too many arguments\n"), "too many arguments"),
    ("mkfs", fail(2), fail(2, stderr="blkid: error: /dev/drbd1: No medium found\n"), "No medium found"),
    ("mkfs", fail(2), fail(8, stderr=""), "exited 8"),  # ambivalent: several signatures
    ("mount", fail(1), fail(1, stderr="findmnt: can't read /proc/self/mountinfo\n"), "can't read"),
    (
        "unmount",
        ok("/dev/drbd1\n"),
        fail(1, stderr="findmnt: can't read /proc/self/mountinfo\n"),
        "can't read",
    ),
    ("add-address", ok(""), fail(1, stderr='Device "eth9" does not exist.\n'), "does not exist"),
    ("start-domain", XM_ABSENT, XEND_DOWN, "Unable to connect to xend"),
    ("stop-domain", ok("Name  ID Mem VCPUs State Time(s)\napache 3 512 1 -b---- 1.0\n"), XEND_DOWN, "xend"),
]


def scripted(action: Action, answer: CommandResult) -> ScriptedHost:
    assert isinstance(action.check, Probe) and action.do is not None
    return ScriptedHost({action.check.argv: [answer], action.do: [ok()]})


@pytest.mark.parametrize(("name", "no", "error", "said"), CASES, ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_a_check_says_no_or_fails_the_action_with_the_tools_message(
    app: DesiredApp, name: str, no: CommandResult, error: CommandResult, said: str
) -> None:
    action = BUILDS[name](app)
    assert isinstance(action.check, Probe) and action.do is not None
    assert judge(action.check, no.model_copy(update={"argv": action.check.argv})) is Verdict.DOES_NOT_HOLD
    host = scripted(action.model_copy(update={"verify": None}), no)
    assert only(run(plan(action.model_copy(update={"verify": None})), host))[0] is ActionStatus.DONE
    assert host.ran(*action.do) == 1

    host = scripted(action, error)
    status, message = only(run(plan(action), host))
    assert (status, host.ran(*action.do)) == (ActionStatus.FAILED, 0)
    assert message.startswith("check ") and "gave no answer" in message and said in message


@pytest.mark.parametrize("name", sorted(BUILDS))
def test_a_check_whose_program_is_missing_fails_the_action(app: DesiredApp, name: str) -> None:
    action = BUILDS[name](app)
    assert isinstance(action.check, Probe) and action.do is not None
    host = scripted(action, missing())
    status, message = only(run(plan(action), host))
    assert (status, host.ran(*action.do)) == (ActionStatus.FAILED, 0)
    assert message.endswith("not found: No such file or directory")


def test_a_domain_of_commands_keeps_exit_0_when_running(app: DesiredApp) -> None:
    """`toolstack: commands` declares only "exit 0 when running": any other exit is "not running",
    while a missing status command is still no answer."""
    domain = app.domain.model_copy(update={"toolstack": steps.Toolstack.COMMANDS, "destroy": None})
    running = steps.domain_running(domain)
    assert judge(running, fail(3).model_copy(update={"argv": running.argv})) is Verdict.DOES_NOT_HOLD
    assert judge(running, missing()) is Verdict.NO_ANSWER


def test_every_check_round_trips_through_a_plan(app: DesiredApp) -> None:
    actions = [build(app) for build in BUILDS.values()] + [create_md(app)]
    p = plan(*(a.model_copy(update={"id": f"{i}"}) for i, a in enumerate(actions)))
    again = Plan.model_validate_json(p.model_dump_json())
    assert again == p
    assert all(isinstance(a.check, Probe) and a.check.holds for a in again.actions)
