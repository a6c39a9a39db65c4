"""Manifests: the YAML documents that declare the cluster and its applications."""

from reconciler.manifest.application import ApplicationDocument
from reconciler.manifest.cluster import ClusterDocument
from reconciler.manifest.diagnostics import Diagnostic, Position
from reconciler.manifest.loader import (
    LoadedApplication,
    LoadedCluster,
    ManifestError,
    ManifestSet,
    load_manifests,
)

__all__ = [
    "ApplicationDocument",
    "ClusterDocument",
    "Diagnostic",
    "LoadedApplication",
    "LoadedCluster",
    "ManifestError",
    "ManifestSet",
    "Position",
    "load_manifests",
]
