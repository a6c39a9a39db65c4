"""Helpers for the import tests: the seed's application directory, and running an import."""

import shutil
from pathlib import Path

import pytest

from reconciler.linuxha.emit import render
from reconciler.linuxha.importer import Draft, ImportOptions, import_linuxha
from reconciler.linuxha.storage import LvOption
from tests.conftest import FIXTURES, REPO

DATA = Path(__file__).parent / "data"
CLUSTER = REPO / "manifests" / "cluster.yaml"
SEED = FIXTURES / "linuxha"
SEED_XEN = (
    ("centos5s1", SEED / "xen-apache-centos5s1.cfg"),
    ("centos5s2", SEED / "xen-apache-centos5s2.cfg"),
)


@pytest.fixture
def seed_app(tmp_path: Path) -> Path:
    """/etc/cluster/xapache as the guide has it: appconf.xml and lems.local.xml."""
    app = tmp_path / "xapache"
    app.mkdir()
    shutil.copy(SEED / "appconf-xapache.xml", app / "appconf.xml")
    shutil.copy(SEED / "lems.local-xapache.xml", app / "lems.local.xml")
    return app


def seed_options(app: Path) -> ImportOptions:
    """The options that give the import what appconf.xml does not hold (the guide's values)."""
    return ImportOptions(
        app_dir=app,
        xen_configs=SEED_XEN,
        cluster=CLUSTER,
        lvs=(LvOption.parse("lv01:8G:/virt:ext3"),),
        pvs=((None, "/dev/hda"),),
        drbd_minor_base=0,
        drbd_port_base=7789,
    )


def write(draft: Draft, path: Path) -> Path:
    path.write_text(render(draft.document, draft.report.findings, draft.inputs), encoding="utf-8")
    return path


def import_dir(name: str, **options: object) -> Draft:
    return import_linuxha(ImportOptions(app_dir=DATA / name, **options))  # type: ignore[arg-type]
