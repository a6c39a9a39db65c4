"""JSON Schemas: of the manifest documents, for editors (yaml-language-server) and manifest CI; of
the plan and drift reports (`--format json`), for the bots that read them."""

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, RootModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import PydanticSerializationError, SchemaError, SchemaSerializer, core_schema

from reconciler.core.plan.model import Plan
from reconciler.core.plan.report import DriftReport, PlanReport
from reconciler.manifest.application import ApplicationDocument
from reconciler.manifest.cluster import ClusterDocument

SCHEMA_BASE = "https://reconciler.invalid/schemas/"


class ManifestDocument(
    RootModel[Annotated[ClusterDocument | ApplicationDocument, Field(discriminator="kind")]]
):
    """Any manifest document; `kind` says which."""


class ManifestJsonSchema(GenerateJsonSchema):
    """Defaults written as the manifest writes them (`10s`, `10M/s`), not as Python holds them
    (`PT10S`, 10485760): a default is what an operator could have written in its place. Defaults
    made by a factory (a section left out, `actions`) are shown too."""

    def get_default_value(self, schema: core_schema.WithDefaultSchema) -> Any:
        factory = schema.get("default_factory")
        if factory is None or schema.get("default_factory_takes_data"):
            return super().get_default_value(schema)
        return factory()  # type: ignore[call-arg]

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        json_schema = super().default_schema(schema)
        if "default" not in json_schema or self.mode != "validation":
            return json_schema
        try:
            serializer = SchemaSerializer(schema["schema"])
            json_schema["default"] = serializer.to_python(
                self.get_default_value(schema), mode="json", by_alias=True
            )
        except (SchemaError, PydanticSerializationError, TypeError, ValueError):
            pass  # a schema referring to other definitions: its default is plain data already
        return json_schema


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
        schema = model.model_json_schema(by_alias=True, mode=mode, schema_generator=ManifestJsonSchema)
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
