"""docs/manifest-reference.md, generated from the models: every key, its type, unit, default and an
example, what the monitors' exit codes mean, what `domain.name` names under each toolstack, and the
error codes. `python -m reconciler.reference [--out FILE]`; a test keeps the committed file current.

The types and defaults come from the manifest JSON Schema (defaults in the manifest's own units);
the examples from the example documents in docs/examples/, which are valid manifests (a test loads
them), so no example in the reference can be one the validator refuses.
"""

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from reconciler.manifest.codes import RULE_CODES
from reconciler.manifest.monitor import ACTION_PATTERN
from reconciler.manifest.units import DURATION_PATTERN, RATE_PATTERN, SIZE_PATTERN
from reconciler.reference_text import CODES, DOMAIN_NAMES, MONITOR_CODES, PREAMBLE, UNITS
from reconciler.schemas import generate

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "docs" / "examples"
REFERENCE = REPO / "docs" / "manifest-reference.md"
KINDS = (
    ("Cluster", "ClusterDocument", "cluster.yaml"),
    ("Application", "ApplicationDocument", "application.yaml"),
)
_PATTERNS = {
    DURATION_PATTERN: "duration",
    SIZE_PATTERN: "size",
    RATE_PATTERN: "rate",
    ACTION_PATTERN: "action",
}
_UNITS = {
    "duration": "ms, s, m, h, d",
    "size": "bytes: B, K, M, G, T, P (binary); KB, MB, GB (decimal)",
    "rate": "bytes per second: size/s",
    "action": "PAUSE takes a duration (a bare number is seconds)",
}


def _ref(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _link(name: str) -> str:
    return f"[{name}](#{name.lower()})"


def type_of(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    """A property's type as a reader says it: `duration`, `list of [Node](#node)`, `integer 1-65535`."""
    ref = _ref(schema)
    if ref is not None:
        return _link(ref) if "properties" in defs[ref] else type_of(defs[ref], defs)
    if "oneOf" in schema:
        return "one of " + " | ".join(type_of(s, defs) for s in schema["oneOf"])
    if "anyOf" in schema:
        kinds = [type_of(s, defs) for s in schema["anyOf"] if s.get("type") != "null"]
        return " or ".join(kinds)
    if "const" in schema:
        return f"`{schema['const']}`"
    if "enum" in schema:
        return "one of " + ", ".join(f"`{v}`" for v in schema["enum"])
    return _plain_type(schema, defs)


_SCALARS = {"number": "number", "boolean": "boolean"}
_FORMATS = {"ipvanyaddress": "IP address", "ipvanynetwork": "IP network (CIDR)"}


def _plain_type(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    kind = schema.get("type")
    if kind == "string":
        return _PATTERNS.get(schema.get("pattern", ""), _FORMATS.get(schema.get("format", ""), "string"))
    if kind == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        return f"integer {low}-{high}" if low is not None and high is not None else "integer"
    if kind == "array":
        items = schema.get("prefixItems")
        if items:
            return f"list of exactly {len(items)} {type_of(items[0], defs)}"
        return f"list of {type_of(schema.get('items', {}), defs)}"
    if kind == "object":
        values = schema.get("additionalProperties")
        return f"mapping of keys to {type_of(values, defs)}" if isinstance(values, dict) else "mapping"
    return _SCALARS.get(str(kind), "any")


def _flow(value: Any) -> str:
    """A value as YAML flow text: `10s`, `[a, b]`, `{0: NOP}`."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if value is None:
        return "(none)"
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


class Reference:
    def __init__(self, schema: dict[str, Any], examples: dict[str, Any]) -> None:
        self.defs: dict[str, Any] = schema["$defs"]
        self.examples = examples  # section name -> an example mapping of it
        self.order: list[str] = []

    def visit(self, name: str, example: Any) -> None:
        """Sections in the order a document reaches them; examples picked up on the way."""
        if isinstance(example, dict) and name not in self.examples:
            self.examples[name] = example
        if name in self.order:
            return
        self.order.append(name)
        for key, prop in self.defs[name].get("properties", {}).items():
            sub = example.get(key) if isinstance(example, dict) else None
            for target, value in self._targets(prop, sub):
                self.visit(target, value)

    def _targets(self, prop: dict[str, Any], value: Any) -> Iterator[tuple[str, Any]]:
        ref = _ref(prop)
        if ref is not None:
            if "properties" in self.defs[ref]:
                yield ref, value
            return
        for alternative in prop.get("oneOf", []) + prop.get("anyOf", []):
            for target, _ in self._targets(alternative, value):
                tag = self._tag(target)
                if tag is None or (isinstance(value, dict) and value.get("type") == tag):
                    yield target, value
                else:
                    yield target, None
        if prop.get("type") == "array":
            items = prop.get("items") or (prop.get("prefixItems") or [{}])[0]
            for item in value if isinstance(value, list) else [None]:
                yield from self._targets(items, item)
        if isinstance(prop.get("additionalProperties"), dict):
            values = list(value.values()) if isinstance(value, dict) else [None]
            yield from self._targets(prop["additionalProperties"], values[0] if values else None)

    def _tag(self, name: str) -> str | None:
        tag = self.defs[name].get("properties", {}).get("type", {})
        return tag.get("const") if isinstance(tag, dict) else None

    def section(self, name: str) -> list[str]:
        schema = self.defs[name]
        required = set(schema.get("required", ()))
        example = self.examples.get(name, {})
        lines = [f"### {name}", ""]
        if schema.get("description"):
            lines += [" ".join(schema["description"].split()), ""]
        lines += ["| key | type | default | description | example |", "|---|---|---|---|---|"]
        for key, prop in schema.get("properties", {}).items():
            default = "**required**" if key in required else f"`{_flow(prop.get('default'))}`"
            kind = type_of(prop, self.defs)
            unit = _UNITS.get(kind)
            described = " ".join(prop.get("description", "").split())
            if unit:
                described = f"{described} Unit: {unit}.".strip()
            shown = self._example(key, prop, example)
            lines.append(f"| `{key}` | {_cell(kind)} | {default} | {_cell(described)} | {shown} |")
        return [*lines, ""]

    def _example(self, key: str, prop: dict[str, Any], example: Any) -> str:
        """The key as the example document writes it; else its default or the type's example. A
        section (another table) is not repeated here."""
        if "[" in type_of(prop, self.defs):
            return "(its own table)"
        sample = example.get(key) if isinstance(example, dict) else None
        for fallback in (prop.get("default"), *prop.get("examples", ())):
            if sample is None:
                sample = fallback
        return _cell(f"`{key}: {_flow(sample)}`") if sample is not None else ""


def _load_examples() -> dict[str, Any]:
    yaml = YAML(typ="safe")
    return {document: yaml.load((EXAMPLES / file).read_text()) for _, document, file in KINDS}


def render() -> str:
    schema = json.loads(generate()["manifest.schema.json"])
    documents = _load_examples()
    out = [PREAMBLE, UNITS]
    shown: set[str] = set()  # a section shared by both kinds (Metadata) is shown once
    for kind, document, file in KINDS:
        reference = Reference(schema, {})
        reference.visit(document, documents[document])
        out += [f"## {kind}", "", f"A complete example: `docs/examples/{file}`.", ""]
        for name in reference.order:
            if name not in shown:
                out += reference.section(name)
            shown.add(name)
    out += [DOMAIN_NAMES, MONITOR_CODES, CODES, _rule_codes()]
    return "\n".join(out).rstrip() + "\n"


def _rule_codes() -> str:
    rows = "\n".join(f"| `{code}` | {meaning} |" for code, meaning in RULE_CODES.items())
    return f"Rules with a code of their own:\n\n| code | meaning |\n|---|---|\n{rows}\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the manifest reference.")
    parser.add_argument("--out", type=Path, default=REFERENCE)
    args = parser.parse_args(argv)
    args.out.write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    main()
