"""A plan is data: ordered, idempotent actions with their checks, printable and comparable.

Only this module's types cross from the planner (pure) to the executor (the edge that acts). The
executor never reads `reason` or `drift`: they explain, they do not decide (as Terraform's
ActionReason).
"""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from reconciler.core.refs import Ref


class PlanData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ActionKind(StrEnum):
    NOOP = "noop"
    CREATE_VG = "create-vg"
    CREATE_LV = "create-lv"
    WRITE_FILE = "write-file"
    CREATE_MD = "create-md"
    DRBD_UP = "drbd-up"
    WAIT_SYNC = "wait-sync"
    INITIAL_SYNC = "initial-sync"
    PROMOTE = "promote"
    DEMOTE = "demote"
    CONNECT = "connect"
    DISCARD_SPLIT_BRAIN = "discard-split-brain"
    MKDIR = "mkdir"
    MKFS = "mkfs"
    FSCK = "fsck"
    MOUNT = "mount"
    UNMOUNT = "unmount"
    ADD_ADDRESS = "add-address"
    REMOVE_ADDRESS = "remove-address"
    START_DOMAIN = "start-domain"
    STOP_DOMAIN = "stop-domain"
    DESTROY_DOMAIN = "destroy-domain"
    READINESS = "readiness"


class Expect(StrEnum):
    """The short form of a probe's exit statuses, used when `Probe.holds` is empty."""

    ZERO = "zero"  # holds on 0, does not hold on any other status
    NONZERO = "nonzero"  # holds on any status but 0, does not hold on 0
    NOT_CODE = "not-code"  # holds on any status but `Probe.code`, does not hold on `Probe.code`


class StdoutTest(StrEnum):
    ANY = "any"
    EMPTY = "empty"
    NONEMPTY = "nonempty"
    MATCHES = "matches"  # the stripped stdout matches the regular expression `Probe.text` whole


class StderrTest(PlanData):
    """An exit status the tool also uses for other failures: it answers only when stderr says so.

    `pattern` is searched in the stripped stderr; `\\A\\Z` asks for no stderr at all.
    """

    code: int
    pattern: str


class Probe(PlanData):
    """A read-only command whose answer says whether a state holds.

    Its exit status is one of three answers:
    - in `holds`: the state holds, if stdout also passes the `stdout` test (else it does not);
    - in `fails`: the state does not hold;
    - anything else (another status, a missing program, a timeout, a status whose `stderr` test
      fails): the probe could not answer. A check that cannot answer fails its action with the
      tool's own message, never reads as "already done".
    With `holds` empty, `expect` (and `code`) give both sets in short form. A probe never changes
    anything, so the executor may run it as often as it likes.
    """

    argv: tuple[str, ...]
    expect: Expect = Expect.ZERO
    code: int = 0
    holds: tuple[int, ...] = Field(default=(), description="Exit statuses meaning the state holds.")
    fails: tuple[int, ...] = Field(default=(), description="Exit statuses meaning it does not hold.")
    stderr: tuple[StderrTest, ...] = ()
    stdout: StdoutTest = StdoutTest.ANY
    text: str = ""


class TcpProbe(PlanData):
    """Holds when a TCP connection to address:port succeeds (readiness checks)."""

    address: str
    port: int


class FileWrite(PlanData):
    """Write `content` to `path` atomically (temporary file, fsync, rename; previous kept)."""

    path: str
    content: str
    mode: int = 0o644


class Action(PlanData):
    """One idempotent step: skip if `check` holds, else do, then `verify` must hold.

    `do` is an argv, or `write` for a configuration file. A `wait` action has no `do`: its
    `verify` is polled until it holds or `timeout` runs out (a resync, a readiness check).
    """

    id: str
    app: str
    target: Ref
    kind: ActionKind
    do: tuple[str, ...] | None = None
    write: FileWrite | None = None
    check: Probe | TcpProbe | None = None
    verify: Probe | TcpProbe | None = None
    wait: bool = False
    timeout: float
    ok_exit: tuple[int, ...] = (0,)
    estimate: float | None = Field(
        default=None, description="Seconds a wait should take (a resync at the declared rate), for progress."
    )
    on_timeout: tuple[str, ...] | None = Field(
        default=None, description="Run when `do` times out (destroy a domain that did not shut down)."
    )
    depends_on: tuple[str, ...] = ()
    inverse: tuple[str, ...] | None = None
    destructive: bool = False
    retryable: bool = True
    reason: str = Field(default="", description="Why the action exists; explanation only.")
    drift: tuple[str, ...] = Field(default=(), description="Codes of the drift records that caused it.")


class Revision(PlanData):
    """Which manifests a plan was made from: a git commit (and dirty flag), or a content hash."""

    commit: str | None = None
    dirty: bool = False
    content_hash: str

    def describe(self) -> str:
        """`git abc123def456 with uncommitted changes`, or `content 0123456789ab` outside git."""
        if self.commit is None:
            return f"content {self.content_hash[:12]}"
        dirty = " with uncommitted changes" if self.dirty else ""
        return f"git {self.commit[:12]}{dirty}"


class Plan(PlanData):
    node: str
    created_at: datetime
    revision: Revision
    observation_digest: str
    actions: tuple[Action, ...] = ()
    applyable: bool = True
    errors: tuple[str, ...] = ()
    allow_destructive: bool = False

    def pending(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.kind is not ActionKind.NOOP)
