"""Monitor states on disk: one JSON file per application, written atomically.

The restart counts must survive an agent restart, or a crash-looping agent would reset the
restart limit at every start and restart a failing application forever. A file is replaced whole
(`write_atomically`), so a crash leaves the old state or the new one. A file that cannot be read
back is an error naming it, never an empty state: forgetting the restarts silently is exactly the
failure the file exists to prevent.
"""

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reconciler.monitor.policy import MonitorState
from reconciler.render.files import write_atomically

FORMAT_VERSION: Literal[1] = 1
_SUFFIX = ".monitors.json"


class MonitorStateError(Exception):
    """A state file exists but is not a monitor state: the path and what is wrong with it."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: not a readable monitor state: {reason}")


class AppMonitorStates(BaseModel):
    """Every monitor's state for one application, by monitor name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = FORMAT_VERSION
    app: str
    monitors: dict[str, MonitorState] = Field(default_factory=dict)

    def get(self, monitor: str) -> MonitorState:
        return self.monitors.get(monitor, MonitorState())

    def with_state(self, monitor: str, state: MonitorState) -> "AppMonitorStates":
        return self.model_copy(update={"monitors": {**self.monitors, monitor: state}})


def _check_app_name(app: str) -> str:
    # Names come from validated manifests; this guards the one thing that matters here, that a
    # name cannot point the file outside the directory.
    if not app or "/" in app or "\0" in app or app.startswith("."):
        raise ValueError(f"{app!r} cannot name a monitor state file")
    return app


class MonitorStore:
    """`<directory>/<app>.monitors.json`, private to root (mode 0600: it shows failure details)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, app: str) -> Path:
        return self.directory / f"{_check_app_name(app)}{_SUFFIX}"

    def load(self, app: str) -> AppMonitorStates:
        """The saved states, or empty ones when none were ever saved."""
        path = self.path(app)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return AppMonitorStates(app=app)
        except (OSError, UnicodeDecodeError) as err:
            raise MonitorStateError(path, f"cannot be read: {err}") from err
        try:
            states = AppMonitorStates.model_validate_json(text)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "the document"
            raise MonitorStateError(path, f"{where}: {first['msg']}") from err
        if states.app != app:
            raise MonitorStateError(path, f"holds the states of {states.app!r}, not {app!r}")
        return states

    def save(self, states: AppMonitorStates) -> bool:
        """Write the states; True if the file changed."""
        self.directory.mkdir(parents=True, exist_ok=True)
        content = json.dumps(states.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
        # No `.previous`: an older state is not a rollback target, only a stale count.
        return write_atomically(self.path(states.app), content, mode=0o600, keep_previous=False)
