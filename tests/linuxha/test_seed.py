"""The guide's worked example imports into manifests/xapache.yaml, less two documented fields."""

from pathlib import Path
from typing import Any

import pytest

from reconciler.linuxha.importer import import_linuxha
from reconciler.linuxha.report import Kind
from reconciler.manifest import ApplicationDocument, ManifestError, load_manifests
from reconciler.manifest.yamlsource import read_file
from tests.conftest import REPO
from tests.linuxha.conftest import CLUSTER, seed_options, write

# Where the import and the hand-written manifest may differ, and why. Nothing else may.
ALLOWED_DIFFERENCES: dict[tuple[str | int, ...], tuple[Any, Any, str]] = {
    ("metadata", "description"): (
        "linuxha.net application xapache, imported",
        'Xen VM "apache" on replicated storage (linuxha.net guide example)',
        "prose: the hand-written one describes the guide, the import says where it came from",
    ),
    ("spec", "storage", "logicalVolumes", 0, "drbd", "syncRate"): (
        "10000K/s",
        "10M/s",
        "<syncrate>10000</syncrate> is 10000 KiB/s exactly; the hand-written manifest rounds it to 10 MiB/s",
    ),
}


def _dump(document: ApplicationDocument) -> Any:
    # warnings=False: the domain config's union type makes pydantic warn on every list value,
    # for the hand-written manifest as much as for the imported one; the values are right.
    return document.model_dump(mode="json", warnings=False)


def _pop(tree: Any, path: tuple[str | int, ...]) -> Any:
    *parents, last = path
    for element in parents:
        tree = tree[element]
    return tree.pop(last)


def test_the_seed_imports_into_the_hand_written_manifest(seed_app: Path, tmp_path: Path) -> None:
    out = write(import_linuxha(seed_options(seed_app)), tmp_path / "xapache.yaml")
    imported = _dump(load_manifests([CLUSTER, out]).application("xapache").document)
    expected = _dump(load_manifests([REPO / "manifests"]).application("xapache").document)
    for path, (ours, theirs, _why) in ALLOWED_DIFFERENCES.items():
        assert (_pop(imported, path), _pop(expected, path)) == (ours, theirs), path
    assert imported == expected


def test_one_domain_with_a_per_node_vif(seed_app: Path) -> None:
    domain = import_linuxha(seed_options(seed_app)).document["spec"]["domain"]
    assert domain["config"]["vif"] == ["mac=00:16:3e:01:13:97,bridge=xenbr4"]
    assert domain["nodes"] == {"centos5s2": {"config": {"vif": ["mac=00:16:3e:01:13:97,bridge=xenbr0"]}}}


def test_the_yaml_round_trips_and_carries_the_report_as_comments(seed_app: Path, tmp_path: Path) -> None:
    draft = import_linuxha(seed_options(seed_app))
    out = write(draft, tmp_path / "xapache.yaml")
    (document,) = read_file(out, str(out)).documents
    assert document.data == draft.document
    text = out.read_text()
    assert "syncRate: 10000K/s # " in text and "<syncrate>10000</syncrate>" in text
    assert "appconf.xml:4: <global>/<version> not carried over" in text
    assert "(the first --xen-config)" in text
    assert "xen-apache-centos5s2.cfg:12 vif: differs from centos5s1" in text


def test_the_seed_report(seed_app: Path) -> None:
    report = import_linuxha(seed_options(seed_app)).report
    notable = {(f.kind, f.location().rsplit("/", 1)[-1], f.what) for f in report.notable()}
    assert notable == {
        (Kind.NOT_CARRIED, "appconf.xml:4", "<global>/<version>"),
        (Kind.NOT_CARRIED, "lems.local.xml:3", "<globals> modules='/sbin/cluster/lems/modules'"),
        (Kind.NOT_CARRIED, "lems.local.xml:3", "<globals> programs='/sbin/cluster/lems/programs'"),
        (Kind.NOT_CARRIED, "lems.local.xml:3", "<globals> logs='/var/log/cluster/lems'"),
        (Kind.GUESSED, "spec.storage.logicalVolumes[0].drbd.resource", "DRBD resource"),
        (Kind.DEFAULTED, "spec.storage.logicalVolumes[0].drbd.protocol", "DRBD protocol"),
        (Kind.DEFAULTED, "lems.local.xml:8", "<check> 'fsmonitor' timeout"),
    }
    assert str(report.notable()[0]).endswith(
        "appconf.xml:4: <global>/<version> not carried over: "
        "'0.1' is the appconf.xml format's version; the manifest's apiVersion says that"
    )


def test_without_the_options_every_unknown_is_a_placeholder_validate_refuses(
    seed_app: Path, tmp_path: Path
) -> None:
    options = seed_options(seed_app)
    bare = type(options)(app_dir=seed_app, xen_configs=options.xen_configs, cluster=CLUSTER)
    draft = import_linuxha(bare)
    out = write(draft, tmp_path / "xapache.yaml")
    placeholders = {f.location() for f in draft.report.findings if f.kind is Kind.PLACEHOLDER}
    assert placeholders == {
        "spec.storage.volumeGroup.physicalVolumes.centos5s1",
        "spec.storage.volumeGroup.physicalVolumes.centos5s2",
        "spec.storage.logicalVolumes[0].name",
        "spec.storage.logicalVolumes[0].size",
        "spec.storage.logicalVolumes[0].drbd.resource",
        "spec.storage.logicalVolumes[0].drbd.minor",
        "spec.storage.logicalVolumes[0].drbd.port",
        "spec.storage.logicalVolumes[0].filesystem.type",
        "spec.storage.logicalVolumes[0].filesystem.mountPoint",
    }
    with pytest.raises(ManifestError) as refused:
        load_manifests([CLUSTER, out])
    paths = {d.message.split(":")[0].removesuffix("[0]") for d in refused.value.diagnostics}
    assert paths == placeholders
