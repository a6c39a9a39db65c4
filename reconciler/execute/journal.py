"""The journal: one JSON object per line for every command execution ran, flushed to disk.

A line is written, flushed and fsynced before execution goes on, so a crash loses nothing that
was done: after a power cut the journal says which commands ran, how they ended and what they
printed. Records are typed: `plan` (begin and end of a run; a refused plan has only an end, with
result `refused`), `command` (one check, do, verify or on_timeout run, a file read or write, a TCP
probe) and `action` (how one action ended). Every record of one run carries its `run` id.

File contents are never journaled (a DRBD resource file holds the peers' shared secret), only
whether they matched. Polls of a long wait are journaled when their answer changes, not each one.
"""

import os
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from reconciler.core.plan.model import Action, ActionKind, Revision
from reconciler.execute.report import ActionStatus, RunResult
from reconciler.observe.runner import READ, CommandResult, Outcome
from reconciler.render.files import fsync_directory

TAIL_LINES = 20


class Phase(StrEnum):
    CHECK = "check"
    DO = "do"
    VERIFY = "verify"
    ON_TIMEOUT = "on_timeout"


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    run: str


class PlanRecord(Record):
    type: Literal["plan"] = "plan"
    event: Literal["begin", "end"]
    time: datetime
    node: str
    revision: Revision
    digest: str
    actions: int
    result: RunResult | None = None
    counts: dict[ActionStatus, int] | None = None
    message: str = ""


class CommandRecord(Record):
    type: Literal["command"] = "command"
    action: str
    kind: ActionKind
    phase: Phase
    attempt: int
    argv: tuple[str, ...]
    start: datetime
    end: datetime
    seconds: float
    outcome: Outcome
    exit: int | None
    stdout: str
    stderr: str
    holds: bool | None = None


class ActionRecord(Record):
    type: Literal["action"] = "action"
    action: str
    kind: ActionKind
    status: ActionStatus
    seconds: float
    attempts: int
    message: str


def tail(text: str, lines: int = TAIL_LINES) -> str:
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


def command_record(
    run: str,
    action: Action,
    phase: Phase,
    attempt: int,
    result: CommandResult,
    span: tuple[datetime, datetime],
    seconds: float,
    holds: bool | None = None,
) -> CommandRecord:
    """The journal line of one command, run from `span[0]` to `span[1]` (wall clock) for
    `seconds` (the host's monotonic clock); `holds` for probes. File reads keep no content."""
    is_read = result.argv[:1] == (READ,)
    return CommandRecord(
        run=run,
        action=action.id,
        kind=action.kind,
        phase=phase,
        attempt=attempt,
        argv=result.argv,
        start=span[0],
        end=span[1],
        seconds=round(seconds, 6),
        outcome=result.outcome,
        exit=result.returncode,
        stdout="" if is_read else tail(result.stdout),
        stderr=tail(result.stderr),
        holds=holds,
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


class Journal:
    """Appends records to `path` (created 0600: outputs may be sensitive), one fsynced line each."""

    def __init__(self, path: Path, clock: Callable[[], datetime] = utc_now) -> None:
        self.path = path
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    def append(self, record: Record) -> None:
        line = (record.model_dump_json() + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            while line:
                line = line[os.write(fd, line) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            fsync_directory(self.path.parent)


class NullJournal(Journal):
    """Writes nothing to disk (dry runs, tests); `records` holds what would have been written."""

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        super().__init__(Path(os.devnull), clock)
        self.records: list[Record] = []

    def append(self, record: Record) -> None:
        self.records.append(record)
