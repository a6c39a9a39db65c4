"""Variants of appconf.xml and lems.local.xml beyond the guide's example (tests/linuxha/data/)."""

from pathlib import Path

import pytest

from reconciler.linuxha.importer import ImportOptions, import_linuxha
from reconciler.linuxha.report import Finding, Kind
from reconciler.linuxha.storage import LvOption
from reconciler.manifest import ManifestError, load_manifests
from tests.linuxha.conftest import CLUSTER, DATA, import_dir, seed_options, write

STORAGE = {
    "cluster": CLUSTER,
    "pvs": ((None, "/dev/sdb"),),
    "drbd_minor_base": 3,
    "drbd_port_base": 7792,
}


def _dropped(findings: list[Finding]) -> set[tuple[int | None, str]]:
    return {(f.source.line if f.source else None, f.what) for f in findings if f.kind is Kind.NOT_CARRIED}


def test_several_networks_and_addresses_and_a_named_preferred_node(tmp_path: Path) -> None:
    draft = import_dir(
        "networks",
        xen_configs=(("centos5s1", DATA / "xen/web-node1.cfg"), ("centos5s2", DATA / "xen/web-node2.cfg")),
        lvs=(LvOption.parse("lv01:2G:/web:ext4"),),
        **STORAGE,
    )
    app = load_manifests([CLUSTER, write(draft, tmp_path / "web.yaml")]).application("webapp").document.spec
    assert [(n.name, [str(a) for a in n.addresses], n.ip) for n in app.networks] == [
        ("public", ["192.168.1.77", "192.168.1.78", "192.168.1.79"], None),
        ("private", ["192.168.100.77"], None),
    ]
    assert (app.placement.preferred_node, app.placement.takeover.value) == ("centos5s2", "force")
    assert app.storage.logical_volumes[0].drbd.sync_rate == 20480 * 1024
    assert (app.start.timeout.total_seconds(), app.stop.timeout.total_seconds()) == (300, 120)
    assert (app.storage.logical_volumes[0].drbd.minor, app.storage.logical_volumes[0].drbd.port) == (3, 7792)
    assert (11, "<networks>/<network> netmask='255.255.255.0'") in _dropped(draft.report.findings)


def test_keys_that_differ_or_are_missing_go_to_the_nodes_that_have_them() -> None:
    draft = import_dir(
        "networks",
        xen_configs=(("centos5s1", DATA / "xen/web-node1.cfg"), ("centos5s2", DATA / "xen/web-node2.cfg")),
        **STORAGE,
    )
    domain = draft.document["spec"]["domain"]
    assert domain["config"] == {
        "name": "web",
        "memory": 1024,
        "vcpus": 2,
        "disk": ["phy:/dev/drbd1,xvda,w"],
        "vif": ["mac=00:16:3e:00:00:01,bridge=xenbr0"],
    }
    assert domain["nodes"] == {
        "centos5s1": {"config": {"extra": "console=hvc0"}},
        "centos5s2": {
            "config": {"memory": 2048, "vif": ["mac=00:16:3e:00:00:01,bridge=xenbr1"], "cpus": "2-3"}
        },
    }


@pytest.mark.parametrize(
    ("written", "imported", "kind"),
    [
        ("centos5s1", "centos5s1", Kind.CARRIED),
        ("Centos5s1", "centos5s1", Kind.GUESSED),  # the guide's own table spells it so
        ("least-cpu-load", "LEAST_CPU_LOAD", Kind.GUESSED),
        ("elsewhere", "elsewhere", Kind.GUESSED),  # kept, and validate refuses it
    ],
)
def test_preferred_node(seed_app: Path, written: str, imported: str, kind: Kind) -> None:
    appconf = seed_app / "appconf.xml"
    appconf.write_text(appconf.read_text().replace("LEAST_CPU_LOAD", written))
    draft = import_linuxha(seed_options(seed_app))
    assert draft.document["spec"]["placement"]["preferredNode"] == imported
    (finding,) = [f for f in draft.report.findings if f.at == ("spec", "placement", "preferredNode")]
    assert (finding.kind, finding.source and finding.source.line) == (kind, 8)


def test_every_unknown_element_attribute_and_text_is_reported_with_its_line() -> None:
    draft = import_dir("unknown", cluster=CLUSTER)
    appconf = [f for f in draft.report.findings if f.source and f.source.file.endswith("appconf.xml")]
    lems = [f for f in draft.report.findings if f.source and f.source.file.endswith("lems.local.xml")]
    assert _dropped(appconf) == {
        (2, "processing instruction <?app-generator linuxha 1.4?>"),
        (5, "<global>/<version>"),
        (7, "<global>/<autostart>"),
        (9, "<global>/<takeover> 'sometimes'"),
        (11, "text 'stray text' in <networks>"),
        (13, "<networks>/<network> attribute vlan='12'"),
        (22, "<application>/<checkscript>"),
        (23, "<application>/<maxstarttime> 'soon'"),
        (25, "<application>"),  # a second <application>, whole
        (28, "<future_section> attribute enabled='yes'"),
        (28, "<future_section>/<deep>"),
    }
    assert _dropped(lems) == {
        (3, "<globals> modules='/sbin/cluster/lems/modules'"),
        (3, "<globals> programs='/sbin/cluster/lems/programs'"),
        (3, "<globals> logs='/var/log/cluster/lems'"),
        (3, "<globals> attribute colour='blue'"),
        (7, "<check> 'flags'"),  # flag_check: the agent takes the cl* requests itself
        (19, "<check>/<retries>"),
        (22, "<action rc='1' action='ABORT'>"),
        (24, "<action rc='2' action='FAILOVER'>"),  # rc 2 given twice: the first wins
        (25, "<action rc='300' action='STOP'>"),
    }
    readme = [f for f in draft.report.findings if f.source and f.source.file.endswith("README")]
    assert [f.kind for f in readme] == [Kind.NOT_CARRIED]
    assert draft.document["spec"]["monitors"][0]["actions"] == {0: "NOP", 2: "STOP"}


def test_the_report_line_format(seed_app: Path) -> None:
    (version,) = [f for f in import_linuxha(seed_options(seed_app)).report.findings if "version" in f.what]
    assert str(version) == (
        f"{seed_app}/appconf.xml:4: <global>/<version> not carried over: "
        "'0.1' is the appconf.xml format's version; the manifest's apiVersion says that"
    )


def test_a_start_script_that_is_not_xm_becomes_commands_with_a_status_to_fill_in(tmp_path: Path) -> None:
    draft = import_dir("script-app", lvs=(LvOption.parse("data:20G:/var/lib/mysql:ext3"),), **STORAGE)
    domain = draft.document["spec"]["domain"]
    assert domain["toolstack"] == "commands"
    assert domain["start"] == ["/etc/cluster/mysql/start-mysql", "--wait", "data dir"]
    assert domain["stop"] == ["<FILL IN: stop command, program by absolute path>"]  # it needs a shell
    assert domain["status"] == ["<FILL IN: status command, program by absolute path>"]
    (shell,) = [f for f in draft.report.findings if f.kind is Kind.NOT_CARRIED and "stopscript" in f.what]
    assert shell.source is not None and shell.source.line == 19
    assert "it needs a shell ('&' '>' '|')" in shell.why
    with pytest.raises(ManifestError) as refused:
        load_manifests([CLUSTER, write(draft, tmp_path / "mysql.yaml")])
    assert {d.message.split(":")[0] for d in refused.value.diagnostics} == {
        "spec.domain.stop",
        "spec.domain.status",
    }


def test_xl_with_a_config_path_and_a_destroying_stop(tmp_path: Path) -> None:
    draft = import_dir("xl-destroy", lvs=(LvOption.parse("data:4G"),), **STORAGE)
    spec = draft.document["spec"]
    assert spec["domain"] == {"toolstack": "xl", "name": "samba", "configFile": "/etc/xen/samba.cfg"}
    assert spec["stop"] == {"timeout": "600s", "escalation": "destroy"}
    assert "filesystem" not in spec["storage"]["logicalVolumes"][0]  # no <vg><type>, no mount: raw
    load_manifests([CLUSTER, write(draft, tmp_path / "samba.yaml")])


def test_lems_checks_of_other_kinds(tmp_path: Path) -> None:
    draft = import_dir("custom-checks", lvs=(LvOption.parse("data:4G"),), **STORAGE)
    monitors = {m["name"]: m for m in draft.document["spec"]["monitors"]}
    assert monitors["web"]["argv"] == ["/sbin/cluster/lems/programs/check_http", "192.168.1.77", "80"]
    assert monitors["abs"]["argv"] == ["/usr/local/bin/check-db", "--quick"]
    assert "actions" not in monitors["abs"] and monitors["abs"]["interval"] == "10s"
    assert (monitors["httpd"]["type"], monitors["httpd"]["process"]) == ("process", "httpd")
    assert (monitors["gw"]["type"], monitors["gw"]["address"]) == ("ping", "192.168.1.1")
    assert (monitors["port"]["address"], monitors["port"]["port"]) == ("192.168.1.77", 80)
    assert {"status", "shell"}.isdisjoint(monitors)
    assert {line for line, _ in _dropped(draft.report.findings) if line} >= {40, 45}
    load_manifests([CLUSTER, write(draft, tmp_path / "checks.yaml")])


def test_logical_volumes_from_a_captured_lvs_report(seed_app: Path, tmp_path: Path) -> None:
    options = seed_options(seed_app)
    draft = import_linuxha(
        ImportOptions(
            app_dir=seed_app,
            xen_configs=options.xen_configs,
            cluster=CLUSTER,
            lvs=(LvOption.parse("lv01::/virt:ext3"),),
            lvs_json=DATA / "lvs.json",
            pvs=options.pvs,
            drbd_minor_base=0,
            drbd_port_base=7789,
        )
    )
    lv01, lv02 = draft.document["spec"]["storage"]["logicalVolumes"]
    assert (lv01["name"], lv01["size"], lv01["filesystem"]) == (
        "lv01",
        "8G",
        {"type": "ext3", "mountPoint": "/virt"},
    )
    assert (lv02["name"], lv02["size"], lv02["drbd"]["minor"], lv02["drbd"]["port"]) == (
        "lv02",
        "1G",
        1,
        7790,
    )
    # a 'filesystems' group mounts every volume: lv02's mount point is not known, so it is asked for
    assert lv02["filesystem"] == {
        "type": "<FILL IN: filesystem type>",
        "mountPoint": "<FILL IN: mount point>",
    }
    assert ("logical volume sysvg/root", Kind.NOT_CARRIED) in {
        (f.what, f.kind) for f in draft.report.findings
    }


def test_input_text_cannot_break_out_of_a_yaml_comment(seed_app: Path, tmp_path: Path) -> None:
    appconf = seed_app / "appconf.xml"
    evil = "0.1&#10;kind: Cluster&#10;"
    appconf.write_text(appconf.read_text().replace("<version>0.1</version>", f"<version>{evil}</version>"))
    draft = import_linuxha(seed_options(seed_app))
    out = write(draft, tmp_path / "xapache.yaml")
    assert "kind: Cluster" not in out.read_text().splitlines()
    assert "'0.1\\nkind: Cluster'" in out.read_text()  # escaped inside the comment
    load_manifests([CLUSTER, out])
