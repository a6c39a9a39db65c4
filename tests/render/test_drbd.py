"""DRBD resource files: every generated file is read back by the real drbdadm, as each node."""

import re
from dataclasses import dataclass
from ipaddress import IPv6Address
from pathlib import Path

import pytest

from reconciler.manifest import ManifestSet, load_manifests
from reconciler.manifest.application import ApplicationDocument
from reconciler.manifest.cluster import ClusterDocument
from reconciler.manifest.storage import LogicalVolume
from reconciler.render.drbd import (
    DrbdFlavour,
    render_drbd_resource,
    replication_network,
    resource_file,
)
from reconciler.render.errors import RenderError
from tests.conftest import REPO
from tests.render import drbdadm

SEED = REPO / "manifests"
LAB = Path(__file__).parent / "manifests" / "lab"
EXPECTED = Path(__file__).parent / "expected"


@dataclass(frozen=True)
class Case:
    cluster: ClusterDocument
    app: ApplicationDocument
    lv: LogicalVolume
    flavour: DrbdFlavour
    node: str

    @property
    def id(self) -> str:
        return f"{self.app.metadata.name}-{self.lv.name}-{self.flavour.value}-{self.node}"


def _cases(manifests: ManifestSet) -> list[Case]:
    cluster = manifests.cluster.document
    return [
        Case(cluster, app.document, lv, flavour, node.name)
        for app in manifests.applications
        for lv in app.document.spec.storage.logical_volumes
        for flavour in DrbdFlavour
        for node in cluster.spec.nodes
    ]


CASES = _cases(load_manifests([SEED])) + _cases(load_manifests([LAB]))


def _write(tmp_path: Path, case: Case) -> Path:
    path = tmp_path / resource_file(case.lv).name
    path.write_text(render_drbd_resource(case.cluster, case.app, case.lv, case.flavour))
    return path


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("flavour", list(DrbdFlavour))
def test_the_override_selects_the_parser(flavour: DrbdFlavour) -> None:
    assert drbdadm.api_version(flavour) == drbdadm.API_VERSION[flavour]


def test_the_83_parser_refuses_84_syntax(tmp_path: Path) -> None:
    """Shows that the 8.3 checks run drbdadm-83: an 8.4 file (`disk { resync-rate }`) is refused."""
    case = next(c for c in CASES if c.flavour is DrbdFlavour.V84)
    result = drbdadm.dump(_write(tmp_path, case), case.lv.drbd.resource, case.node, DrbdFlavour.V83)
    assert result.returncode == drbdadm.E_CONFIG_INVALID, result.explain()


def test_the_84_parser_refuses_drbd9_syntax(fixtures: Path) -> None:
    """Shows that the 8.4 checks below run the strict 8.4 parser, not the tolerant 9 one."""
    fixture = fixtures / "drbd" / "r0-9-simple.res"
    result = drbdadm.dump(fixture, "r0", "alice", DrbdFlavour.V84)
    assert result.returncode == drbdadm.E_CONFIG_INVALID, result.explain()
    assert f"{fixture}:" in result.stderr and "node-id" in result.stderr
    assert drbdadm.dump(fixture, "r0", "alice", DrbdFlavour.V9).returncode == 0


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_drbdadm_accepts_the_file_as_each_node(tmp_path: Path, case: Case) -> None:
    path = _write(tmp_path, case)
    result = drbdadm.dump(path, case.lv.drbd.resource, case.node, case.flavour)
    assert result.returncode == 0, result.explain()
    # drbdadm found this node's `on` section: it would configure the resource here.
    assert re.search(rf"# resource \S+ on {re.escape(case.node)}: not ignored", result.stdout), result.stdout
    dumped = _flat(result.stdout)
    network = replication_network(case.cluster, case.lv)
    for node_id, node in enumerate(case.cluster.spec.nodes):
        address = node.addresses[network.name]
        shown = f"[{address}]" if isinstance(address, IPv6Address) else str(address)
        assert f"{shown}:{case.lv.drbd.port};" in dumped, result.stdout
        if case.flavour is DrbdFlavour.V9:
            assert f"on {node.name} {{ node-id {node_id};" in dumped, result.stdout
    assert f"device /dev/drbd{case.lv.drbd.minor} minor {case.lv.drbd.minor};" in dumped
    assert f"protocol {case.lv.drbd.protocol};" in dumped
    if case.flavour is DrbdFlavour.V83:
        assert re.search(r"syncer \{ rate \d+[KMG];", dumped), result.stdout  # the fixed rate of 8.3
    else:
        assert "c-plan-ahead 0;" in dumped


@pytest.mark.parametrize("case", [c for c in CASES if c.flavour is DrbdFlavour.V84], ids=lambda c: c.id)
def test_drbd9_userland_also_reads_the_84_file(tmp_path: Path, case: Case) -> None:
    """drbd-utils 9 converts 8.4 syntax, so an 8.4 file survives a userland upgrade."""
    result = drbdadm.dump(_write(tmp_path, case), case.lv.drbd.resource, case.node, DrbdFlavour.V9)
    assert result.returncode == 0, result.explain()


@pytest.mark.parametrize("flavour", list(DrbdFlavour))
def test_all_resources_of_a_cluster_together(tmp_path: Path, flavour: DrbdFlavour) -> None:
    """Read as one configuration, as /etc/drbd.d/*.res is: no minor or address:port twice."""
    lab = load_manifests([LAB])
    paths = [_write(tmp_path, c) for c in _cases(lab) if c.flavour is flavour]
    for node in lab.cluster.document.spec.nodes:
        result = drbdadm.dump_all(sorted(set(paths)), node.name, flavour)
        assert result.returncode == 0, result.explain()
        assert len(re.findall(rf"on {re.escape(node.name)}: not ignored", result.stdout)) == 3


def test_drbdadm_sees_two_resources_on_one_minor(tmp_path: Path) -> None:
    """The check above would notice: the same resource under a second name is refused."""
    case = next(c for c in CASES if c.flavour is DrbdFlavour.V9)
    first = _write(tmp_path, case)
    second = tmp_path / "copy.res"
    second.write_text(first.read_text().replace(f'"{case.lv.drbd.resource}"', '"copy"'))
    result = drbdadm.dump_all([first, second], case.node, DrbdFlavour.V9)
    assert result.returncode == drbdadm.E_CONFIG_INVALID, result.explain()
    assert "conflicting use of device-minor" in result.stderr


@pytest.mark.parametrize("flavour", list(DrbdFlavour))
def test_a_broken_file_is_refused_with_its_line(tmp_path: Path, flavour: DrbdFlavour) -> None:
    """The acceptance above means something: one character less and drbdadm names the line."""
    case = next(c for c in CASES if c.flavour is flavour)
    path = _write(tmp_path, case)
    lines = path.read_text().splitlines(keepends=True)
    broken = next(i for i, line in enumerate(lines) if re.search(r"\b(resync-)?rate ", line))
    lines[broken] = lines[broken].replace(";", "")
    path.write_text("".join(lines))
    result = drbdadm.dump(path, case.lv.drbd.resource, case.node, flavour)
    assert result.returncode == drbdadm.E_CONFIG_INVALID, result.explain()
    match = re.search(rf"{re.escape(str(path))}:(\d+): Parse error", result.stderr)
    assert match, result.stderr
    # drbdadm reports where it noticed: the next token, `}`, on the line after the broken one.
    assert int(match.group(1)) == broken + 2


@pytest.mark.parametrize("flavour", list(DrbdFlavour))
def test_the_seed_resource_reads_as_expected(flavour: DrbdFlavour) -> None:
    seed = load_manifests([SEED])
    app = seed.application("xapache").document
    (lv,) = app.spec.storage.logical_volumes
    text = render_drbd_resource(seed.cluster.document, app, lv, flavour)
    assert text == (EXPECTED / f"xapache-lv01.{flavour.value}.res").read_text()


def test_same_manifests_give_the_same_bytes() -> None:
    first, second = load_manifests([LAB]), load_manifests([LAB])
    for a, b in zip(first.applications, second.applications, strict=True):
        for lv_a, lv_b in zip(
            a.document.spec.storage.logical_volumes, b.document.spec.storage.logical_volumes, strict=True
        ):
            for flavour in DrbdFlavour:
                text_a = render_drbd_resource(first.cluster.document, a.document, lv_a, flavour)
                text_b = render_drbd_resource(second.cluster.document, b.document, lv_b, flavour)
                assert text_a.encode() == text_b.encode()


def _lab() -> tuple[ClusterDocument, ApplicationDocument, dict[str, LogicalVolume]]:
    lab = load_manifests([LAB])
    app = lab.application("multi").document
    return lab.cluster.document, app, {lv.name: lv for lv in app.spec.storage.logical_volumes}


def test_replication_network_is_the_declared_one_or_the_first_heartbeat_network() -> None:
    cluster, _, lvs = _lab()
    assert replication_network(cluster, lvs["root"]).name == "public"  # "storage" has no heartbeat
    assert replication_network(cluster, lvs["db+log"]).name == "storage"
    assert replication_network(cluster, lvs["raw"]).name == "repl6"


def test_rates_names_and_ipv6_as_written() -> None:
    cluster, app, lvs = _lab()
    db = render_drbd_resource(cluster, app, lvs["db+log"], DrbdFlavour.V9)
    assert 'resource "multi+db" {' in db and "resync-rate 1536K;" in db
    assert 'disk      "/dev/vg+data/db+log";' in db and "address   10.0.0.2:7791;" in db
    raw = render_drbd_resource(cluster, app, lvs["raw"], DrbdFlavour.V84)
    assert 'resource "disk" {' in raw and "resync-rate 4G;" in raw
    assert "address   ipv6 [fd00:10::1]:65535;" in raw and 'on "net" {' in raw
    assert "node-id" not in raw and "connection" not in raw


def test_the_header_names_the_manifests_and_forbids_editing() -> None:
    cluster, app, lvs = _lab()
    header = render_drbd_resource(cluster, app, lvs["root"], DrbdFlavour.V9).splitlines()[:3]
    assert header[0] == "# /etc/drbd.d/multi-root.res: DRBD 9 resource of logical volume vg+data/root,"
    assert 'Application "multi"' in header[1] and 'Cluster "lab"' in header[1]
    assert header[2].startswith("# Do not edit by hand")


@pytest.mark.parametrize("rate", [1000, 5 * 2**30, 0])
def test_a_rate_drbd_cannot_express_is_refused(rate: int) -> None:
    cluster, app, lvs = _lab()
    lv = lvs["root"].model_copy(update={"drbd": lvs["root"].drbd.model_copy(update={"sync_rate": rate})})
    with pytest.raises(RenderError, match="resync rate"):
        render_drbd_resource(cluster, app, lv, DrbdFlavour.V9)


def test_values_that_could_break_the_syntax_are_refused() -> None:
    """The manifest types exclude these already; the renderer checks again (model_copy skips
    validation, standing in for a future loosening of a type)."""
    cluster, app, lvs = _lab()
    lv = lvs["root"]
    bad_name = lv.model_copy(update={"drbd": lv.drbd.model_copy(update={"resource": 'x"; }'})})
    with pytest.raises(RenderError, match="cannot be written"):
        render_drbd_resource(cluster, app, bad_name, DrbdFlavour.V9)
    node = cluster.spec.nodes[0]
    zoned = node.model_copy(update={"addresses": {**node.addresses, "public": IPv6Address("fe80::1%a;b")}})
    spec = cluster.spec.model_copy(update={"nodes": (zoned, cluster.spec.nodes[1])})
    with pytest.raises(RenderError, match="zone"):
        render_drbd_resource(cluster.model_copy(update={"spec": spec}), app, lv, DrbdFlavour.V84)


def test_drbd9_resources_never_promote_themselves(tmp_path: Path) -> None:
    """auto-promote would let a mount on the standby make it Primary: only the agent promotes."""
    case = next(c for c in CASES if c.flavour is DrbdFlavour.V9)
    result = drbdadm.dump(_write(tmp_path, case), case.lv.drbd.resource, case.node, case.flavour)
    assert result.returncode == 0, result.stderr
    assert re.search(r"auto-promote\s+no;", result.stdout), result.stdout
