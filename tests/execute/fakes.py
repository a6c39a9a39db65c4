"""A scripted host with a virtual clock, and builders for small plans."""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from reconciler.core.plan.model import Action, ActionKind, FileWrite, Plan, Probe, Revision
from reconciler.execute.report import ExecutionSettings
from reconciler.observe.runner import READ, CommandResult, Outcome

Answer = Callable[[tuple[str, ...]], CommandResult]
Script = dict[tuple[str, ...], Sequence[CommandResult] | Answer]
# No delays: backoff of 0 s. Polls and grace keep their defaults, on the virtual clock.
FAST = ExecutionSettings(backoff_initial=0, backoff_max=0)


def ok(stdout: str = "", seconds: float = 0.0) -> CommandResult:
    return CommandResult(argv=(), outcome=Outcome.OK, returncode=0, stdout=stdout, seconds=seconds)


def fail(code: int = 1, stdout: str = "", stderr: str = "", seconds: float = 0.0) -> CommandResult:
    return CommandResult(
        argv=(), outcome=Outcome.FAILED, returncode=code, stdout=stdout, stderr=stderr, seconds=seconds
    )


def timeout() -> CommandResult:
    return CommandResult(argv=(), outcome=Outcome.TIMEOUT)


def missing() -> CommandResult:
    return CommandResult(argv=(), outcome=Outcome.MISSING, stderr="No such file or directory")


class ScriptedHost:
    """Answers each argv from a script: a list of results given in turn (the last one repeats),
    or a function of the argv. An unscripted command fails the test. Every call is recorded;
    commands and sleeps advance a virtual clock (a timed-out command by its timeout)."""

    def __init__(
        self,
        script: Script | None = None,
        files: dict[str, str] | None = None,
        listening: set[tuple[str, int]] | None = None,
    ) -> None:
        self.script: dict[tuple[str, ...], list[CommandResult] | Answer] = {
            argv: answer if callable(answer) else list(answer) for argv, answer in (script or {}).items()
        }
        self.files = dict(files or {})
        self.listening = set(listening or ())
        self.clock = 1000.0
        self.calls: list[tuple[object, ...]] = []
        self.runs: list[tuple[str, ...]] = []
        self.sleeps: list[float] = []
        self.write_error: OSError | None = None

    def run(self, argv: Sequence[str], timeout: float) -> CommandResult:
        args = tuple(argv)
        self.calls.append(("run", args, timeout))
        self.runs.append(args)
        if args not in self.script:
            raise AssertionError(f"unexpected command {args}")
        result = self._answer(args)
        seconds = timeout if result.outcome is Outcome.TIMEOUT else result.seconds
        self.clock += seconds
        return result.model_copy(update={"argv": args, "seconds": seconds})

    def _answer(self, args: tuple[str, ...]) -> CommandResult:
        answer = self.script[args]
        if callable(answer):
            return answer(args)
        return answer.pop(0) if len(answer) > 1 else answer[0]

    def read(self, path: str) -> CommandResult:
        self.calls.append(("read", path))
        if path not in self.files:
            return CommandResult(argv=(READ, path), outcome=Outcome.MISSING)
        return CommandResult(argv=(READ, path), outcome=Outcome.OK, stdout=self.files[path])

    def write_file(self, write: FileWrite) -> bool:
        self.calls.append(("write", write.path))
        if self.write_error is not None:
            raise self.write_error
        changed = self.files.get(write.path) != write.content
        self.files[write.path] = write.content
        return changed

    def tcp_connect(self, address: str, port: int, timeout: float) -> bool:
        self.calls.append(("tcp", address, port))
        return (address, port) in self.listening

    def monotonic(self) -> float:
        return self.clock

    def sleep(self, seconds: float) -> None:
        self.calls.append(("sleep", seconds))
        self.sleeps.append(seconds)
        self.clock += seconds

    def ran(self, *argv: str) -> int:
        """How many times argv was run."""
        return self.runs.count(argv)


def probe(*argv: str, **fields: object) -> Probe:
    return Probe.model_validate({"argv": argv, **fields})


def action(name: str, *depends: str, **fields: object) -> Action:
    """An action `name` with do ("do", name); pass check=..., verify=... as needed."""
    values: dict[str, object] = {
        "id": name,
        "app": "web",
        "target": f"app:{name}",
        "kind": ActionKind.CREATE_LV,
        "do": ("do", name),
        "timeout": 30.0,
        "depends_on": depends,
    }
    return Action.model_validate({**values, **fields})


def plan(*actions: Action, **fields: object) -> Plan:
    values: dict[str, object] = {
        "node": "alpha",
        "created_at": datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
        "revision": Revision(commit="abc123", content_hash="c0ffee"),
        "observation_digest": "d1gest",
        "actions": actions,
    }
    return Plan.model_validate({**values, **fields})
