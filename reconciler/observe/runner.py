"""The only module that starts processes or reads host files for observation.

Everything that observes goes through a `Runner`, so that a test can replay captured outputs, a
support bundle can replay a production node on a laptop, and `capture` can record one pass.
Commands are argv lists; a missing tool, a hang and a failure each come back as a result that
says so, never as an exception the caller might swallow into an empty state.
"""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from reconciler.observe.host import PROBE, read_host

DEFAULT_TIMEOUT = 10.0
# Observation only reads, so a C locale is safe and keeps the tools' output in the format the
# parsers know (no translated headers, '.' as the decimal point).
OBSERVE_ENV_OVERRIDES = {"LC_ALL": "C", "LANG": "C"}


class Outcome(StrEnum):
    OK = "ok"
    FAILED = "failed"  # ran and exited non-zero
    MISSING = "missing"  # the program or file does not exist
    TIMEOUT = "timeout"  # killed after its timeout
    ERROR = "error"  # could not be started or read (permissions, ...)


class CommandResult(BaseModel):
    """What one command printed, or one file held (`argv` is then `("<read>", path)`)."""

    model_config = ConfigDict(frozen=True)

    argv: tuple[str, ...]
    outcome: Outcome
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    def describe(self) -> str:
        """`'lvm fullreport ...' failed (exit 5): <last stderr line>` for error messages."""
        command = " ".join(self.argv)
        detail = {
            Outcome.OK: "succeeded",
            Outcome.FAILED: f"failed (exit {self.returncode})",
            Outcome.MISSING: "not found",
            Outcome.TIMEOUT: f"timed out after {self.seconds:.1f}s",
            Outcome.ERROR: "could not run",
        }[self.outcome]
        tail = self.stderr.strip().splitlines()[-1:] if self.stderr.strip() else []
        return f"'{command}' {detail}" + (f": {tail[0]}" if tail else "")


READ = "<read>"


class Runner(Protocol):
    def run(self, argv: Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> CommandResult: ...

    def read(self, path: str) -> CommandResult: ...

    def host(self) -> CommandResult:
        """The node's name, load and memory (HostLoad as JSON), recorded like any command."""
        ...


class SubprocessRunner:
    """Runs commands for real, each in its own process group so a timeout kills all of it."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self._env = {**os.environ, **OBSERVE_ENV_OVERRIDES, **(env or {})}

    def run(self, argv: Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> CommandResult:
        args = tuple(argv)
        start = time.monotonic()
        try:
            process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                env=self._env,
                start_new_session=True,
            )
        except FileNotFoundError as err:
            return CommandResult(argv=args, outcome=Outcome.MISSING, stderr=str(err))
        except OSError as err:
            return CommandResult(argv=args, outcome=Outcome.ERROR, stderr=str(err))
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            stdout, stderr = process.communicate()
            return CommandResult(
                argv=args,
                outcome=Outcome.TIMEOUT,
                stdout=stdout,
                stderr=stderr,
                seconds=time.monotonic() - start,
            )
        outcome = Outcome.OK if process.returncode == 0 else Outcome.FAILED
        return CommandResult(
            argv=args,
            outcome=outcome,
            returncode=process.returncode,
            stdout=stdout,
            stderr=stderr,
            seconds=time.monotonic() - start,
        )

    def read(self, path: str) -> CommandResult:
        argv = (READ, path)
        try:
            return CommandResult(argv=argv, outcome=Outcome.OK, stdout=Path(path).read_text(errors="replace"))
        except FileNotFoundError as err:
            return CommandResult(argv=argv, outcome=Outcome.MISSING, stderr=str(err))
        except OSError as err:
            return CommandResult(argv=argv, outcome=Outcome.ERROR, stderr=str(err))

    def host(self) -> CommandResult:
        return CommandResult(argv=(PROBE,), outcome=Outcome.OK, stdout=read_host().model_dump_json())


def _kill_group(process: "subprocess.Popen[str]") -> None:
    # The group is ours alone (start_new_session), so this ends the tool and anything it forked.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


class RecordingRunner:
    """Passes calls to another runner and keeps every result, for `capture`."""

    def __init__(self, inner: Runner) -> None:
        self.inner = inner
        self.results: list[CommandResult] = []

    def run(self, argv: Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> CommandResult:
        result = self.inner.run(argv, timeout)
        self.results.append(result)
        return result

    def read(self, path: str) -> CommandResult:
        result = self.inner.read(path)
        self.results.append(result)
        return result

    def host(self) -> CommandResult:
        result = self.inner.host()
        self.results.append(result)
        return result


class ReplayRunner:
    """Answers from recorded results; anything not recorded is reported missing, and counted.

    Used for support bundles (`--observed`) and as the fake runner of the tests.
    """

    def __init__(self, results: Sequence[CommandResult]) -> None:
        self._results = {r.argv: r for r in results}
        self.calls: list[tuple[str, ...]] = []

    def run(self, argv: Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> CommandResult:
        return self._answer(tuple(argv))

    def read(self, path: str) -> CommandResult:
        return self._answer((READ, path))

    def host(self) -> CommandResult:
        return self._answer((PROBE,))

    def _answer(self, argv: tuple[str, ...]) -> CommandResult:
        self.calls.append(argv)
        recorded = self._results.get(argv)
        if recorded is not None:
            return recorded
        return CommandResult(
            argv=argv, outcome=Outcome.MISSING, stderr="not recorded in the observation bundle"
        )
