"""linuxha.net's commands kept: clstat prints the seed's layout, column for column; the others
map onto the agent's commands."""

from datetime import UTC, datetime, timedelta
from typing import Any

import click
import pytest
from click.testing import CliRunner

from reconciler.commands.applying import apply_command
from reconciler.commands.selection import only_apps
from reconciler.core.placement import StaticPlacement
from reconciler.core.reconcile import PassContext, PassOptions, reconcile
from reconciler.execute import NullJournal, ReadOnlyHost
from reconciler.linuxha.commands import clbuildapp, clstat, render_clstat
from reconciler.manifest import load_manifests
from reconciler.observe.node import HostFiles, observe_node
from reconciler.observe.runner import ReplayRunner
from tests.conftest import FIXTURES
from tests.core.test_cases import CASES as CORE_CASES
from tests.core.test_cases import REVISION, TAKEN_AT, load_case, load_results

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def _app(node: str | None, started_ago: int = 0) -> dict[str, Any]:
    since = (NOW - timedelta(seconds=started_ago)).isoformat()
    return {
        "node": node,
        "since": since,
        "monitors": {"failing": [], "paused": []},
        "failover_allowed": True,
    }


def test_clstat_prints_the_seed_layout() -> None:
    """The four applications of the seed's clstat output, as our agent's status gives them."""
    status = {
        "cluster": "centos5",
        "nodes": {"centos5s1": {"up": True}, "centos5s2": {"up": True}},
        "applications": {
            "apache": _app("centos5s2", 1),
            "mysql": _app(None),
            "oracle-xe": _app(None),
            "samba": _app("centos5s2", 0),
        },
    }
    expected = (FIXTURES / "linuxha" / "clstat-four-apps.txt").read_text().splitlines()
    ours = render_clstat(status, NOW).splitlines()
    assert len(ours) == len(expected)
    # Every line is the seed's, character for character, but apache's: the seed itself puts its
    # node one column left of samba's, also STARTED on centos5s2 (13 characters of name column
    # on every other row). Read by fields, as scripts read clstat, it is the same row.
    for line, seed in zip(ours, expected, strict=True):
        if seed.startswith("  apache "):
            assert line.split() == seed.split()
            assert line == seed[:14] + " " + seed[14:]
        else:
            assert line == seed


def test_clstat_says_when_a_node_is_down_and_counts_uptime_in_hours() -> None:
    status = {
        "cluster": "c",
        "nodes": {"a": {"up": True}, "b": {"up": False}},
        "applications": {"web": {**_app("a", 3 * 3600 + 62), "failover_allowed": False}},
    }
    lines = render_clstat(status, NOW).splitlines()
    assert lines[0] == "Cluster: c - UP"
    assert lines[4] == "b              DOWN"
    assert lines[-1] == "  web          a          STARTED 3:01:02  Running    0      No"


def test_clstat_without_an_agent_is_a_clear_error(monkeypatch: Any, tmp_path: Any) -> None:
    monkeypatch.setenv("RECONCILER_AGENT_SOCKET", str(tmp_path / "none.sock"))
    result = CliRunner().invoke(clstat, [])
    assert result.exit_code == 1
    assert "no agent listens" in result.output


def test_clbuildapp_needs_an_application() -> None:
    result = CliRunner().invoke(clbuildapp, [])
    assert result.exit_code == 1 and "-A" in result.output


def test_clbuildapp_applies_app_only_and_sync_allows_its_destructive_steps(monkeypatch: Any) -> None:
    ran: list[list[str]] = []
    monkeypatch.setattr(apply_command, "main", lambda args, prog_name: ran.append(args))
    CliRunner().invoke(clbuildapp, ["-A", "xapache", "--manifests", "manifests"])
    CliRunner().invoke(clbuildapp, ["-A", "xapache", "-sync", "--manifests", "manifests"])
    assert ran == [
        ["manifests", "--app", "xapache"],
        ["manifests", "--app", "xapache", "--initial-sync"],
    ]


def test_apply_app_holds_every_other_application() -> None:
    """`apply --app xapache` plans for xapache only: xweb, active on the peer, is held."""
    case = load_case(CORE_CASES / "two-apps-one-each")
    manifests = load_manifests([case.path / "manifests"])
    source = only_apps(StaticPlacement(case.placement), manifests, ("xapache",))
    assert dict(source.placement(manifests).active) == {"xapache": "centos5s1"}
    runner = ReplayRunner(load_results(case.path / "observed"))
    ctx = PassContext(
        manifests=manifests,
        revision=REVISION,
        node=case.node,
        host=ReadOnlyHost(runner),
        placement=source,
        journal=NullJournal(),
        options=PassOptions(act=False),
        observed=observe_node(runner, HostFiles(), now=TAKEN_AT),
        clock=lambda: TAKEN_AT,
    )
    result = reconcile(ctx)
    assert [a.name for a in result.round.desired.apps] == ["xapache"]
    assert {a.app for a in result.plan.actions} <= {"xapache"}


def test_apply_app_names_an_unknown_application() -> None:
    manifests = load_manifests([CORE_CASES / "two-apps-one-each" / "manifests"])
    with pytest.raises(
        click.ClickException, match=r"no application nosuch in the manifests \(declared: xapache, xweb"
    ):
        only_apps(StaticPlacement({}), manifests, ("nosuch",))
    assert only_apps(StaticPlacement({}), manifests, ()) == StaticPlacement({})
