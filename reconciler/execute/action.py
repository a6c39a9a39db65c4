"""One action, taken: check, then do (with retries and timeout) or write or wait, then verify.

Every command is journaled as it ends. The answer is an `ActionResult`; this module never
decides what else runs (that is the engine's business) and never reads `Action.reason`.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_attempt, wait_exponential

from reconciler.core.plan.model import Action, ActionKind, Probe, TcpProbe
from reconciler.execute.host import Host
from reconciler.execute.journal import ActionRecord, Journal, Phase, command_record
from reconciler.execute.probe import ProbeAnswer, ProbeVerdict, describe, evaluate, seen, unanswered
from reconciler.execute.report import ActionResult, ActionStatus, EventKind, ExecutionSettings, ProgressEvent
from reconciler.observe.runner import CommandResult, Outcome

WRITE = "<write>"


@dataclass(frozen=True)
class ActionContext:
    """What every action of one run shares."""

    host: Host
    journal: Journal
    settings: ExecutionSettings
    run: str
    progress: Callable[[ProgressEvent], None] | None


@dataclass(frozen=True)
class ActionEnding:
    status: ActionStatus
    message: str
    attempts: int = 0


@dataclass(frozen=True)
class Ran:
    """One command (or probe, read, write) with its wall-clock span and monotonic duration."""

    result: CommandResult
    span: tuple[datetime, datetime]
    seconds: float
    holds: bool | None = None
    answered: bool = True  # a probe that could not tell holds or not (see `probe.judge`)


def quote(argv: tuple[str, ...]) -> str:
    return "'" + " ".join(argv) + "'"


class ActionRun:
    """Takes one action; `take()` once."""

    def __init__(self, context: ActionContext, action: Action, index: int, total: int) -> None:
        self.context = context
        self.host = context.host
        self.action = action
        self.index = index
        self.total = total

    def take(self) -> ActionResult:
        start = self.host.monotonic()
        self.emit(EventKind.STARTED)
        ending = self._take()
        seconds = self.host.monotonic() - start
        finish(self.context, self.action, ending, seconds)
        fields = {"status": ending.status, "attempt": ending.attempts, "message": ending.message}
        self.emit(EventKind.FINISHED, elapsed=seconds, timeout=self.action.timeout, **fields)
        return result_of(self.action, ending, seconds)

    def _take(self) -> ActionEnding:
        action = self.action
        if action.kind is ActionKind.NOOP:
            return ActionEnding(ActionStatus.SKIPPED, "nothing to do")
        if action.check is not None:
            ran = self.probe(action.check)
            self.log(ran, Phase.CHECK, 1)
            if not ran.answered:
                # An error is not "done", nor "to do": doing it blind could destroy what the
                # check failed to see (create-md over metadata a parse error hid).
                why = f"check {describe(action.check)} gave no answer: {unanswered(action.check, ran.result)}"
                return ActionEnding(ActionStatus.FAILED, why)
            if ran.holds:
                return ActionEnding(ActionStatus.SKIPPED, f"already done: {describe(action.check)}")
        if action.write is not None:
            return self._write()
        if action.wait:
            return self._wait()
        return self._do()

    # --- do ------------------------------------------------------------------------------------

    def _do(self) -> ActionEnding:
        action = self.action
        assert action.do is not None
        argv = action.do
        attempts = 0

        def attempt() -> CommandResult:
            nonlocal attempts
            attempts += 1
            ran = self.command(argv, action.timeout)
            self.log(ran, Phase.DO, attempts)
            return ran.result

        settings = self.context.settings
        retrying = Retrying(
            sleep=self.host.sleep,
            stop=stop_after_attempt(settings.attempts if action.retryable else 1),
            wait=wait_exponential(multiplier=settings.backoff_initial, max=settings.backoff_max),
            retry=retry_if_result(self._retry),
            before_sleep=self._retrying,
            retry_error_callback=_last_result,
        )
        result: CommandResult = retrying(attempt)
        if result.outcome is Outcome.TIMEOUT:
            return self._timed_out(attempts)
        if not self._succeeded(result):
            times = f" ({attempts} attempts)" if attempts > 1 else ""
            return ActionEnding(ActionStatus.FAILED, self._failure(result) + times, attempts)
        return self._verified(f"ran {quote(argv)}", attempts)

    def _succeeded(self, result: CommandResult) -> bool:
        ran = result.outcome in (Outcome.OK, Outcome.FAILED)
        return ran and result.returncode in self.action.ok_exit

    def _retry(self, result: CommandResult) -> bool:
        """Retry only a command that ran and exited badly: a missing program stays missing, and
        a timeout has its own escalation."""
        return result.outcome in (Outcome.OK, Outcome.FAILED) and not self._succeeded(result)

    def _failure(self, result: CommandResult) -> str:
        if result.outcome is Outcome.OK:  # exit 0, which this action does not accept
            return f"{quote(result.argv)} exited 0, not one of {list(self.action.ok_exit)}"
        return result.describe()

    def _retrying(self, state: RetryCallState) -> None:
        delay = state.next_action.sleep if state.next_action is not None else 0.0
        result = _last_result(state)
        self.emit(
            EventKind.RETRYING,
            attempt=state.attempt_number,
            delay=delay,
            message=f"{self._failure(result)}; retrying in {delay:g} s",
        )

    def _timed_out(self, attempts: int) -> ActionEnding:
        action = self.action
        assert action.do is not None
        message = f"{quote(action.do)} timed out after {action.timeout:g} s"
        if action.on_timeout is None:
            return ActionEnding(ActionStatus.FAILED, message, attempts)
        ran = self.command(action.on_timeout, action.timeout)
        self.log(ran, Phase.ON_TIMEOUT, 1)
        if ran.result.ok:
            message += f"; ran {quote(action.on_timeout)}"
        else:
            message += f"; then {ran.result.describe()}"
        if action.verify is None:
            status = ActionStatus.DONE if ran.result.ok else ActionStatus.FAILED
            return ActionEnding(status, message, attempts)
        return self._verified(message, attempts)

    # --- write and wait -----------------------------------------------------------------------

    def _write(self) -> ActionEnding:
        """The host's writer compares content and mode itself and writes only what differs, so
        there is no separate check: "unchanged" is the skip, and a wrong mode is still mended."""
        write = self.action.write
        assert write is not None
        argv = (WRITE, write.path)
        error: OSError | None = None
        changed = False

        def do_write() -> tuple[CommandResult, None]:
            nonlocal error, changed
            try:
                changed = self.host.write_file(write)
            except OSError as err:
                error = err
                return CommandResult(argv=argv, outcome=Outcome.ERROR, stderr=str(err)), None
            note = "written" if changed else "unchanged"
            return CommandResult(argv=argv, outcome=Outcome.OK, returncode=0, stdout=note), None

        self.log(self.measure(do_write), Phase.DO, 1)
        if error is not None:
            return ActionEnding(ActionStatus.FAILED, f"could not write {write.path}: {error}", 1)
        if not changed:
            return ActionEnding(ActionStatus.SKIPPED, f"{write.path} has this content already")
        return self._verified(f"wrote {write.path}", 1)

    def _wait(self) -> ActionEnding:
        """Poll `verify` until it holds or the action's timeout runs out. Polls are journaled when
        their answer changes (and the last one), not each of the thousands a resync may take."""
        action = self.action
        assert action.verify is not None
        start = self.host.monotonic()
        polls, logged = 0, None
        while True:
            polls += 1
            ran = self.probe(action.verify)
            elapsed = self.host.monotonic() - start
            final = bool(ran.holds) or elapsed >= action.timeout
            answer = (ran.result.outcome, ran.result.returncode, ran.result.stdout)
            if final or answer != logged:
                self.log(ran, Phase.VERIFY, polls)
                logged = answer
            if ran.holds:
                if polls == 1:
                    return ActionEnding(ActionStatus.SKIPPED, f"already holds: {describe(action.verify)}")
                return ActionEnding(
                    ActionStatus.DONE, f"{describe(action.verify)} after {elapsed:.0f} s", polls
                )
            if elapsed >= action.timeout:
                message = f"waited {action.timeout:g} s but {describe(action.verify)} does not hold"
                return ActionEnding(ActionStatus.FAILED, f"{message}: {seen(ran.result)}", polls)
            stdout = ran.result.stdout.strip()
            self.emit(
                EventKind.WAITING, attempt=polls, elapsed=elapsed, timeout=action.timeout, stdout=stdout
            )
            self.host.sleep(min(self.context.settings.poll_interval, action.timeout - elapsed))

    def _verified(self, did: str, attempts: int) -> ActionEnding:
        """After `did`, `verify` must hold; it may take `verify_grace` seconds to settle."""
        verify = self.action.verify
        if verify is None:
            return ActionEnding(ActionStatus.DONE, did, attempts)
        settings = self.context.settings
        deadline = self.host.monotonic() + settings.verify_grace
        checks = 0
        while True:
            checks += 1
            ran = self.probe(verify)
            self.log(ran, Phase.VERIFY, checks)
            if ran.holds:
                return ActionEnding(ActionStatus.DONE, did, attempts)
            remaining = deadline - self.host.monotonic()
            if remaining <= 0:
                message = f"{did} but {describe(verify)} does not hold: {seen(ran.result)}"
                return ActionEnding(ActionStatus.FAILED, message, attempts)
            self.host.sleep(min(settings.poll_interval, remaining))

    # --- commands, journal, events ------------------------------------------------------------

    def measure(self, call: Callable[[], tuple[CommandResult, bool | None]]) -> Ran:
        journal = self.context.journal
        wall, start = journal.now(), self.host.monotonic()
        result, holds = call()
        return Ran(result, (wall, journal.now()), self.host.monotonic() - start, holds)

    def command(self, argv: tuple[str, ...], timeout: float) -> Ran:
        return self.measure(lambda: (self.host.run(argv, timeout), None))

    def probe(self, probe: Probe | TcpProbe) -> Ran:
        settings = self.context.settings
        if isinstance(probe, TcpProbe):
            timeout = min(settings.connect_timeout, self.action.timeout)
        else:
            timeout = min(settings.probe_timeout, self.action.timeout)

        answers: list[ProbeAnswer] = []

        def run() -> tuple[CommandResult, bool]:
            answers.append(evaluate(probe, self.host, timeout))
            return answers[0].result, answers[0].holds

        ran = self.measure(run)
        return replace(ran, answered=answers[0].verdict is not ProbeVerdict.NO_ANSWER)

    def log(self, ran: Ran, phase: Phase, attempt: int, holds: bool | None = None) -> None:
        record = command_record(
            self.context.run,
            self.action,
            phase,
            attempt,
            ran.result,
            ran.span,
            ran.seconds,
            ran.holds if holds is None else holds,
        )
        self.context.journal.append(record)

    def emit(self, event: EventKind, **fields: object) -> None:
        emit(self.context, self.action, (self.index, self.total), event, **fields)


def emit(
    context: ActionContext, action: Action, position: tuple[int, int], event: EventKind, **fields: object
) -> None:
    """Tell the caller's progress callback, if any; `position` is (index, total) in the run."""
    if context.progress is None:
        return
    common = {"action": action.id, "app": action.app, "kind": action.kind, "target": action.target}
    place = {"index": position[0], "total": position[1]}
    context.progress(ProgressEvent.model_validate({"event": event, **common, **place, **fields}))


def finish(context: ActionContext, action: Action, ending: ActionEnding, seconds: float = 0.0) -> None:
    """Journal how the action ended."""
    record = ActionRecord(
        run=context.run,
        action=action.id,
        kind=action.kind,
        status=ending.status,
        seconds=round(seconds, 6),
        attempts=ending.attempts,
        message=ending.message,
    )
    context.journal.append(record)


def result_of(action: Action, ending: ActionEnding, seconds: float = 0.0) -> ActionResult:
    return ActionResult(
        id=action.id,
        app=action.app,
        kind=action.kind,
        target=action.target,
        status=ending.status,
        seconds=round(seconds, 6),
        attempts=ending.attempts,
        message=ending.message,
    )


def _last_result(state: RetryCallState) -> CommandResult:
    assert state.outcome is not None
    result = state.outcome.result()
    assert isinstance(result, CommandResult)
    return result
