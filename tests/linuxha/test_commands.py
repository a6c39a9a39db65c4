"""linuxha.net's commands kept: clstat prints the seed's layout, column for column; the others
map onto the agent's commands."""

from datetime import UTC, datetime, timedelta
from typing import Any

from click.testing import CliRunner

from reconciler.linuxha.commands import clbuildapp, clstat, render_clstat
from tests.conftest import FIXTURES

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
    assert result.exit_code == 2 and "-A" in result.output
