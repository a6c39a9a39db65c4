"""The operator's word on each application (`move`, `stop`, `start`, `maintenance`), kept on disk.

An override is desired state beside the manifests: the agents converge to it instead of fighting
it, and `drift` shows it as a deviation from git until it is cleared (`start` clears a stop,
`move` back to the manifest's choice is still a move: `start` clears that too). Each command
takes a serial higher than any seen, and the agents exchange their overrides in their heartbeats,
keeping the higher serial (`placement.newest`): a command given on either node reaches both,
and a node that was off learns it when it hears its peer again.
"""

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reconciler.arbiter.placement import Override, newest
from reconciler.core import refs
from reconciler.core.drift import Drift, DriftCode, Severity
from reconciler.manifest import ManifestSet
from reconciler.render.files import write_atomically

FILE = "overrides.json"
FAILED_FILE = "failed.json"


class OverrideError(Exception):
    """The overrides file cannot be read: nothing is assumed, the agent says so."""


class Overrides(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    apps: dict[str, Override] = Field(default_factory=dict)

    def of(self, app: str) -> Override:
        return self.apps.get(app, Override())

    @property
    def serial(self) -> int:
        return max((o.serial for o in self.apps.values()), default=0)

    def with_app(self, app: str, override: Override) -> "Overrides":
        return Overrides(apps={**self.apps, app: override})

    def merged(self, other: dict[str, Override]) -> "Overrides":
        """The newer of ours and the peer's, per application."""
        apps = dict(self.apps)
        for app, theirs in other.items():
            if app in apps:
                apps[app] = newest(apps[app], theirs)
            elif theirs.serial:
                apps[app] = theirs
        return Overrides(apps=apps)


def command(current: Overrides, app: str, **change: object) -> Overrides:
    """`current` with `app`'s override replaced by `change`, under a new serial."""
    fields: dict[str, object] = {"desired_node": None, "stopped": False, "maintenance": False}
    fields.update({k: v for k, v in current.of(app).model_dump().items() if k in fields})
    fields.update(change)
    return current.with_app(app, Override.model_validate({**fields, "serial": current.serial + 1}))


def describe(override: Override) -> str:
    parts = ["stopped"] if override.stopped else []
    if override.desired_node:
        parts.append(f"moved to {override.desired_node}")
    if override.maintenance:
        parts.append("in maintenance")
    return ", ".join(parts)


def override_drift(manifests: ManifestSet, overrides: Overrides) -> list[Drift]:
    """An override in force, as a deviation from git: what the operator said, until cleared."""
    out = []
    for app in manifests.applications:
        said = describe(overrides.of(app.name))
        if not said:
            continue
        where = app.source.locate(("spec", "placement"))
        out.append(
            Drift(
                code=DriftCode.OPERATOR_OVERRIDE,
                severity=Severity.WARNING,
                app=app.name,
                resource=refs.app(app.name),
                field="override",
                desired="as the manifests place it",
                observed=said,
                declared_at=f"{where.file}:{where.line}",
                detail=f"set by an operator (serial {overrides.of(app.name).serial}); "
                f"`reconciler start {app.name}` clears a stop or a move, `maintenance off` maintenance",
            )
        )
    return out


class FailedStore:
    """The applications a monitor failed over away from this node, kept until `start` clears
    them: a restarted agent must not take back what its monitor gave away."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / FAILED_FILE

    def load(self) -> set[str]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return set()
        except (OSError, ValueError) as err:
            raise OverrideError(f"{self.path}: {err}") from err
        if not isinstance(data, list) or not all(isinstance(a, str) for a in data):
            raise OverrideError(f"{self.path}: not a list of application names")
        return set(data)

    def save(self, failed: set[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, json.dumps(sorted(failed)) + "\n", mode=0o600, keep_previous=False)


class OverrideStore:
    def __init__(self, directory: Path) -> None:
        self.path = directory / FILE

    def load(self) -> Overrides:
        try:
            return Overrides.model_validate(json.loads(self.path.read_text()))
        except FileNotFoundError:
            return Overrides()
        except (OSError, ValueError, ValidationError) as err:
            raise OverrideError(f"{self.path}: {err}") from err

    def save(self, overrides: Overrides) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(
            self.path, overrides.model_dump_json(indent=2) + "\n", mode=0o600, keep_previous=False
        )
