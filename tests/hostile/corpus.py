"""The hostile-input corpus: cases generated from the example manifests and the captured fixtures.

Each case is a command line, the files it reads (written to a scratch directory) and the exit
codes allowed: 1 for input known to be bad, {0, 1} where a mutation may leave the input valid.
Generation is deterministic (no randomness: fixed positions and fixed mutations), so a failing
case has a stable id. `python -m tests.hostile.corpus` prints the count per command.
"""

import gzip
import io
import json
import tarfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.observe.cases import CASES, fixture_path
from tests.observe.synthetic import node_outputs

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "manifests"
LINUXHA = REPO / "tests" / "fixtures" / "linuxha"
BAD = frozenset({1})
ANY = frozenset({0, 1})
OK = frozenset({0})


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    files: dict[str, bytes] = field(default_factory=dict)
    expect: frozenset[int] = ANY
    stdin: bytes | None = None


# ---------------------------------------------------------------- validate


def _replace_value(text: str, key: str, value: str) -> str:
    """The first `key: ...` line with its value replaced."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith(f"{key}:"):
            indent = line[: len(line) - len(line.lstrip())]
            lines[i] = f"{indent}{key}: {value}"
            return "\n".join(lines) + "\n"
    return text + f"{key}: {value}\n"


def _deep_flow(n: int) -> str:
    return "[" * n + "]" * n


def _deep_block(n: int) -> str:
    return "\n".join("  " * i + f"k{i}:" for i in range(n)) + " 1\n"


TAGS = ("!!int x", "!!float x", "!!bool x", "!!timestamp 2020-13-45", "!!binary zz", "!!null x",
        "!!set {a, b}", "!!omap [a]", "!!python/object/apply:os.system [true]", "!custom x",
        "!!str 5", "!!map [a]", "!!seq {a: 1}", "!!timestamp 2020-02-30", "!!int 0x", "!!float 1e99999")
VALUE_KEYS = ("name", "kind", "apiVersion", "size", "preferredNode", "interval", "timeout", "toolstack")
WEIRD_VALUES = ("[Application]", "{a: 1}", "1", "null", "''", "9" * 400, "-" + "9" * 400 + "G",
                "1e400s", "0x" + "f" * 300, "\"\\ud800\"", "&a [*a]", "*nosuch", "|\n  x", ">-", "~")
STRUCTURES = {
    "empty": "",
    "only-dashes": "---\n---\n",
    "only-comment": "# nothing\n",
    "a-list": "- a\n- b\n",
    "a-scalar": "hello\n",
    "kind-list": "apiVersion: reconciler/v1\nkind: [Application]\nmetadata: {name: x}\n",
    "kind-map": "apiVersion: reconciler/v1\nkind: {a: 1}\n",
    "kind-int": "apiVersion: reconciler/v1\nkind: 7\n",
    "complex-key": "? [a, b]\n: c\n",
    "map-key": "{a: 1}: x\n",
    "duplicate": "kind: Cluster\nkind: Cluster\n",
    "alias-bomb": "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
    + "".join(f"{c}: &{c} [{','.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefg", "bcdefgh", strict=True)),
    "merge": "base: &b {x: 1}\nkind: Cluster\n<<: *b\n",
    "deep-flow-100": "kind: Cluster\nspec: " + _deep_flow(100) + "\n",
    "deep-flow-300": "kind: Cluster\nspec: " + _deep_flow(300) + "\n",
    "deep-flow-50000": "kind: Cluster\nspec: " + _deep_flow(50000) + "\n",
    "deep-block-100": "kind: Cluster\nspec:\n" + _deep_block(100),
    "deep-block-600": "kind: Cluster\nspec:\n" + _deep_block(600),
    "tabs": "kind:\tCluster\n\tspec: 1\n",
    "nul": "kind: Clus\x00ter\n",
    "bom": "\ufeffapiVersion: reconciler/v1\nkind: Cluster\n",
    "unclosed": "kind: 'Cluster\n",
    "directive": "%YAML 9.9\n---\nkind: Cluster\n",
    "bad-directive": "%FOO bar\n---\na: 1\n",
    "long-line": "kind: Cluster\nx: " + "y" * 300_000 + "\n",
    "many-docs": "---\na: 1\n" * 500,
}


def _validate_cases() -> Iterator[Case]:
    cluster = (MANIFESTS / "cluster.yaml").read_text()
    app = (MANIFESTS / "xapache.yaml").read_text()

    def case(name: str, text: str | bytes, expect: frozenset[int] = ANY, target: str = "app") -> Case:
        data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
        files = {"cluster.yaml": cluster.encode(), "app.yaml": app.encode()}
        files[f"{target}.yaml"] = data
        return Case(f"validate-{target}-{name}", ("validate", "cluster.yaml", "app.yaml"), files, expect)

    yield case("as-is", app, OK)
    for target, text in (("app", app), ("cluster", cluster)):
        lines = text.splitlines(keepends=True)
        for n in range(1, 10):
            yield case(f"truncated-{n}0pct", "".join(lines[: len(lines) * n // 10]), target=target)
        for i in range(0, len(lines), max(1, len(lines) // 12)):
            yield case(f"without-line-{i}", "".join(lines[:i] + lines[i + 1 :]), target=target)
        for key in VALUE_KEYS:
            for j, tag in enumerate(TAGS[:6] if target == "cluster" else TAGS):
                yield case(f"tag-{key}-{j}", _replace_value(text, key, tag), target=target)
        for j, weird in enumerate(WEIRD_VALUES):
            yield case(f"weird-name-{j}", _replace_value(text, "name", weird), target=target)
        raw = text.encode()
        for j, junk in enumerate((b"\xff", b"\xc3", b"\x00", b"\xed\xa0\x80", b"\r", b"\t")):
            yield case(f"bytes-{j}", raw[: len(raw) // 2] + junk + raw[len(raw) // 2 :], target=target)
        yield case("crlf", text.replace("\n", "\r\n"), target=target)
    for name, text in STRUCTURES.items():
        # A file with no document leaves the set valid, or is reported (a proposed `empty-file`).
        no_document = name in ("empty", "only-dashes", "only-comment")
        yield case(f"structure-{name}", text, ANY if no_document else BAD)
    yield case("too-large", app + "#" * (1 << 20), BAD)


def _validate_paths() -> Iterator[Case]:
    yield Case("validate-missing", ("validate", "nosuch.yaml"), expect=BAD)
    yield Case("validate-empty-dir", ("validate", "d"), {"d/readme.txt": b"x"}, BAD)
    json_format = ("validate", "--format", "json", "x.yaml")
    yield Case("validate-json-format", json_format, {"x.yaml": b"kind: [a]"}, BAD)
    yield Case("validate-bad-option", ("validate", "--format", "xml", "x.yaml"), {"x.yaml": b""}, BAD)


# ---------------------------------------------------------------- observe --parse


def _fixtures() -> dict[str, bytes]:
    """kind -> one captured output of that kind (the first case that names it)."""
    seen: dict[str, bytes] = {}
    for path in sorted(CASES.rglob("*.json")):
        case = json.loads(path.read_text())
        seen.setdefault(case["kind"], fixture_path(case["fixture"]).read_bytes())
    return seen


def _parse_cases() -> Iterator[Case]:
    fixtures = _fixtures()
    kinds = sorted(fixtures)
    for k, kind in enumerate(kinds):
        data = fixtures[kind]
        other = kinds[(k + 1) % len(kinds)]

        def case(
            name: str, content: bytes, expect: frozenset[int] = ANY, as_kind: str = kind, of: str = kind
        ) -> Case:
            argv = ("observe", "--parse", as_kind, "out")
            return Case(f"parse-{of}-{name}", argv, {"out": content}, expect)

        yield case("as-is", data, OK)
        yield case("half", data[: len(data) // 2])
        yield case("not-utf8", data[: len(data) // 3] + b"\xff\xfe" + data[len(data) // 3 :], BAD)
        yield case("deep-brackets", data + b"[" * 20000 + b"{" * 20000)
        yield case(f"as-{other}", fixtures[other], as_kind=other)
        yield case("doubled", data + data)
        yield Case(f"parse-{kind}-stdin-nul", ("observe", "--parse", kind, "-"), stdin=b"\x00" * 1000)
    yield Case("parse-unknown-kind", ("observe", "--parse", "lvs-jsn", "-"), stdin=b"", expect=BAD)
    yield Case("parse-no-file", ("observe", "--parse", "lvs-json"), expect=BAD)
    yield Case("parse-directory", ("observe", "--parse", "lvs-json", "d"), {"d/x": b""}, BAD)
    yield Case("parse-deep-json", ("observe", "--parse", "lvs-json", "-"), stdin=b"[" * 100000, expect=BAD)
    yield Case("parse-too-large", ("observe", "--parse", "lvs", "-"), stdin=b"x" * (17 << 20), expect=BAD)


# ---------------------------------------------------------------- bundles


def tar_gz(members: dict[str, bytes | None]) -> bytes:
    """A tar.gz of `members` (None: a symbolic link to /etc/shadow)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            if data is None:
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/shadow"
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def good_bundle_members() -> tuple[dict[str, object], dict[str, bytes]]:
    """A valid bundle's index and its output members."""
    index: dict[str, object] = {
        "format": 1, "node": "node1", "taken_at": "2026-01-01T00:00:00Z", "reconciler_version": "0",
        "files": {"proc_drbd": "/proc/drbd"}, "versions": [], "results": [],
    }
    members: dict[str, bytes] = {}
    results = []
    for i, result in enumerate(node_outputs(1)):
        entry = result.model_dump(mode="json", exclude={"stdout", "stderr"})
        entry["stdout"], entry["stderr"] = f"results/{i}.out", f"results/{i}.err"
        members[entry["stdout"]], members[entry["stderr"]] = result.stdout.encode(), b""
        results.append(entry)
    index["results"] = results
    return index, members


Mutation = Callable[[dict[str, object], dict[str, bytes | None]], bytes | None]


def _mutations() -> dict[str, tuple[Mutation, frozenset[int]]]:
    def entries(index: dict[str, object]) -> list[dict[str, object]]:
        results = index["results"]
        assert isinstance(results, list)
        return results

    def edit(change: Callable[[dict[str, object]], None]) -> Mutation:
        def mutate(index: dict[str, object], members: dict[str, bytes | None]) -> bytes | None:
            change(index)
            return None
        return mutate

    def member(name: str, data: bytes | None) -> Mutation:
        def mutate(index: dict[str, object], members: dict[str, bytes | None]) -> bytes | None:
            members[name] = data
            return None
        return mutate

    def raw(data: bytes) -> Mutation:
        return lambda index, members: data

    deep = b"[" * 5000 + b"]" * 5000
    return {
        "valid": (edit(lambda i: None), OK),
        "index-list": (lambda i, m: tar_gz({"bundle.json": b"[1, 2]"}), BAD),
        "index-scalar": (lambda i, m: tar_gz({"bundle.json": b"7"}), BAD),
        "index-not-json": (lambda i, m: tar_gz({"bundle.json": b"{"}), BAD),
        "index-not-utf8": (lambda i, m: tar_gz({"bundle.json": b"\xff\xfe{}"}), BAD),
        "index-deep": (lambda i, m: tar_gz({"bundle.json": deep}), BAD),
        "no-index": (lambda i, m: tar_gz({"x": b"{}"}), BAD),
        "entry-without-argv": (edit(lambda i: entries(i)[0].pop("argv")), BAD),
        "entry-argv-int": (edit(lambda i: entries(i)[0].update(argv=5)), BAD),
        "entry-argv-nested": (edit(lambda i: entries(i)[0].update(argv=[[["x"]]])), BAD),
        "entry-outcome-bad": (edit(lambda i: entries(i)[0].update(outcome="exploded")), BAD),
        "entry-stdout-int": (edit(lambda i: entries(i)[0].update(stdout=3)), BAD),
        "entry-stdout-missing-member": (edit(lambda i: entries(i)[0].update(stdout="nope")), BAD),
        "entry-is-list": (edit(lambda i: i.update(results=[[1]])), BAD),
        "results-is-dict": (edit(lambda i: i.update(results={"a": 1})), BAD),
        "results-missing": (edit(lambda i: i.pop("results")), ANY),
        "format-2": (edit(lambda i: i.update(format=2)), BAD),
        "format-missing": (edit(lambda i: i.pop("format")), BAD),
        "taken-at-bad": (edit(lambda i: i.update(taken_at="2020-13-45")), BAD),
        "node-list": (edit(lambda i: i.update(node=["a"])), BAD),
        "files-unknown": (edit(lambda i: i.update(files={"nosuch": "/x"})), BAD),
        "files-list": (edit(lambda i: i.update(files=[1])), BAD),
        "returncode-huge": (edit(lambda i: entries(i)[0].update(returncode=10**400)), ANY),
        "stdout-symlink": (member("results/1.out", None), BAD),
        "stdout-not-utf8": (member("results/1.out", b"\xff" * 100), ANY),
        "stdout-deep-json": (member("results/1.out", deep), BAD),
        "stdout-garbage": (member("results/1.out", b"garbage{{{"), ANY),
        "stdout-empty": (member("results/1.out", b""), ANY),
        "not-gzip": (raw(b"not a tarball"), BAD),
        "empty-file": (raw(b""), BAD),
        "gzip-not-tar": (raw(gzip.compress(b"hello")), BAD),
        "gzip-truncated": (lambda i, m: tar_gz({"bundle.json": json.dumps(i).encode()})[:40], BAD),
        "gzip-trailing-junk": (lambda i, m: tar_gz({"bundle.json": json.dumps(i).encode()}) + b"junk", BAD),
    }


def _bundle_cases() -> Iterator[Case]:
    for name, (mutate, expect) in _mutations().items():
        index, members = good_bundle_members()
        all_members: dict[str, bytes | None] = dict(members)
        data = mutate(index, all_members)
        if data is None:
            all_members["bundle.json"] = json.dumps(index).encode()
            data = tar_gz(all_members)
        yield Case(f"bundle-{name}", ("observe", "--observed", "b.tar.gz"), {"b.tar.gz": data}, expect)
    yield Case("bundle-directory", ("observe", "--observed", "d"), {"d/x": b""}, BAD)
    yield Case("bundle-missing", ("observe", "--observed", "nosuch.tar.gz"), expect=BAD)


# ---------------------------------------------------------------- import linuxha


IMPORT_ARGS = ("import", "linuxha", "--app", "app", "--xen-config", "centos5s1=x1.cfg",
               "--xen-config", "centos5s2=x2.cfg", "--cluster", "cluster.yaml",
               "--lv", "lv01:8G:/virt:ext3", "--pv", "/dev/hda")


def _import_cases() -> Iterator[Case]:
    base = {
        "app/appconf.xml": (LINUXHA / "appconf-xapache.xml").read_bytes(),
        "app/lems.local.xml": (LINUXHA / "lems.local-xapache.xml").read_bytes(),
        "x1.cfg": (LINUXHA / "xen-apache-centos5s1.cfg").read_bytes(),
        "x2.cfg": (LINUXHA / "xen-apache-centos5s2.cfg").read_bytes(),
        "cluster.yaml": (MANIFESTS / "cluster.yaml").read_bytes(),
    }
    yield Case("import-as-is", IMPORT_ARGS, dict(base), OK)
    deep = b"<a>" * 10000 + b"</a>" * 10000
    for target in ("app/appconf.xml", "app/lems.local.xml", "x1.cfg"):
        data = base[target]
        variants = {
            "empty": b"", "half": data[: len(data) // 2], "not-utf8": b"\xff" + data, "nul": data + b"\x00",
            "deep": deep, "deep-40": b"<a>" * 40 + b"</a>" * 40, "brackets": data + b"[" * 10000,
            "doctype": b'<!DOCTYPE x [<!ENTITY e "x">]>' + data, "entity": data.replace(b">", b">&e;", 1),
            "huge": data + b" " * (2 << 20), "text": b"just text\n",
        }
        for name, content in variants.items():
            files = dict(base)
            files[target] = content
            yield Case(f"import-{target.replace('/', '-')}-{name}", IMPORT_ARGS, files)
    yield Case("import-missing-app", ("import", "linuxha", "--app", "nosuch"), expect=BAD)
    yield Case("import-out-missing-dir", (*IMPORT_ARGS, "-o", "no/such/dir.yaml"), dict(base), BAD)


def all_cases() -> list[Case]:
    cases = [*_validate_cases(), *_validate_paths(), *_parse_cases(), *_bundle_cases(), *_import_cases()]
    ids = Counter(c.id for c in cases)
    assert all(n == 1 for n in ids.values()), [i for i, n in ids.items() if n > 1]
    return cases


if __name__ == "__main__":
    print(Counter(c.argv[0] if c.argv[0] != "observe" else c.argv[1] for c in all_cases()))
