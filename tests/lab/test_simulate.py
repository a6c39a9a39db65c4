"""`reconciler lab simulate`: the example manifests tried on the simulated pair, no host needed."""

from click.testing import CliRunner

from reconciler.lab.simulate import simulate_command
from tests.conftest import REPO


def test_the_seed_converges_and_shows_every_round() -> None:
    result = CliRunner().invoke(simulate_command, [str(REPO / "manifests"), "--allow-destructive"])
    assert result.exit_code == 0, result.output
    assert "round 1, centos5s1: 6 action(s)" in result.output
    assert (
        "done     xapache/drbd:xapache-lv01/initial-sync: drbdadm primary --force xapache-lv01"
        in result.output
    )
    assert "  xapache      centos5s1  STARTED  centos5s1:Primary centos5s2:Secondary" in result.output
    # 8 GiB at the declared 10 MiB/s: the initial sync takes its 13.65 simulated minutes.
    assert "Converged after 13.7 simulated minutes." in result.output


def test_without_the_flag_the_initial_sync_is_refused_and_nothing_converges() -> None:
    result = CliRunner().invoke(simulate_command, [str(REPO / "manifests"), "--rounds", "3"])
    assert result.exit_code == 1
    assert "refused  xapache: xapache-lv01 holds no good data on either node" in result.output
    assert "  xapache      N/A        DOWN" in result.output
    assert "Not converged" in result.output
