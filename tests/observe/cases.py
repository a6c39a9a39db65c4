"""Fixture cases: one JSON file per captured output, holding the facts the output shows.

A case file `tests/observe/cases/<tool>/<name>.json` is
    {"kind": "<parse kind>", "fixture": "<path under tests/fixtures, or data:<path under tests/data>>",
     "expect": {...facts...}}
`expect` is matched as a subset of the parsed model's JSON dump: every key given must be equal,
lists must have the same length and match item by item, keys not given are not compared.
"""

import json
from pathlib import Path
from typing import Any

from tests.conftest import FIXTURES, REPO

CASES = Path(__file__).resolve().parent / "cases"
PROJECT_DATA = REPO / "tests" / "data"


def fixture_path(name: str) -> Path:
    """`lvm/x.json` is a capture from a public source (tests/fixtures); `data:...` is one we made."""
    if name.startswith("data:"):
        return PROJECT_DATA / name.removeprefix("data:")
    return FIXTURES / name


def load_cases(tool: str) -> list[tuple[str, dict[str, Any]]]:
    return [(p.stem, json.loads(p.read_text())) for p in sorted((CASES / tool).glob("*.json"))]


def assert_subset(expected: Any, actual: Any, path: str = "$") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{path}: missing key {key!r} (have {sorted(actual)})"
            assert_subset(value, actual[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"
        assert len(expected) == len(actual), f"{path}: expected {len(expected)} items, got {len(actual)}"
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            assert_subset(e, a, f"{path}[{i}]")
    else:
        assert expected == actual, f"{path}: expected {expected!r}, got {actual!r}"
