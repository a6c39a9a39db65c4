"""Loading a manifest set: every file, every document, every cross-document rule, all errors at once.

A set with any error is rejected whole (DESIGN.md, invariant 4): the caller gets either a complete
`ManifestSet` or a `ManifestError` listing every problem found, never a partial set.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.inputs import MANIFEST_BYTES, MANIFEST_FILES, MANIFEST_SET_BYTES
from reconciler.manifest.application import ApplicationDocument
from reconciler.manifest.cluster import ClusterDocument
from reconciler.manifest.crosscheck import check_across, check_application, check_cluster
from reconciler.manifest.diagnostics import Diagnostic, DiagnosticSeverity, Position, render_json, render_text
from reconciler.manifest.validation import Document, validate_document
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
    files = _listed(paths)
    sources: dict[str, list[str]] = {}
    diagnostics: list[Diagnostic] = []
    clusters: list[tuple[SourceDocument, ClusterDocument]] = []
    apps: list[tuple[SourceDocument, ApplicationDocument]] = []
    budget = MANIFEST_SET_BYTES
    for path in files:
        display = str(path)
        limit = min(MANIFEST_BYTES, budget)
        read = read_file(path, display, limit=limit)
        budget -= read.size
        diagnostics.extend(_explain_limit(read.diagnostics, limit))
        sources[display] = read.lines
        for source in read.documents:
            document, problems = _validate(source)
            diagnostics.extend(problems)
            if isinstance(document, ClusterDocument):
                clusters.append((source, document))
            elif isinstance(document, ApplicationDocument):
                apps.append((source, document))
    if not diagnostics:
        diagnostics.extend(_guarded_cross_check(clusters, apps, first_file=str(files[0])))
    elif clusters or apps:
        diagnostics.extend(_guarded_cross_check(clusters, apps, files_valid=False, first_file=str(files[0])))
    if any(d.severity is DiagnosticSeverity.ERROR for d in diagnostics):
        raise ManifestError(diagnostics, sources)
    cluster_source, cluster = clusters[0]
    return ManifestSet(
        cluster=LoadedCluster(cluster_source, cluster),
        applications=tuple(LoadedApplication(s, d) for s, d in apps),
        files=tuple(str(f) for f in files),
    )


def _listed(paths: Sequence[Path]) -> list[Path]:
    """The manifest files of `paths`: at least one, at most MANIFEST_FILES (docs/limits.md)."""
    where = str(paths[0]) if paths else "."
    files: list[Path] = []
    for path in manifest_files(paths):
        files.append(path)
        if len(files) > MANIFEST_FILES:
            message = f"more than {MANIFEST_FILES} manifest files"
            raise ManifestError([_error(where, "too-large", message, hint="see docs/limits.md")], {})
    if not files:
        raise ManifestError([_error(where, "no-manifests", "no manifest files (*.yaml, *.yml) found")], {})
    return files


def _error(file: str, code: str, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(position=Position(file=file, line=1, column=1), code=code, message=message, hint=hint)


def _explain_limit(diagnostics: list[Diagnostic], limit: int) -> list[Diagnostic]:
    """A file refused because the whole set went past MANIFEST_SET_BYTES says so."""
    if limit == MANIFEST_BYTES:
        return diagnostics
    message = (
        f"the manifest set is limited to {MANIFEST_SET_BYTES} bytes in all ({MANIFEST_BYTES} per file); "
        "this file goes past it"
    )
    return [d.model_copy(update={"message": message}) if d.code == "too-large" else d for d in diagnostics]


def _validate(source: SourceDocument) -> tuple[Document | None, list[Diagnostic]]:
    """`validate_document`, with a `kind` that is not text refused first, and any failure of the
    validation itself turned into a diagnostic at the document (never a traceback)."""
    data = source.data
    if isinstance(data, dict) and "kind" in data and not isinstance(data["kind"], str):
        where = source.locate(("kind",))
        message = f"kind must be text (Cluster or Application), not {type(data['kind']).__name__}"
        problem = Diagnostic(position=where, code="wrong-type", message=message, hint="kind: Application")
        return None, [problem]
    try:
        return validate_document(source)
    except (ArithmeticError, ValueError, TypeError, KeyError, RecursionError) as err:
        return None, [_validation_failed(source.start, err)]


def _validation_failed(where: Position, err: BaseException) -> Diagnostic:
    return Diagnostic(
        position=where,
        code="invalid-value",
        message=f"this document cannot be validated: {type(err).__name__}: {err}",
        hint="a value is far outside any sensible range; if it looks fine, report this as a bug",
    )


def _guarded_cross_check(
    clusters: list[tuple[SourceDocument, ClusterDocument]],
    apps: list[tuple[SourceDocument, ApplicationDocument]],
    *,
    files_valid: bool = True,
    first_file: str,
) -> list[Diagnostic]:
    try:
        return _cross_check(clusters, apps, files_valid=files_valid, first_file=first_file)
    except (ArithmeticError, ValueError, TypeError, KeyError, RecursionError) as err:
        return [_validation_failed(Position(file=first_file, line=1, column=1), err)]


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
