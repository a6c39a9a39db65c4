"""`apply --initial-sync` (clbuildapp -sync) allows the first build of new volumes and nothing else."""

from dataclasses import replace

from reconciler.core.plan.model import ActionKind
from reconciler.core.reconcile import PassOptions, reconcile
from reconciler.lab.sim import rounds
from tests.core.test_cases import CASES
from tests.plan.seed import ON_S1, new_cluster, seed_manifests


def _kinds_after_bring_up(options: PassOptions) -> list[ActionKind]:
    """The seed on two fresh simulated nodes, brought up to 'resource up, Inconsistent' on both;
    then what centos5s1 plans with `options`."""
    manifests = seed_manifests()
    cluster = new_cluster(manifests)
    for node in ("centos5s1", "centos5s2"):
        rounds.apply_once(cluster, manifests, node, ON_S1, destructive=False)
    ctx = rounds.sim_context(cluster, manifests, "centos5s1", ON_S1, act=False, destructive=False)
    result = reconcile(replace(ctx, options=replace(options, act=False)))
    return [a.kind for a in result.plan.actions]


def test_the_initial_sync_and_mkfs_are_allowed_alone() -> None:
    kinds = _kinds_after_bring_up(PassOptions(allow_initial_sync=True))
    assert ActionKind.INITIAL_SYNC in kinds and ActionKind.MKFS in kinds


def test_without_it_the_initial_sync_is_refused() -> None:
    kinds = _kinds_after_bring_up(PassOptions())
    assert ActionKind.INITIAL_SYNC not in kinds and ActionKind.MKFS not in kinds


def test_it_does_not_discard_a_split_brain_victim() -> None:
    """The split brain's standby with --initial-sync: still refused, as without any permission;
    with --allow-destructive, its changes are discarded."""
    from tests.core.test_cases import load_case, run_case

    case = load_case(CASES / "split-brain-standby-running-refused")
    for initial, destructive in ((True, False), (False, True)):
        result, _ = run_case(replace(case, allow_initial_sync=initial, allow_destructive=destructive))
        kinds = [a.kind for a in result.plan.actions]
        assert (ActionKind.DISCARD_SPLIT_BRAIN in kinds) is destructive, kinds
