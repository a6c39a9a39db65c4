"""The agent's decisions, one JSON line each: what it decided, why, and what caused it.

A decision is logged when it changes (a new verdict or reason for an application, an action
started or ended, a monitor result that asks for something), not at every pass: the arbiter
decides several times a second and the log must stay readable. Lines go to a stream (stdout,
which journald keeps under systemd) and to `<state dir>/decisions.jsonl`; the last few per
application stay in memory for `reconciler explain`.
"""

import re
import threading
from collections import defaultdict, deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel, ConfigDict, Field

KEEP = 30  # per application, for `explain`
CLUSTER = "-"  # the key of decisions about no single application (peer, links, manifests)
_NUMBER = re.compile(r"\d+(\.\d+)?")


class DecisionRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    node: str
    app: str | None = None
    what: str
    why: str
    cause: dict[str, Any] = Field(default_factory=dict)


class DecisionLog:
    def __init__(self, path: Path | None, stream: TextIO | None) -> None:
        self._path = path
        self._stream = stream
        self._recent: dict[str, deque[DecisionRecord]] = defaultdict(lambda: deque(maxlen=KEEP))
        self._last: dict[tuple[str, str], tuple[str, str]] = {}
        self._lock = threading.Lock()

    def record(self, decision: DecisionRecord) -> None:
        line = decision.model_dump_json() + "\n"
        with self._lock:
            self._recent[decision.app or CLUSTER].append(decision)
            if self._stream is not None:
                self._stream.write(line)
                self._stream.flush()
            if self._path is not None:
                with self._path.open("a") as handle:
                    handle.write(line)

    def changed(self, decision: DecisionRecord, topic: str = "verdict") -> bool:
        """Record `decision` if it differs from the last one on `topic` for its application;
        whether it did."""
        key = (decision.app or CLUSTER, topic)
        # Numbers in a reason (seconds of silence, ages) change at every tick: not a new decision.
        gist = (decision.what, _NUMBER.sub("#", decision.why))
        with self._lock:
            if self._last.get(key) == gist:
                return False
            self._last[key] = gist
        self.record(decision)
        return True

    def recent(self, app: str | None) -> list[DecisionRecord]:
        with self._lock:
            return list(self._recent.get(app or CLUSTER, ()))
