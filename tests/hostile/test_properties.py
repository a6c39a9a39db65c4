"""Property-based tests: any input to the loader, the `observe --parse` parsers or the bundle
reader ends in a result or a clean error, within a time bound.

Derandomized, with a fixed budget per target (docs/limits.md says what the limits are), so that
`make test` runs the same examples every time and the whole suite stays under a minute.
"""

import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.commands.observing import parse_guarded
from reconciler.inputs import InputError
from reconciler.manifest import ManifestError, ManifestSet, load_manifests
from reconciler.observe import KINDS, ParseError
from reconciler.observe.bundle import Bundle, BundleError, read_bundle, replay
from tests.hostile.corpus import MANIFESTS, TAGS, _fixtures, good_bundle_members, tar_gz

BUDGET = settings(
    derandomize=True,
    database=None,
    max_examples=100,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
SECONDS = 10.0
FIXTURES = _fixtures()
APP = (MANIFESTS / "xapache.yaml").read_text()
CLUSTER = MANIFESTS / "cluster.yaml"


class Timer:
    def __enter__(self) -> "Timer":
        self.started = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        assert time.monotonic() - self.started < SECONDS


# ---------------------------------------------------------------- the loader

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20),
    st.sampled_from(["8G", "10m", "250ms", "centos5s1", "xm", "Application", "Cluster", "-1", "1e400"]),
)
yaml_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _load(tmp: Path, data: bytes) -> None:
    path = tmp / "app.yaml"
    path.write_bytes(data)
    with Timer():
        try:
            assert isinstance(load_manifests([CLUSTER, path]), ManifestSet)
        except ManifestError as err:
            assert err.diagnostics
            assert err.render_text() and json.loads(err.render_json())["valid"] is False


@BUDGET
@given(data=st.binary(max_size=2000))
def test_any_bytes_load_or_fail_cleanly(tmp_path: Path, data: bytes) -> None:
    _load(tmp_path, data)


@BUDGET
@given(
    line=st.integers(min_value=0, max_value=APP.count("\n")),
    insert=st.one_of(
        st.sampled_from(TAGS), st.text(max_size=30), st.sampled_from(["[", "{", "&a", "*a", "? ", "- "])
    ),
    cut=st.booleans(),
)
def test_edited_examples_load_or_fail_cleanly(tmp_path: Path, line: int, insert: str, cut: bool) -> None:
    lines = APP.splitlines()
    target = lines[line] if line < len(lines) else ""
    key, colon, _ = target.partition(":")
    lines[line:line + 1] = [f"{key}: {insert}" if colon and not cut else insert]
    _load(tmp_path, "\n".join(lines).encode("utf-8", "surrogatepass"))


@BUDGET
@given(spec=yaml_values, kind=st.sampled_from(["Application", "Cluster", "x"]))
def test_any_document_shape_validates_or_fails_cleanly(tmp_path: Path, spec: object, kind: str) -> None:
    document = {"apiVersion": "reconciler/v1", "kind": kind, "metadata": {"name": "x"}, "spec": spec}
    _load(tmp_path, json.dumps(document).encode())


# ---------------------------------------------------------------- the parsers


def _parse(kind: str, text: str) -> None:
    with Timer():
        try:
            parse_guarded(kind, text, "input")
        except (ParseError, InputError) as err:
            assert str(err)


def _mutated(draw: st.DrawFn, original: str) -> str:
    """A captured output cut, spliced or with text inserted where hypothesis chooses."""
    at = draw(st.integers(min_value=0, max_value=len(original)))
    end = draw(st.integers(min_value=at, max_value=len(original)))
    specials = ["\n", "[" * 200, "{" * 100, '"', ":", "\x00", " 99999999999999999999 ", "(" * 300]
    insert = draw(st.one_of(st.text(max_size=40), st.sampled_from(specials)))
    return original[:at] + insert + original[end:]


@st.composite
def outputs(draw: st.DrawFn, kind: str) -> str:
    original = FIXTURES[kind].decode("utf-8", "replace")
    return _mutated(draw, draw(st.one_of(st.just(original), st.text(max_size=300))))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_any_output_parses_or_fails_cleanly(kind: str) -> None:
    if kind not in FIXTURES:
        pytest.fail(f"no fixture of {kind}: every parse kind needs a captured output to mutate")

    @settings(BUDGET, max_examples=40)
    @given(text=outputs(kind))
    def check(text: str) -> None:
        _parse(kind, text)

    check()


# ---------------------------------------------------------------- the bundle reader

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
INDEX_KEYS = ["format", "node", "taken_at", "reconciler_version", "files", "results", "versions"]
ENTRY_KEYS = ["argv", "outcome", "returncode", "stdout", "stderr", "seconds"]


def _read(tmp: Path, data: bytes) -> None:
    path = tmp / "b.tar.gz"
    path.write_bytes(data)
    with Timer():
        try:
            bundle = read_bundle(path)
            assert isinstance(bundle, Bundle)
            replay(bundle)
        except BundleError as err:
            assert str(err)


@BUDGET
@given(
    key=st.sampled_from(INDEX_KEYS),
    value=json_values,
    entry_key=st.sampled_from(ENTRY_KEYS),
    entry=json_values,
)
def test_any_bundle_index_reads_or_fails_cleanly(
    tmp_path: Path, key: str, value: object, entry_key: str, entry: object
) -> None:
    index, members = good_bundle_members()
    index[key] = value
    results = index.get("results")
    if isinstance(results, list) and results and isinstance(results[0], dict):
        results[0][entry_key] = entry
    _read(tmp_path, tar_gz({"bundle.json": json.dumps(index).encode(), **members}))


@BUDGET
@given(which=st.integers(min_value=0, max_value=6), content=st.binary(max_size=500))
def test_any_bundle_output_reads_or_fails_cleanly(tmp_path: Path, which: int, content: bytes) -> None:
    index, members = good_bundle_members()
    members[f"results/{which}.out"] = content
    _read(tmp_path, tar_gz({"bundle.json": json.dumps(index).encode(), **members}))


@BUDGET
@given(data=st.binary(max_size=600), cut=st.integers(min_value=0, max_value=4000))
def test_any_bundle_bytes_read_or_fail_cleanly(tmp_path: Path, data: bytes, cut: int) -> None:
    index, members = good_bundle_members()
    good = tar_gz({"bundle.json": json.dumps(index).encode(), **members})
    _read(tmp_path, good[:cut] + data)
