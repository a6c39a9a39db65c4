"""Monitors and application specs as a manifest would give them (camelCase, validated)."""

from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from reconciler.manifest import load_manifests
from reconciler.manifest.application import ApplicationSpec
from reconciler.manifest.monitor import Monitor
from tests.conftest import REPO

_MONITOR: TypeAdapter[Monitor] = TypeAdapter(Monitor)
XAPACHE = REPO / "manifests"


def monitor(**fields: Any) -> Monitor:
    """`monitor(type="tcp", address="127.0.0.1", port=80, restartLimit=2)`; name defaults to "m"."""
    return _MONITOR.validate_python({"name": "m", **fields})


def xapache_spec() -> ApplicationSpec:
    """The seed's xapache: /virt on lv01, domain `apache` under xm."""
    return load_manifests([XAPACHE]).application("xapache").document.spec


def spec_with(**changes: Any) -> ApplicationSpec:
    """xapache with top-level spec keys replaced (camelCase), validated again."""
    data = xapache_spec().model_dump(by_alias=True)
    data.update(changes)
    return ApplicationSpec.model_validate(data)


def spec_mounted_at(point: Path) -> ApplicationSpec:
    data = xapache_spec().model_dump(by_alias=True)
    data["storage"]["logicalVolumes"][0]["filesystem"]["mountPoint"] = str(point)
    return ApplicationSpec.model_validate(data)
