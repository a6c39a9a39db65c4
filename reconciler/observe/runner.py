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
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from reconciler.observe.host import PROBE, read_host
from reconciler.observe.pipes import PipeEnding, PipeReader, decode, has_exited, read_capped

DEFAULT_TIMEOUT = 10.0
# At most this much of each stream of a command, and of a file read, is kept; beyond it the
# command is killed and the result is an error saying so (a runaway tool must not eat memory).
MAX_OUTPUT = 16 * 1024 * 1024
# After the command exits, how long its pipes may stay open (held by a process it started)
# before the result is returned without them.
DRAIN_GRACE = 0.5
# After a SIGKILL, how long to wait for the command to die; with the drain after a timeout,
# `run` returns at most DRAIN_GRACE + REAP_GRACE after its timeout.
REAP_GRACE = 0.5
KILL_GRACE = DRAIN_GRACE + REAP_GRACE
NOTE = "[reconciler]"  # starts the lines the runner adds to a result's stderr
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
    """Runs commands for real, each in its own process group so a timeout kills all of it.

    `run` returns within its timeout plus `KILL_GRACE`, whatever the command's children do with
    its pipes, and keeps at most `max_output` bytes of each stream (and of a file `read`).
    """

    def __init__(self, env: dict[str, str] | None = None, max_output: int = MAX_OUTPUT) -> None:
        self._env = {**os.environ, **OBSERVE_ENV_OVERRIDES, **(env or {})}
        self._max_output = max_output

    def run(self, argv: Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> CommandResult:
        args = tuple(argv)
        start = time.monotonic()
        try:
            process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self._env,
                start_new_session=True,
            )
        except FileNotFoundError as err:
            return CommandResult(argv=args, outcome=Outcome.MISSING, stderr=str(err))
        except OSError as err:
            return CommandResult(argv=args, outcome=Outcome.ERROR, stderr=str(err))
        assert process.stdout is not None and process.stderr is not None
        reader = PipeReader((("stdout", process.stdout), ("stderr", process.stderr)), self._max_output)
        try:
            return _Run(args, process, reader, start).finish(start + timeout)
        except BaseException:  # interrupted (KeyboardInterrupt, a bug): leave nothing running
            if process.returncode is None:  # not reaped, so the group ID is still ours
                _kill_group(process.pid)
            raise
        finally:
            reader.close()
            process.stdout.close()
            process.stderr.close()

    def read(self, path: str) -> CommandResult:
        argv = (READ, path)
        try:
            with open(path, "rb", buffering=0) as handle:
                capped = read_capped(handle, self._max_output)
        except FileNotFoundError as err:
            return CommandResult(argv=argv, outcome=Outcome.MISSING, stderr=str(err))
        except OSError as err:
            return CommandResult(argv=argv, outcome=Outcome.ERROR, stderr=str(err))
        if capped.cut:
            note = f"{NOTE} {path} holds more than {self._max_output} bytes; read cut there\n"
            return CommandResult(argv=argv, outcome=Outcome.ERROR, stdout=decode(capped.data), stderr=note)
        return CommandResult(argv=argv, outcome=Outcome.OK, stdout=decode(capped.data))

    def host(self) -> CommandResult:
        return CommandResult(argv=(PROBE,), outcome=Outcome.OK, stdout=read_host().model_dump_json())


class _Run:
    """One started command: read its pipes to an ending, then turn that ending into a result."""

    def __init__(
        self, argv: tuple[str, ...], process: "subprocess.Popen[bytes]", reader: PipeReader, start: float
    ) -> None:
        self.argv = argv
        self.process = process
        self.reader = reader
        self.start = start

    def finish(self, deadline: float) -> CommandResult:
        ending = self.reader.read_until(deadline, self._exited, DRAIN_GRACE)
        match ending:
            case PipeEnding.EOF:
                return self._wait(deadline)
            case PipeEnding.EXITED:
                # The command is done; a process it started still holds its stdout or stderr.
                # That process is left alone: an action may have started a daemon on purpose.
                note = f"{NOTE} the command exited, but a process it started kept its output open; "
                return self._exited_result(note + "output may be incomplete\n")
            case PipeEnding.DEADLINE:
                return self._timed_out()
            case PipeEnding.OVERFLOW:
                return self._cut()

    def _exited(self) -> bool:
        return has_exited(self.process.pid)

    def _wait(self, deadline: float) -> CommandResult:
        """Every pipe is closed; the command may still run (it closed them itself)."""
        try:
            self.process.wait(timeout=max(deadline - time.monotonic(), 0.0))
        except subprocess.TimeoutExpired:
            return self._timed_out()
        return self._exited_result("")

    def _exited_result(self, note: str) -> CommandResult:
        code = self.process.wait()  # it has exited (`has_exited` or end of file and wait): no block
        outcome = Outcome.OK if code == 0 else Outcome.FAILED
        # The note goes first, so that describe() still quotes the tool's own last line.
        return self._result(outcome, code, note)

    def _timed_out(self) -> CommandResult:
        self._kill()
        # What the killed group had written is still in the pipes; a process that left the
        # group (setsid) may hold them open, so this drain has its own short deadline.
        self.reader.read_until(time.monotonic() + DRAIN_GRACE, lambda: False, 0.0)
        return self._result(Outcome.TIMEOUT, None, "", self._reap())

    def _cut(self) -> CommandResult:
        self._kill()
        cut = f"{NOTE} {self.reader.overflowed} passed {self.reader.cap} bytes: output cut, command killed\n"
        return self._result(Outcome.ERROR, None, "", cut + self._reap())

    def _kill(self) -> None:
        # The leader is not reaped before this (`has_exited` does not reap), so its PID, the
        # group's ID, cannot have been reused.
        _kill_group(self.process.pid)

    def _reap(self) -> str:
        """Reap the killed leader; a note if it does not die (stuck in the kernel, state D)."""
        try:
            self.process.wait(timeout=REAP_GRACE)
        except subprocess.TimeoutExpired:
            # Popen reaps it later, when this object is collected and another command starts.
            return f"{NOTE} pid {self.process.pid} still running {REAP_GRACE}s after SIGKILL\n"
        return ""

    def _result(self, outcome: Outcome, code: int | None, before: str, after: str = "") -> CommandResult:
        stderr = self.reader.text("stderr")
        if after and stderr and not stderr.endswith("\n"):
            stderr += "\n"
        return CommandResult(
            argv=self.argv,
            outcome=outcome,
            returncode=code,
            stdout=self.reader.text("stdout"),
            stderr=before + stderr + after,
            seconds=time.monotonic() - self.start,
        )


def _kill_group(pgid: int) -> None:
    # The group is ours alone (start_new_session), so this ends the tool and anything it forked
    # that stayed in it (a process that called setsid has left, and is out of reach).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


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
