"""diff(desired, observed) -> drift: what differs, why it matters, and where it is declared.

Pure. A section that could not be observed yields one OBSERVATION_FAILED record per application
instead of guesses: a failed `lvm` is not "no volume groups".
"""

from collections.abc import Iterator

from reconciler.core import refs
from reconciler.core.desired import DesiredNode
from reconciler.core.diff_base import AppDiff, Path, Probed
from reconciler.core.diff_node import node_drift
from reconciler.core.diff_services import domain_drift, interfaces_drift, mounts_drift
from reconciler.core.diff_storage import drbd_drift, lvm_drift
from reconciler.core.drift import Drift, DriftCode, Severity
from reconciler.core.refs import ResourceRef
from reconciler.observe.state import Observed, Section
from reconciler.render.files import unified_diff

__all__ = ["Probed", "diff"]


def diff(desired: DesiredNode, observed: Observed, probed: Probed) -> list[Drift]:
    failed = {e.section: e for e in observed.errors}
    drift: list[Drift] = []
    for app in desired.apps:
        drift.extend(_app_drift(AppDiff(app, observed, probed, failed)))
    drift.extend(node_drift(desired, observed))
    for section, unknown in observed.surprises():
        drift.append(
            Drift(
                code=DriftCode.STATE_UNRECOGNISED,
                severity=Severity.WARNING,
                app="-",
                resource=refs.section(section.value),
                field=unknown.field,
                desired="a known state",
                observed=unknown.value,
                declared_at="-",
                detail=f"line {unknown.line} of the output",
            )
        )
    return drift


def _app_drift(d: AppDiff) -> Iterator[Drift]:
    for section, check in (
        (Section.LVM, lvm_drift),
        (Section.DRBD, drbd_drift),
        (Section.MOUNTS, mounts_drift),
        (Section.INTERFACES, interfaces_drift),
        (Section.DOMAINS, domain_drift),
    ):
        if section in d.failed and not (
            section is Section.DOMAINS and d.app.domain.config is None and d.app.domain.config_path is None
        ):
            yield d.record(
                DriftCode.OBSERVATION_FAILED,
                Severity.WARNING,
                refs.section(section.value),
                "observation",
                "observed",
                "failed",
                ("metadata", "name"),
                detail=d.failed[section].message,
            )
            continue
        yield from check(d)
    yield from _config_files(d)


def _config_files(d: AppDiff) -> Iterator[Drift]:
    for i, vol in enumerate(d.app.volumes):
        yield from _config_file(
            d,
            DriftCode.DRBD_CONFIG_DIFFERS,
            refs.file(vol.config_path),
            vol.config_path,
            vol.config,
            ("spec", "storage", "logicalVolumes", i, "drbd"),
        )
    dom = d.app.domain
    if dom.config is not None and dom.config_path is not None:
        yield from _config_file(
            d,
            DriftCode.DOMAIN_CONFIG_DIFFERS,
            refs.file(dom.config_path),
            dom.config_path,
            dom.config,
            ("spec", "domain", "config"),
        )


def _config_file(
    d: AppDiff, code: DriftCode, resource: ResourceRef, path: str, content: str, declared: Path
) -> Iterator[Drift]:
    current = d.probed.files.get(path)
    if current != content:
        yield d.record(
            code,
            Severity.WARNING,
            resource,
            "content",
            "generated",
            "absent" if current is None else "differs",
            declared,
            detail=unified_diff(current, content, path),
        )
