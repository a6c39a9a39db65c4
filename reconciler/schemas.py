"""JSON Schemas: of the manifest documents, for editors (yaml-language-server) and manifest CI; of
the plan and drift reports (`--format json`), for the bots that read them."""

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, RootModel

from reconciler.core.plan.model import Plan
from reconciler.core.plan.report import DriftReport, PlanReport
from reconciler.manifest.application import ApplicationDocument
from reconciler.manifest.cluster import ClusterDocument

SCHEMA_BASE = "https://reconciler.invalid/schemas/"


class ManifestDocument(
    RootModel[Annotated[ClusterDocument | ApplicationDocument, Field(discriminator="kind")]]
):
    """Any manifest document; `kind` says which."""


SCHEMAS: dict[str, Any] = {
    "cluster.schema.json": ClusterDocument,
    "application.schema.json": ApplicationDocument,
    "manifest.schema.json": ManifestDocument,
    "plan.schema.json": Plan,
    "plan-report.schema.json": PlanReport,
    "drift-report.schema.json": DriftReport,
}

MANIFEST_SCHEMAS = ("cluster.schema.json", "application.schema.json", "manifest.schema.json")


def generate() -> dict[str, str]:
    """File name -> schema text; deterministic, so committed schemas can be compared in tests."""
    out = {}
    for name, model in SCHEMAS.items():
        # Manifests are input (validation mode); reports are output (what the JSON holds).
        mode = "validation" if name in MANIFEST_SCHEMAS else "serialization"
        schema = model.model_json_schema(by_alias=True, mode=mode)
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": SCHEMA_BASE + name,
            **schema,
        }
        out[name] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generate().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
