"""docs/manifest-reference.md is generated from the models and current; its examples are valid."""

import json
import re
from pathlib import Path

from reconciler.manifest import load_manifests
from reconciler.manifest.codes import RULE_CODES
from reconciler.reference import EXAMPLES, REFERENCE, render
from reconciler.schemas import generate

SCHEMAS = ("application.schema.json", "cluster.schema.json", "manifest.schema.json")


def test_committed_reference_equals_the_generated_one() -> None:
    assert REFERENCE.read_text() == render(), "docs/manifest-reference.md is stale: run `make reference`"


def test_the_reference_examples_are_a_valid_manifest_set() -> None:
    manifests = load_manifests([EXAMPLES])
    assert [a.name for a in manifests.applications] == ["db"]


def test_every_key_of_every_model_is_in_the_reference() -> None:
    schema = json.loads(generate()["manifest.schema.json"])
    text = REFERENCE.read_text()
    for name, definition in schema["$defs"].items():
        for key in definition.get("properties", {}):
            assert f"| `{key}` |" in text, (name, key)


def test_the_reference_covers_monitors_toolstacks_and_codes() -> None:
    text = REFERENCE.read_text()
    for monitor in ("fsmon", "domain", "ping", "tcp", "process", "memory", "command"):
        assert re.search(rf"^\| `{monitor}` \|", text, re.MULTILINE), monitor
    for toolstack in ("xl", "xm", "commands"):
        assert f"| `{toolstack}`" in text, toolstack
    assert "`zero-duration`" in text and "`pv-in-two-vgs`" in text


def _defaults(node: object) -> list[tuple[dict[str, object], object]]:
    found: list[tuple[dict[str, object], object]] = []
    if isinstance(node, dict):
        if "default" in node:
            found.append((node, node["default"]))
        for value in node.values():
            found.extend(_defaults(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_defaults(value))
    return found


def test_schema_defaults_are_written_in_the_manifests_units() -> None:
    """`10s`, not `PT10S`; `10M/s`, not 10485760: a default matches its own property's pattern."""
    checked = 0
    for name in SCHEMAS:
        for prop, default in _defaults(json.loads(generate()[name])):
            pattern = prop.get("pattern")
            if isinstance(pattern, str) and default is not None:
                assert isinstance(default, str) and re.fullmatch(pattern, default), (name, prop)
                checked += 1
    assert checked >= 10
    text = generate()["application.schema.json"]
    assert '"PT' not in text and "10485760" not in text


def test_the_examples_carry_the_schema_modeline() -> None:
    for path in sorted(Path(EXAMPLES).glob("*.yaml")):
        first = path.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../../schemas/manifest.schema.json", path


def test_every_rule_code_is_listed_in_the_readme_and_exercised_by_a_bad_case() -> None:
    readme = (REFERENCE.parent.parent / "README.md").read_text()
    cases = "\n".join(p.read_text() for p in (Path(__file__).parent / "cases" / "bad").rglob("*.yaml"))
    for code in RULE_CODES:
        assert f"`{code}`" in readme, code
        assert re.search(rf"# expect: .*\b{code}\b", cases), code
