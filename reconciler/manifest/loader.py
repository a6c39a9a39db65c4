"""Loading a manifest set: every file, every document, every cross-document rule, all errors at once.

A set with any error is rejected whole (DESIGN.md, invariant 4): the caller gets either a complete
`ManifestSet` or a `ManifestError` listing every problem found, never a partial set.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.manifest.application import ApplicationDocument
from reconciler.manifest.cluster import ClusterDocument
from reconciler.manifest.crosscheck import check_across, check_application, check_cluster
from reconciler.manifest.diagnostics import Diagnostic, Position, Severity, render_json, render_text
from reconciler.manifest.validation import validate_document
from reconciler.manifest.yamlsource import SourceDocument, manifest_files, read_file


@dataclass(frozen=True)
class LoadedCluster:
    source: SourceDocument
    document: ClusterDocument


@dataclass(frozen=True)
class LoadedApplication:
    source: SourceDocument
    document: ApplicationDocument

    @property
    def name(self) -> str:
        return self.document.metadata.name


@dataclass(frozen=True)
class ManifestSet:
    """A valid set of manifests: one cluster and its applications, each with its source positions."""

    cluster: LoadedCluster
    applications: tuple[LoadedApplication, ...]
    files: tuple[str, ...]

    def application(self, name: str) -> LoadedApplication:
        for app in self.applications:
            if app.name == name:
                return app
        raise KeyError(name)


class ManifestError(Exception):
    """The manifest set is invalid; `diagnostics` holds every problem, `sources` the files' lines."""

    def __init__(self, diagnostics: Sequence[Diagnostic], sources: dict[str, list[str]]) -> None:
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        self.sources = sources
        super().__init__(f"{len(self.diagnostics)} error(s) in the manifests")

    def render_text(self) -> str:
        return render_text(self.diagnostics, self.sources)

    def render_json(self) -> str:
        return render_json(self.diagnostics)


def load_manifests(paths: Sequence[Path]) -> ManifestSet:
    files = list(manifest_files(paths))
    sources: dict[str, list[str]] = {}
    diagnostics: list[Diagnostic] = []
    clusters: list[tuple[SourceDocument, ClusterDocument]] = []
    apps: list[tuple[SourceDocument, ApplicationDocument]] = []
    if not files:
        where = str(paths[0]) if paths else "."
        raise ManifestError(
            [
                Diagnostic(
                    position=Position(file=where, line=1, column=1),
                    code="no-manifests",
                    message="no manifest files (*.yaml, *.yml) found",
                )
            ],
            sources,
        )
    for path in files:
        display = str(path)
        read = read_file(path, display)
        diagnostics.extend(read.diagnostics)
        if path.is_file():
            sources[display] = path.read_text(encoding="utf-8", errors="replace").splitlines()
        for source in read.documents:
            document, problems = validate_document(source)
            diagnostics.extend(problems)
            if isinstance(document, ClusterDocument):
                clusters.append((source, document))
            elif isinstance(document, ApplicationDocument):
                apps.append((source, document))
    diagnostics.extend(_cross_check(clusters, apps, files_valid=not diagnostics, first_file=str(files[0])))
    if any(d.severity is Severity.ERROR for d in diagnostics):
        raise ManifestError(diagnostics, sources)
    cluster_source, cluster = clusters[0]
    return ManifestSet(
        cluster=LoadedCluster(cluster_source, cluster),
        applications=tuple(LoadedApplication(s, d) for s, d in apps),
        files=tuple(str(f) for f in files),
    )


def _cross_check(
    clusters: list[tuple[SourceDocument, ClusterDocument]],
    apps: list[tuple[SourceDocument, ApplicationDocument]],
    *,
    files_valid: bool,
    first_file: str,
) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for source, _ in clusters[1:]:
        out.append(
            Diagnostic(
                position=source.start,
                code="duplicate-cluster",
                message="a manifest set holds exactly one Cluster document",
                hint=f"the first is at {clusters[0][0].start}",
            )
        )
    if not clusters and files_valid:
        # Only when everything else parsed: an invalid Cluster document is already reported.
        out.append(
            Diagnostic(
                position=Position(file=first_file, line=1, column=1),
                code="no-cluster",
                message="the manifests declare no Cluster document (nodes and networks)",
            )
        )
    cluster = clusters[0] if clusters else None
    if cluster is not None:
        out.extend(check_cluster(*cluster))
    for source, app in apps:
        out.extend(check_application(source, app, cluster[1] if cluster else None))
    out.extend(check_across(apps, cluster))
    return out
