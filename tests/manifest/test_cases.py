"""Bad manifests are rejected at exactly the marked lines; good ones are accepted.

A case is a YAML file in cases/bad/ (loaded with cases/_base/cluster.yaml) or a directory there
(loaded as it is). Each line that must be reported carries a marker comment:
    # expect: CODE[, CODE...] [~ text the hint must contain]
The test requires the reported (file, line, code) set to equal the marked one: a case fails both
when an expected error is missing and when anything else is reported.
"""

import re
from collections import Counter
from pathlib import Path

import pytest

from reconciler.manifest import ManifestError, load_manifests

CASES = Path(__file__).parent / "cases"
BASE_CLUSTER = CASES / "_base" / "cluster.yaml"
MARKER = re.compile(r"#\s*expect:\s*(?P<codes>[a-z0-9, -]+?)\s*(?:~\s*(?P<hint>.*))?$")


def _case_paths(case: Path) -> list[Path]:
    return [case] if case.is_dir() else [BASE_CLUSTER, case]


def _expected(paths: list[Path]) -> tuple[Counter[tuple[str, int, str]], dict[tuple[str, int], str]]:
    codes: Counter[tuple[str, int, str]] = Counter()
    hints: dict[tuple[str, int], str] = {}
    files = [p for path in paths for p in (sorted(path.rglob("*.yaml")) if path.is_dir() else [path])]
    for file in files:
        for number, line in enumerate(file.read_text().splitlines(), start=1):
            match = MARKER.search(line)
            if match:
                for code in match["codes"].split(","):
                    codes[(str(file), number, code.strip())] += 1
                if match["hint"]:
                    hints[(str(file), number)] = match["hint"].strip()
    return codes, hints


BAD = sorted(p for p in (CASES / "bad").iterdir() if p.suffix == ".yaml" or p.is_dir())
# Cases whose rule is not built yet: expected to fail until it is; strict, so the day it passes the
# entry must go.
PENDING: dict[str, str] = {}


def _bad_param(case: Path) -> object:
    reason = PENDING.get(case.stem)
    return pytest.param(
        case, id=case.stem, marks=[pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    )


def test_there_are_enough_distinct_mistakes() -> None:
    assert len(BAD) >= 25
    codes = {code for case in BAD for (_, _, code) in _expected(_case_paths(case))[0]}
    assert len(codes) >= 20, sorted(codes)


@pytest.mark.parametrize("case", [_bad_param(case) for case in BAD])
def test_bad_manifest_is_rejected_at_the_marked_lines(case: Path) -> None:
    paths = _case_paths(case)
    expected, hints = _expected(paths)
    assert expected, f"{case} has no '# expect:' marker"
    with pytest.raises(ManifestError) as caught:
        load_manifests(paths)
    reported = Counter((d.position.file, d.position.line, d.code) for d in caught.value.diagnostics)
    assert reported == expected, caught.value.render_text()
    for (file, line), hint in hints.items():
        found = [d for d in caught.value.diagnostics if (d.position.file, d.position.line) == (file, line)]
        assert any(hint in (d.hint or "") or hint in d.message for d in found), (hint, found)


GOOD = sorted((CASES / "good").glob("*.yaml"))


@pytest.mark.parametrize("case", GOOD, ids=lambda p: p.stem)
def test_good_manifest_is_accepted(case: Path) -> None:
    manifests = load_manifests([BASE_CLUSTER, case])
    assert len(manifests.applications) == 1


def test_all_good_cases_together_are_a_valid_set() -> None:
    manifests = load_manifests([BASE_CLUSTER, *GOOD])
    assert sorted(a.name for a in manifests.applications) == ["db", "web"]


def test_every_error_of_every_file_is_reported_at_once() -> None:
    """Not just the first: errors in several files and documents come back together."""
    files = [
        CASES / "bad" / name
        for name in ("size-bad-unit.yaml", "port-out-of-range.yaml", "kind-misspelt.yaml")
    ]
    with pytest.raises(ManifestError) as caught:
        load_manifests([BASE_CLUSTER, *files])
    assert {Path(d.position.file).name for d in caught.value.diagnostics} == {f.name for f in files}


def test_a_tab_after_a_colon_is_accepted() -> None:
    manifests = load_manifests([BASE_CLUSTER, CASES / "tabs" / "tab-after-colon.yaml"])
    app = manifests.application("tabbed")
    assert app.document.spec.storage.logical_volumes[0].size == 2**30
