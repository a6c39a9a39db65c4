"""The agents' failover, switchover and partition scenarios of `test_agents_in_lab` on DRBD 8.4.

The same scenarios, in the same order, in a lab made by `lab up --drbd 8.4`: the observer reads
/proc/drbd (8.4's format) instead of `drbdsetup status`, the resource files are 8.4's (checked by
drbd-utils' drbdadm-84 inside the nodes) and the initial sync is 8.4's
`drbdadm -- --overwrite-data-of-peer primary`. The other scenarios of that module do not depend
on DRBD's version and run on 9 only. Needs root (CI runs as root); never skipped.
"""

import os
from collections.abc import Iterator

import pytest

from reconciler.lab.inventory import Lab
from reconciler.lab.simstate import proc_drbd_file
from tests.lab import test_agents_in_lab as scenarios
from tests.lab.inlab import cli

VERSION = "8.4"


@pytest.fixture(scope="module", autouse=True)
def _need_root() -> None:
    assert os.geteuid() == 0, "the lab tests need root (network namespaces)"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    manifests = scenarios.monitored_manifests(tmp_path_factory)
    with scenarios.agents_lab(manifests, tmp_path_factory.mktemp("labs"), [VERSION]) as made:
        for node in (scenarios.N1, scenarios.N2):
            assert proc_drbd_file(made.dir, node).read_text().startswith(f"version: {VERSION}.")
        yield made


def test_power_off_fails_over_to_the_survivor_on_drbd84(lab: Lab) -> None:
    scenarios.test_power_off_fails_over_to_the_survivor(lab)


def test_operators_move_and_clear_on_drbd84(lab: Lab) -> None:
    # A graceful switchover back (demote, promote on 8.4), which also gives the partition below a
    # lease taken with both nodes in contact, as in test_agents_in_lab's order.
    scenarios.test_operators_move_and_clear(lab)


def test_a_heartbeat_partition_never_runs_it_twice_on_drbd84(lab: Lab) -> None:
    scenarios.test_a_heartbeat_partition_never_runs_it_twice(lab)


def test_lab_status_shows_each_nodes_drbd_and_toolstack(lab: Lab) -> None:
    status = cli(lab.root, "status", "--id", lab.id)
    assert status.returncode == 0, status.stderr
    for node in (scenarios.N1, scenarios.N2):
        assert f"  {node}  8.4.11    xm" in status.stdout, status.stdout
