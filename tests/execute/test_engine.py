"""The engine over a scripted host: order, check/do/verify, retries, timeouts, waits, blocking."""

from reconciler.core.plan.model import Action, ActionKind, FileWrite, Plan, TcpProbe
from reconciler.core.plan.storage_steps import ALL_UPTODATE
from reconciler.execute import (
    ActionResult,
    ActionStatus,
    EventKind,
    ExecutionReport,
    ExecutionSettings,
    NullJournal,
    ProgressEvent,
    execute,
)
from reconciler.execute.journal import CommandRecord, Phase
from reconciler.execute.report import RunResult
from reconciler.observe.runner import CommandResult
from tests.execute.fakes import FAST, Script, ScriptedHost, action, fail, missing, ok, plan, probe, timeout


def run(
    p: Plan, host: ScriptedHost, settings: ExecutionSettings = FAST, events: list[ProgressEvent] | None = None
) -> tuple[ExecutionReport, NullJournal]:
    journal = NullJournal()
    progress = events.append if events is not None else None
    return execute(p, host, journal, settings=settings, progress=progress), journal


def result(report: ExecutionReport, name: str) -> ActionResult:
    return next(a for a in report.actions if a.id == name)


def commands(journal: NullJournal, phase: Phase | None = None) -> list[CommandRecord]:
    records = [r for r in journal.records if isinstance(r, CommandRecord)]
    return [r for r in records if phase is None or r.phase is phase]


# --- order ---------------------------------------------------------------------------------------


def test_actions_run_in_dependency_order_stable_in_plan_order() -> None:
    # c is listed first but needs a and b: it runs as soon as they are done, before d (listed last).
    p = plan(action("c", "a", "b"), action("a"), action("b", "a"), action("d"))
    host = ScriptedHost({("do", n): [ok()] for n in "abcd"})
    report, _ = run(p, host)
    assert host.runs == [("do", "a"), ("do", "b"), ("do", "c"), ("do", "d")]
    assert [a.id for a in report.actions] == ["a", "b", "c", "d"]
    assert report.ok and report.result is RunResult.SUCCEEDED


def test_a_plan_in_dependency_order_runs_exactly_as_listed() -> None:
    p = plan(action("a"), action("x"), action("b", "a"), action("y", "x"))
    host = ScriptedHost({("do", n): [ok()] for n in ("a", "x", "b", "y")})
    run(p, host)
    assert host.runs == [("do", "a"), ("do", "x"), ("do", "b"), ("do", "y")]


# --- check, do, verify ---------------------------------------------------------------------------


def test_check_holding_skips_the_action_and_do_never_runs() -> None:
    host = ScriptedHost({("vgs", "vg0"): [ok("vg0")]})
    report, _ = run(plan(action("a", check=probe("vgs", "vg0"))), host)
    assert host.runs == [("vgs", "vg0")]
    assert result(report, "a").status is ActionStatus.SKIPPED
    assert result(report, "a").attempts == 0
    assert "already done: 'vgs vg0' exits 0" in result(report, "a").message


def test_second_run_of_the_same_plan_runs_no_do() -> None:
    state: set[str] = set()

    def make(argv: tuple[str, ...]) -> CommandResult:
        state.add(argv[1])
        return ok()

    def exists(argv: tuple[str, ...]) -> CommandResult:
        return ok() if argv[1] in state else fail(1)

    names = ("vg", "lv", "up")
    script: Script = {("do", n): make for n in names}
    host = ScriptedHost(script | {("test", n): exists for n in names})
    actions = [
        action(n, *names[:i], check=probe("test", n), verify=probe("test", n)) for i, n in enumerate(names)
    ]
    write = action("conf", do=None, write=FileWrite(path="/etc/drbd.d/r0.res", content="resource r0 {}\n"))
    p = plan(*actions, write)

    first, _ = run(p, host)
    assert [a.status for a in first.actions] == [ActionStatus.DONE] * 4
    done = len(host.runs), len([c for c in host.calls if c[0] == "write"])
    second, _ = run(p, host)
    assert [a.status for a in second.actions] == [ActionStatus.SKIPPED] * 4
    assert [r for r in host.runs[done[0] :] if r[0] == "do"] == []
    # The writer is asked again (it compares content and mode itself) and reports no change.
    assert len([c for c in host.calls if c[0] == "write"]) == done[1] + 1
    assert host.files["/etc/drbd.d/r0.res"] == "resource r0 {}\n"


def test_done_when_do_succeeds_and_verify_holds() -> None:
    host = ScriptedHost({("test", "a"): [fail(1), ok()], ("do", "a"): [ok()]})
    report, journal = run(plan(action("a", check=probe("test", "a"), verify=probe("test", "a"))), host)
    assert host.runs == [("test", "a"), ("do", "a"), ("test", "a")]
    a = result(report, "a")
    assert (a.status, a.attempts, a.message) == (ActionStatus.DONE, 1, "ran 'do a'")
    assert [r.phase for r in commands(journal)] == [Phase.CHECK, Phase.DO, Phase.VERIFY]


def test_a_check_that_cannot_run_fails_the_action_and_do_never_runs() -> None:
    host = ScriptedHost({("test", "a"): [missing()], ("do", "a"): [ok()]})
    report, _ = run(plan(action("a", check=probe("test", "a", expect="nonzero"))), host)
    assert host.ran("do", "a") == 0 and not report.ok
    message = result(report, "a").message
    assert message == (
        "check 'test a' exits non-zero gave no answer: 'test a' not found: No such file or directory"
    )


def test_ok_exit_accepts_other_exit_codes() -> None:
    host = ScriptedHost({("fsck", "x"): [fail(1)]})
    report, _ = run(plan(action("a", do=("fsck", "x"), ok_exit=(0, 1))), host)
    assert result(report, "a").status is ActionStatus.DONE and host.ran("fsck", "x") == 1


def test_verify_failure_fails_the_action_with_what_the_probe_saw() -> None:
    verify = probe("drbdadm", "role", "r0", stdout="matches", text="Primary(/\\S+)*")
    host = ScriptedHost({("do", "a"): [ok()], ("drbdadm", "role", "r0"): [ok("Secondary/Secondary\n")]})
    report, journal = run(plan(action("a", verify=verify)), host)
    a = result(report, "a")
    assert a.status is ActionStatus.FAILED
    assert a.message == (
        "ran 'do a' but 'drbdadm role r0' exits 0 with output matching 'Primary(/\\S+)*' does not hold: "
        "Secondary/Secondary"
    )
    # Polled for the grace period (5 s by default, every 1 s), then gave up; do ran once.
    assert host.ran("do", "a") == 1
    assert host.ran("drbdadm", "role", "r0") == 6
    assert len(commands(journal, Phase.VERIFY)) == 6


def test_verify_that_settles_within_the_grace_period_succeeds() -> None:
    verify = probe("drbdadm", "role", "r0", stdout="matches", text="Primary")
    host = ScriptedHost({("do", "a"): [ok()], ("drbdadm", "role", "r0"): [ok("Secondary"), ok("Primary")]})
    report, _ = run(plan(action("a", verify=verify)), host)
    assert report.ok and host.sleeps == [1.0]


def test_no_grace_checks_verify_once() -> None:
    host = ScriptedHost({("do", "a"): [ok()], ("test", "a"): [fail(1), ok()]})
    report, _ = run(
        plan(action("a", verify=probe("test", "a"))), host, FAST.model_copy(update={"verify_grace": 0})
    )
    assert not report.ok and host.ran("test", "a") == 1


# --- retries ---------------------------------------------------------------------------------------


def test_transient_failure_is_retried_then_succeeds() -> None:
    host = ScriptedHost({("do", "a"): [fail(5, stderr="device busy"), fail(5), ok()]})
    events: list[ProgressEvent] = []
    report, journal = run(plan(action("a")), host, ExecutionSettings(), events)
    a = result(report, "a")
    assert (a.status, a.attempts) == (ActionStatus.DONE, 3)
    assert [(r.attempt, r.exit) for r in commands(journal, Phase.DO)] == [(1, 5), (2, 5), (3, 0)]
    # Exponential backoff from 1 s, on the host's clock (virtual here: no real time passes).
    assert host.sleeps == [1.0, 2.0]
    retries = [e for e in events if e.event is EventKind.RETRYING]
    assert [(e.attempt, e.delay) for e in retries] == [(1, 1.0), (2, 2.0)]
    assert retries[0].message == "'do a' failed (exit 5): device busy; retrying in 1 s"


def test_backoff_is_capped() -> None:
    host = ScriptedHost({("do", "a"): [fail(1)] * 5 + [ok()]})
    report, _ = run(plan(action("a")), host, ExecutionSettings(attempts=6, backoff_initial=1, backoff_max=5))
    assert report.ok and host.sleeps == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_retries_give_up_after_the_attempts() -> None:
    host = ScriptedHost({("do", "a"): [fail(5, stderr="no")]})
    report, journal = run(plan(action("a")), host)
    a = result(report, "a")
    assert (a.status, a.attempts) == (ActionStatus.FAILED, 3)
    assert a.message == "'do a' failed (exit 5): no (3 attempts)"
    assert len(commands(journal, Phase.DO)) == 3


def test_non_retryable_failure_is_not_retried() -> None:
    host = ScriptedHost({("do", "a"): [fail(5), ok()]})
    report, _ = run(plan(action("a", retryable=False)), host)
    assert result(report, "a").status is ActionStatus.FAILED
    assert host.ran("do", "a") == 1 and result(report, "a").attempts == 1


def test_missing_program_is_not_retried() -> None:
    host = ScriptedHost({("do", "a"): [missing()]})
    report, _ = run(plan(action("a")), host)
    assert host.ran("do", "a") == 1
    assert result(report, "a").message == "'do a' not found: No such file or directory"


# --- timeouts ------------------------------------------------------------------------------------


def test_timeout_without_escalation_fails_with_a_message() -> None:
    host = ScriptedHost({("xm", "shutdown", "web"): [timeout()]})
    report, _ = run(plan(action("a", do=("xm", "shutdown", "web"), timeout=120)), host)
    a = result(report, "a")
    assert (a.status, a.message) == (ActionStatus.FAILED, "'xm shutdown web' timed out after 120 s")
    assert host.ran("xm", "shutdown", "web") == 1  # a timeout is not retried


def test_timeout_runs_on_timeout_then_verifies() -> None:
    stopped = probe("xm", "list", "web", expect="nonzero")
    host = ScriptedHost(
        {
            ("xm", "list", "web"): [ok("web 1 512"), ok("web 1 512"), fail(1)],
            ("xm", "shutdown", "web"): [timeout()],
            ("xm", "destroy", "web"): [ok()],
        }
    )
    a = action(
        "stop",
        kind=ActionKind.STOP_DOMAIN,
        do=("xm", "shutdown", "web"),
        on_timeout=("xm", "destroy", "web"),
        check=stopped,
        verify=stopped,
        timeout=60,
        retryable=False,
    )
    report, journal = run(plan(a), host)
    assert host.runs == [
        ("xm", "list", "web"),
        ("xm", "shutdown", "web"),
        ("xm", "destroy", "web"),
        ("xm", "list", "web"),
        ("xm", "list", "web"),
    ]
    r = result(report, "stop")
    assert r.status is ActionStatus.DONE
    assert r.message == "'xm shutdown web' timed out after 60 s; ran 'xm destroy web'"
    escalation = commands(journal, Phase.ON_TIMEOUT)
    assert [e.argv for e in escalation] == [("xm", "destroy", "web")]
    # The escalation gets the action's own timeout.
    assert ("run", ("xm", "destroy", "web"), 60.0) in host.calls


def test_failed_escalation_is_reported() -> None:
    host = ScriptedHost({("slow",): [timeout()], ("kill",): [fail(3, stderr="nope")]})
    report, _ = run(plan(action("a", do=("slow",), on_timeout=("kill",), timeout=10)), host)
    r = result(report, "a")
    assert r.status is ActionStatus.FAILED
    assert r.message == "'slow' timed out after 10 s; then 'kill' failed (exit 3): nope"


# --- waits ---------------------------------------------------------------------------------------


def wait_sync(timeout_s: float) -> Action:
    return action(
        "sync",
        kind=ActionKind.WAIT_SYNC,
        do=None,
        wait=True,
        timeout=timeout_s,
        verify=probe("drbdadm", "dstate", "r0", stdout="matches", text=ALL_UPTODATE),
    )


def test_wait_polls_until_the_probe_holds() -> None:
    states = [ok("Inconsistent/UpToDate\n")] * 3 + [ok("UpToDate/UpToDate\n")]
    host = ScriptedHost({("drbdadm", "dstate", "r0"): states})
    events: list[ProgressEvent] = []
    report, journal = run(plan(wait_sync(600)), host, FAST, events)
    r = result(report, "sync")
    assert (r.status, r.attempts) == (ActionStatus.DONE, 4)
    assert host.sleeps == [1.0, 1.0, 1.0]
    waiting = [e for e in events if e.event is EventKind.WAITING]
    assert [(e.elapsed, e.timeout, e.stdout) for e in waiting] == [
        (0.0, 600.0, "Inconsistent/UpToDate"),
        (1.0, 600.0, "Inconsistent/UpToDate"),
        (2.0, 600.0, "Inconsistent/UpToDate"),
    ]
    assert events[-1].event is EventKind.FINISHED and events[-1].elapsed == 3.0
    # Polls are journaled when the answer changes: the first, then the one that held.
    assert [r.attempt for r in commands(journal, Phase.VERIFY)] == [1, 4]


def test_wait_that_holds_already_is_skipped() -> None:
    host = ScriptedHost({("drbdadm", "dstate", "r0"): [ok("UpToDate/UpToDate")]})
    report, _ = run(plan(wait_sync(600)), host)
    assert result(report, "sync").status is ActionStatus.SKIPPED and host.sleeps == []


def test_wait_gives_up_at_its_timeout() -> None:
    host = ScriptedHost({("drbdadm", "dstate", "r0"): [ok("Inconsistent/UpToDate", seconds=0.5)]})
    report, _ = run(plan(wait_sync(10)), host)
    r = result(report, "sync")
    assert r.status is ActionStatus.FAILED
    assert r.message.startswith("waited 10 s but 'drbdadm dstate r0' exits 0 with output matching")
    assert r.message.endswith("does not hold: Inconsistent/UpToDate")
    # Polls of 0.5 s every 1 s: the 7th ends at 9.5 s, a last one after sleeping the 0.5 s left.
    assert (r.seconds, r.attempts) == (10.5, 8)


def test_tcp_readiness_wait() -> None:
    host = ScriptedHost(listening=set())
    ready = action(
        "ready",
        kind=ActionKind.READINESS,
        do=None,
        wait=True,
        timeout=5,
        verify=TcpProbe(address="192.0.2.10", port=80),
    )
    report, _ = run(plan(ready), host)
    assert result(report, "ready").status is ActionStatus.FAILED
    assert "a TCP connection to 192.0.2.10:80 does not hold" in result(report, "ready").message
    host.listening.add(("192.0.2.10", 80))
    report, _ = run(plan(ready), host)
    assert result(report, "ready").status is ActionStatus.SKIPPED


# --- failures and blocking -------------------------------------------------------------------------


def test_a_failure_blocks_dependents_but_not_independent_actions() -> None:
    p = plan(
        action("web/vg"),
        action("web/lv", "web/vg"),
        action("web/mount", "web/lv"),
        action("db/vg"),
        action("db/lv", "db/vg"),
    )
    script: Script = {("do", n): [ok()] for n in ("web/lv", "web/mount", "db/vg", "db/lv")}
    host = ScriptedHost(script | {("do", "web/vg"): [fail(5)]})
    events: list[ProgressEvent] = []
    report, _ = run(p, host, FAST, events)
    assert {a.id: a.status for a in report.actions} == {
        "web/vg": ActionStatus.FAILED,
        "web/lv": ActionStatus.BLOCKED,
        "web/mount": ActionStatus.BLOCKED,
        "db/vg": ActionStatus.DONE,
        "db/lv": ActionStatus.DONE,
    }
    assert host.ran("do", "web/lv") == 0 and host.ran("do", "web/mount") == 0
    assert result(report, "web/mount").message == "not run: it depends on web/vg, which failed"
    assert report.result is RunResult.FAILED and not report.ok
    finished = [(e.action, e.status) for e in events if e.event is EventKind.FINISHED]
    assert ("web/mount", ActionStatus.BLOCKED) in finished


def test_write_with_identical_content_is_skipped() -> None:
    write = FileWrite(path="/etc/drbd.d/r0.res", content="resource r0 {}\n")
    host = ScriptedHost(files={write.path: write.content})
    report, journal = run(plan(action("w", do=None, kind=ActionKind.WRITE_FILE, write=write)), host)
    assert result(report, "w").status is ActionStatus.SKIPPED
    assert [c[0] for c in host.calls] == ["write"]
    # The journal says the write changed nothing, but never what the file holds.
    assert [(r.argv, r.stdout) for r in commands(journal)] == [(("<write>", write.path), "unchanged")]


def test_write_with_other_content_writes() -> None:
    write = FileWrite(path="/etc/xen/web.cfg", content="new\n", mode=0o600)
    host = ScriptedHost(files={write.path: "old\n"})
    report, journal = run(plan(action("w", do=None, kind=ActionKind.WRITE_FILE, write=write)), host)
    assert result(report, "w").status is ActionStatus.DONE and host.files[write.path] == "new\n"
    assert [r.argv for r in commands(journal, Phase.DO)] == [("<write>", write.path)]


def test_write_error_fails_the_action() -> None:
    write = FileWrite(path="/etc/xen/web.cfg", content="new\n")
    host = ScriptedHost()
    host.write_error = PermissionError(13, "Permission denied")
    report, _ = run(plan(action("w", do=None, write=write)), host)
    assert result(report, "w").status is ActionStatus.FAILED
    assert result(report, "w").message == "could not write /etc/xen/web.cfg: [Errno 13] Permission denied"


def test_noop_runs_nothing() -> None:
    host = ScriptedHost()
    report, _ = run(plan(action("n", kind=ActionKind.NOOP, do=None)), host)
    assert result(report, "n").status is ActionStatus.SKIPPED and host.calls == []


def test_reason_is_never_read() -> None:
    # The same plan with different reasons runs the same commands.
    runs = []
    for reason in ("", "do not run this"):
        host = ScriptedHost({("do", "a"): [ok()]})
        run(plan(action("a", reason=reason)), host)
        runs.append(host.runs)
    assert runs[0] == runs[1] == [("do", "a")]


def test_progress_events_for_each_action() -> None:
    host = ScriptedHost({("do", "a"): [ok()], ("do", "b"): [ok()]})
    events: list[ProgressEvent] = []
    run(plan(action("a"), action("b", "a")), host, FAST, events)
    assert [(e.event, e.action, e.index, e.total) for e in events] == [
        (EventKind.STARTED, "a", 1, 2),
        (EventKind.FINISHED, "a", 1, 2),
        (EventKind.STARTED, "b", 2, 2),
        (EventKind.FINISHED, "b", 2, 2),
    ]
    assert events[1].status is ActionStatus.DONE and events[1].timeout == 30.0
