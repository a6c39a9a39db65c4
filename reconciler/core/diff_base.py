"""What every part of the diff shares: the facts probed beside the observation, and one
application's comparison with its `record` of a drift where the manifest declares it."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.core.desired import AppRole, DesiredApp
from reconciler.core.drift import Drift, DriftCode, Severity
from reconciler.core.refs import ResourceRef
from reconciler.observe.state import Observed, Section, ToolError

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Probed:
    """Facts gathered per application beside the observation: config files and status commands."""

    files: dict[str, str | None] = field(default_factory=dict)  # path -> content, None if absent
    # app -> what its status command said: True running, False not, None it could not tell
    running: dict[str, bool | None] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)  # app -> why its status is not known


class AppDiff:
    """One application's desired state beside the node's observation."""

    def __init__(
        self, app: DesiredApp, observed: Observed, probed: Probed, failed: Mapping[Section, ToolError]
    ) -> None:
        self.app, self.observed, self.probed, self.failed = app, observed, probed, failed
        self.active = app.role is AppRole.ACTIVE

    def record(
        self,
        code: DriftCode,
        severity: Severity,
        resource: ResourceRef,
        fld: str,
        desired: str,
        observed: str,
        path: Path,
        detail: str = "",
    ) -> Drift:
        where = self.app.source.source.locate(path)
        return Drift(
            code=code,
            severity=severity,
            app=self.app.name,
            resource=resource,
            field=fld,
            desired=desired,
            observed=observed,
            declared_at=f"{where.file}:{where.line}",
            detail=detail,
        )
