"""The shipped examples: they validate, carry the schema modeline, and the schemas are current."""

import json
from pathlib import Path

from reconciler.manifest import load_manifests
from reconciler.manifest.monitor import MonitorActionKind
from reconciler.schemas import generate
from tests.conftest import REPO

MANIFESTS = REPO / "manifests"
SCHEMAS = REPO / "schemas"


def test_examples_validate() -> None:
    manifests = load_manifests([MANIFESTS])
    assert manifests.cluster.document.metadata.name == "centos5"
    assert [a.name for a in manifests.applications] == ["xapache"]


def test_xapache_says_what_the_seed_says() -> None:
    """The linuxha.net guide's worked example, value by value."""
    app = load_manifests([MANIFESTS]).application("xapache").document.spec
    assert app.placement.preferred_node == "LEAST_CPU_LOAD"
    assert app.placement.takeover.value == "normal"
    assert app.storage.volume_group.name == "virtvg"
    (lv,) = app.storage.logical_volumes
    assert (lv.name, lv.size) == ("lv01", 8 * 2**30)
    assert lv.filesystem is not None
    assert (lv.filesystem.type.value, lv.filesystem.mount_point) == ("ext3", "/virt")
    assert lv.drbd.sync_rate == 10 * 2**20  # syncrate 10000 KB/s in appconf.xml
    assert (app.domain.toolstack.value, app.domain.name) == ("xm", "apache")
    assert app.domain.config is not None
    assert app.domain.config["vif"] == ("mac=00:16:3e:01:13:97,bridge=xenbr4",)
    assert app.domain.nodes["centos5s2"].config["vif"] == ("mac=00:16:3e:01:13:97,bridge=xenbr0",)
    assert [(n.name, n.ip) for n in app.networks] == [("public", "MONITOR")]
    assert app.start.timeout.total_seconds() == 600
    assert app.stop.timeout.total_seconds() == 600
    (monitor,) = app.monitors
    assert (monitor.name, monitor.type, monitor.interval.total_seconds()) == ("fsmonitor", "fsmon", 10)
    kinds = {rc: (a.kind, a.pause.total_seconds() if a.pause else None) for rc, a in monitor.actions.items()}
    assert kinds == {
        0: (MonitorActionKind.NOP, None),
        1: (MonitorActionKind.PAUSE, 30),
        2: (MonitorActionKind.STOP, None),
        3: (MonitorActionKind.FAILOVER, None),
        10: (MonitorActionKind.PAUSE, 60),
    }


def test_every_example_carries_the_schema_modeline() -> None:
    for path in sorted(MANIFESTS.glob("*.yaml")):
        first = path.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/manifest.schema.json", path


def test_committed_schemas_equal_the_generated_ones() -> None:
    generated = generate()
    assert sorted(p.name for p in SCHEMAS.glob("*.json")) == sorted(generated)
    for name, text in generated.items():
        assert (SCHEMAS / name).read_text() == text, f"schemas/{name} is stale: run `make schemas`"


def test_schema_accepts_the_example_and_names_every_kind() -> None:
    schema = json.loads((SCHEMAS / "manifest.schema.json").read_text())
    assert schema["discriminator"]["propertyName"] == "kind"
    assert set(schema["discriminator"]["mapping"]) == {"Cluster", "Application"}


def test_values_keep_their_source_position() -> None:
    """The diff will cite file:line of each desired value; the loader must be able to say it."""
    app = load_manifests([MANIFESTS]).application("xapache")
    text = Path(app.source.file).read_text().splitlines()
    where = app.source.locate(("spec", "storage", "logicalVolumes", 0, "drbd", "port"))
    assert text[where.line - 1].strip().startswith("port: 7789")
    where = app.source.locate(("spec", "domain", "nodes", "centos5s2", "config", "vif"))
    assert "bridge=xenbr0" in text[where.line - 1]
