"""The seed's xapache planned on the simulated cluster: what, in which order, and what is refused."""

import json

import jsonschema
import pytest

from reconciler.core.plan.model import ActionKind, Plan, Revision
from reconciler.core.plan.report import plan_report
from reconciler.execute import ActionStatus, StalePlan, check_fresh
from reconciler.lab.sim import Fault, FaultKind, handle
from reconciler.manifest import ManifestSet
from tests.conftest import REPO
from tests.plan.seed import ON_S1, ON_S2, REVISION, apply_once, converge, new_cluster, plan_on, seed_manifests

K = ActionKind
STORAGE = [K.CREATE_VG, K.CREATE_LV, K.WRITE_FILE, K.CREATE_MD, K.DRBD_UP, K.WRITE_FILE]


@pytest.fixture(scope="module")
def manifests() -> ManifestSet:
    return seed_manifests()


def kinds(plan: Plan) -> list[ActionKind]:
    return [a.kind for a in plan.pending()]


def assert_dependencies_come_first(plan: Plan) -> None:
    seen: set[str] = set()
    for action in plan.actions:
        assert set(action.depends_on) <= seen, f"{action.id} depends on a later action"
        seen.add(action.id)


def test_empty_active_node_builds_storage_first(manifests: ManifestSet) -> None:
    result = plan_on(new_cluster(manifests), manifests, "centos5s1", ON_S1, destructive=False)
    assert kinds(result.plan) == STORAGE
    argv = {a.kind: a.do for a in result.plan.actions if a.do}
    assert argv[K.CREATE_VG] == ("vgcreate", "virtvg", "/dev/hda")
    assert argv[K.CREATE_LV] == ("lvcreate", "--yes", "--name", "lv01", "--size", "8589934592b", "virtvg")
    assert argv[K.CREATE_MD] == ("drbdadm", "create-md", "xapache-lv01")  # no --force without the flag
    assert argv[K.DRBD_UP] == ("drbdadm", "up", "xapache-lv01")
    writes = [a.write.path for a in result.plan.actions if a.write]
    assert writes == ["/etc/drbd.d/xapache-lv01.res", "/etc/xen/apache"]
    codes = {d.code.value for d in result.drift}
    assert codes >= {
        "VG_MISSING",
        "LV_MISSING",
        "DRBD_DOWN",
        "DRBD_CONFIG_DIFFERS",
        "FS_NOT_MOUNTED",
        "APP_DOWN",
    }
    assert_dependencies_come_first(result.plan)
    assert not any(a.destructive for a in result.plan.actions)


def test_drift_cites_where_each_value_is_declared(manifests: ManifestSet) -> None:
    result = plan_on(new_cluster(manifests), manifests, "centos5s1", ON_S1)
    where = {d.code.value: d.declared_at for d in result.drift}
    lines = (REPO / "manifests" / "xapache.yaml").read_text().splitlines()
    file, line = where["VG_MISSING"].rsplit(":", 1)
    assert file.endswith("manifests/xapache.yaml") and "name: virtvg" in lines[int(line) - 1]
    assert "mountPoint: /virt" in lines[int(where["FS_NOT_MOUNTED"].rsplit(":", 1)[1]) - 1]


def test_empty_standby_node_builds_storage_and_nothing_else(manifests: ManifestSet) -> None:
    result = plan_on(new_cluster(manifests), manifests, "centos5s2", ON_S1)
    assert kinds(result.plan) == STORAGE
    # The standby gets its own node's domain config: the bridge is xenbr0 there.
    (xen,) = [a.write for a in result.plan.actions if a.write and a.write.path == "/etc/xen/apache"]
    assert "bridge=xenbr0" in xen.content and "xenbr4" not in xen.content


def test_half_built_node_continues_where_it_stopped(manifests: ManifestSet) -> None:
    cluster = new_cluster(manifests)
    assert handle(cluster, "centos5s1", ("vgcreate", "virtvg", "/dev/hda")).ok
    result = plan_on(cluster, manifests, "centos5s1", ON_S1)
    assert kinds(result.plan) == STORAGE[1:]
    assert "VG_MISSING" not in {d.code.value for d in result.drift}


def test_initial_sync_only_with_the_flag_then_the_start_order(manifests: ManifestSet) -> None:
    cluster = new_cluster(manifests)
    for node in ("centos5s1", "centos5s2"):
        apply_once(cluster, manifests, node, ON_S1, destructive=False)
    refused = plan_on(cluster, manifests, "centos5s1", ON_S1, destructive=False)
    assert "DRBD_UNINITIALISED" in {d.code.value for d in refused.drift}
    assert K.INITIAL_SYNC not in kinds(refused.plan)
    assert any("--allow-destructive" in e for e in refused.plan.errors)
    allowed = plan_on(cluster, manifests, "centos5s1", ON_S1, destructive=True)
    assert kinds(allowed.plan) == [K.INITIAL_SYNC, K.MKFS, K.MKDIR, K.FSCK, K.MOUNT, K.START_DOMAIN]
    assert [a.kind for a in allowed.plan.actions if a.destructive] == [K.INITIAL_SYNC, K.MKFS]
    assert_dependencies_come_first(allowed.plan)


def test_a_second_apply_does_nothing(manifests: ManifestSet) -> None:
    cluster = new_cluster(manifests)
    converge(cluster, manifests, ON_S1)
    before = list(cluster.actions)
    for node in ("centos5s1", "centos5s2"):
        result, report = apply_once(cluster, manifests, node, ON_S1)
        assert result.plan.pending() == () and result.drift == [] and report is None
    assert cluster.actions == before


def test_moving_away_stops_in_the_exact_reverse_of_the_start_order(manifests: ManifestSet) -> None:
    cluster = new_cluster(manifests)
    converge(cluster, manifests, ON_S1)
    start = plan_on(cluster, manifests, "centos5s2", ON_S2)
    # The peer is still Primary: the new active node must not promote (never two Primaries).
    assert K.PROMOTE not in kinds(start.plan)
    assert any("Primary on the peer" in e for e in start.plan.errors)
    stop = plan_on(cluster, manifests, "centos5s1", ON_S2)
    stopped = kinds(stop.plan)
    assert stopped == [K.STOP_DOMAIN, K.UNMOUNT, K.DEMOTE]
    assert_dependencies_come_first(stop.plan)
    apply_once(cluster, manifests, "centos5s1", ON_S2)
    start = plan_on(cluster, manifests, "centos5s2", ON_S2)
    started = [k for k in kinds(start.plan) if k in (K.PROMOTE, K.MOUNT, K.START_DOMAIN)]
    assert started == [K.PROMOTE, K.MOUNT, K.START_DOMAIN]
    undoes = {K.STOP_DOMAIN: K.START_DOMAIN, K.UNMOUNT: K.MOUNT, K.DEMOTE: K.PROMOTE}
    assert [undoes[k] for k in stopped] == list(reversed(started))


def test_a_saved_plan_is_stale_when_the_node_or_the_manifests_change(manifests: ManifestSet) -> None:
    cluster = new_cluster(manifests)
    saved = plan_on(cluster, manifests, "centos5s1", ON_S1).plan
    same = plan_on(cluster, manifests, "centos5s1", ON_S1).plan
    check_fresh(saved, same.revision, same.observation_digest)  # nothing changed: fresh
    handle(cluster, "centos5s1", ("vgcreate", "virtvg", "/dev/hda"))
    changed = plan_on(cluster, manifests, "centos5s1", ON_S1).plan
    with pytest.raises(StalePlan, match="node changed"):
        check_fresh(saved, changed.revision, changed.observation_digest)
    with pytest.raises(StalePlan, match="manifests changed"):
        check_fresh(saved, Revision(content_hash="edited"), saved.observation_digest)
    assert saved.revision == REVISION


def test_plan_json_is_valid_against_the_committed_schema(manifests: ManifestSet) -> None:
    schema = json.loads((REPO / "schemas" / "plan-report.schema.json").read_text())
    for node in ("centos5s1", "centos5s2"):
        result = plan_on(new_cluster(manifests), manifests, node, ON_S1)
        document = json.loads(plan_report(result.plan, result.drift).model_dump_json())
        jsonschema.validate(document, schema)
        assert document["summary"]["to_start"] == len(result.plan.pending()) - 2  # the two file writes change


def test_a_transient_failure_is_retried(manifests: ManifestSet) -> None:
    cluster = new_cluster(manifests)
    cluster.faults.append(Fault(argv=["lvcreate"], times=1, exit_code=5, stderr="  Insufficient free space"))
    _, report = apply_once(cluster, manifests, "centos5s1", ON_S1)
    assert report is not None and report.ok
    (lv,) = [a for a in report.actions if a.kind is K.CREATE_LV]
    assert (lv.status, lv.attempts) == (ActionStatus.DONE, 2)


def test_a_hang_is_cut_by_the_timeout_and_blocks_what_depends_on_it(manifests: ManifestSet) -> None:
    cluster = new_cluster(manifests)
    cluster.faults.append(Fault(argv=["vgcreate"], kind=FaultKind.HANG, times=-1))
    _, report = apply_once(cluster, manifests, "centos5s1", ON_S1)
    assert report is not None and not report.ok
    status = {a.kind: a for a in report.actions}
    assert status[K.CREATE_VG].status is ActionStatus.FAILED and "timed out" in status[K.CREATE_VG].message
    assert status[K.CREATE_LV].status is ActionStatus.BLOCKED
    assert status[K.WRITE_FILE].status is ActionStatus.DONE  # independent of the VG
