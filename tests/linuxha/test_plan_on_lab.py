"""The imported seed plans on the lab what the hand-written manifest plans, step for step.

Both manifest sets are converged on a fresh simulated two-node lab (the lab's simulator, as
`reconciler lab simulate` runs it), and every round's plan on every node is compared: the same
actions, in the same order, with the same commands. The one difference allowed is the one the
import documents (test_seed.py): <syncrate>10000</syncrate> is 10000 KiB/s exactly where the
hand-written manifest rounds it to 10 MiB/s, so the DRBD resource file says so.
"""

from pathlib import Path

from reconciler.lab.sim.rounds import RoundStep, converge, simulated_cluster
from reconciler.linuxha.importer import import_linuxha
from reconciler.manifest import load_manifests
from tests.conftest import REPO
from tests.linuxha.conftest import CLUSTER, seed_options, write

ACTIVE = {"xapache": "centos5s1"}


def _rounds(paths: list[Path]) -> list[tuple[int, str, list[tuple[str, str, tuple[str, ...], str]]]]:
    manifests = load_manifests(paths)
    cluster = simulated_cluster(manifests)
    steps: list[tuple[int, str, list[tuple[str, str, tuple[str, ...], str]]]] = []

    def seen(number: int, step: RoundStep) -> None:
        assert step.result is not None
        plan = step.result.plan
        actions = [
            (a.id, a.kind.value, a.do or (), a.write.content if a.write is not None else "")
            for a in plan.pending()
        ]
        steps.append((number, step.node, actions))

    assert converge(cluster, manifests, ACTIVE, seen=seen)
    return steps


def test_the_import_plans_what_the_hand_written_manifest_plans(seed_app: Path, tmp_path: Path) -> None:
    imported = write(import_linuxha(seed_options(seed_app)), tmp_path / "xapache.yaml")
    ours = _rounds([CLUSTER, imported])
    theirs = _rounds([REPO / "manifests"])
    assert [(n, node, [a[:3] for a in acts]) for n, node, acts in ours] == [
        (n, node, [a[:3] for a in acts]) for n, node, acts in theirs
    ]
    assert sum(len(acts) for _, _, acts in ours) > 10  # a whole build: storage, DRBD, mount, domain
    for (_, _, mine), (_, _, hand) in zip(ours, theirs, strict=True):
        for a, b in zip(mine, hand, strict=True):
            if a[3] != b[3]:
                assert a[0].endswith("write-file") and ".res" in a[0], a[0]
                assert a[3].replace("resync-rate 10000K;", "resync-rate 10M;") == b[3]
