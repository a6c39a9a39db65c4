"""What execution takes and gives back: settings, progress events and the report of a run.

All of it is data (frozen, JSON-serialisable), so the CLI can print it, draw a progress bar from
the events, or hand the report on as JSON.
"""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from reconciler.core.plan.model import ActionKind, Revision
from reconciler.core.refs import Ref


class ExecutionData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ExecutionSettings(ExecutionData):
    """How patient execution is; the tests set the delays to 0."""

    attempts: int = Field(default=3, ge=1, description="Runs of a retryable `do` that fails, in all.")
    backoff_initial: float = Field(default=1.0, ge=0, description="Seconds before the first retry; doubles.")
    backoff_max: float = Field(default=10.0, ge=0, description="Longest wait between two retries.")
    poll_interval: float = Field(default=1.0, gt=0, description="Seconds between two polls of a wait.")
    verify_grace: float = Field(
        default=5.0, ge=0, description="How long `verify` may take to hold after `do` (DRBD settles)."
    )
    probe_timeout: float = Field(default=30.0, gt=0, description="Timeout of one check or verify command.")
    connect_timeout: float = Field(default=3.0, gt=0, description="Timeout of one TCP probe.")


class ActionStatus(StrEnum):
    DONE = "done"  # it ran and its verification holds
    SKIPPED = "skipped"  # nothing to do: the check held, the file was right, the wait held already
    FAILED = "failed"
    BLOCKED = "blocked"  # not run: something it depends on failed


class ActionResult(ExecutionData):
    id: str
    app: str
    kind: ActionKind
    target: Ref
    status: ActionStatus
    seconds: float = 0.0
    attempts: int = Field(default=0, description="Runs of `do` (or polls of a wait); 0 when skipped.")
    message: str = ""


class RunResult(StrEnum):
    SUCCEEDED = "succeeded"  # every action done or skipped
    FAILED = "failed"  # some action failed (and its dependents were blocked)
    REFUSED = "refused"  # nothing ran: the plan may not be applied
    INTERRUPTED = "interrupted"  # stopped by an exception (a signal, a journal that cannot be written)


class ExecutionReport(ExecutionData):
    run: str = Field(description="The id of this run, on every journal line it wrote.")
    node: str
    revision: Revision
    observation_digest: str
    started_at: datetime
    seconds: float
    result: RunResult
    actions: tuple[ActionResult, ...] = Field(description="In the order they were taken.")

    @property
    def ok(self) -> bool:
        return self.result is RunResult.SUCCEEDED

    def with_status(self, status: ActionStatus) -> tuple[ActionResult, ...]:
        return tuple(a for a in self.actions if a.status is status)


class EventKind(StrEnum):
    STARTED = "started"
    RETRYING = "retrying"  # `do` failed and runs again after `delay` seconds
    WAITING = "waiting"  # a wait polled and does not hold yet: `elapsed` of `timeout`, `stdout`
    FINISHED = "finished"  # `status` says how, after `elapsed` s (also for blocked ones, never started)


class ProgressEvent(ExecutionData):
    event: EventKind
    action: str
    app: str
    kind: ActionKind
    target: Ref
    index: int = Field(description="1-based position of the action in the run.")
    total: int
    status: ActionStatus | None = None
    attempt: int = 0
    elapsed: float = 0.0
    timeout: float = 0.0
    delay: float = 0.0
    stdout: str = Field(default="", description="The last stdout of the wait's probe (a DRBD disk state).")
    message: str = ""
