"""Monitor states on disk: round trip, absence, and every way a file can be unreadable."""

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reconciler.monitor.judge import CheckResult
from reconciler.monitor.policy import MonitorState, step
from reconciler.monitor.store import AppMonitorStates, MonitorStateError, MonitorStore
from tests.monitor.helpers import monitor

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def some_state() -> MonitorState:
    spec = monitor(type="fsmon", actions={0: "NOP", 1: "RESTART", 2: "PAUSE 30"})
    state = MonitorState()
    for minute, rc in ((0, 1), (1, 1), (2, 2)):
        state, _ = step(
            state, spec, CheckResult(rc=rc, detail="/virt is not mounted"), T0 + timedelta(minutes=minute)
        )
    return state


def test_round_trip(tmp_path: Path) -> None:
    store = MonitorStore(tmp_path / "monitors")
    states = AppMonitorStates(app="xapache").with_state("fsmonitor", some_state())
    assert store.save(states) is True
    assert store.load("xapache") == states
    assert store.save(states) is False  # unchanged: not rewritten
    assert stat.S_IMODE(store.path("xapache").stat().st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "monitors").iterdir()) == ["xapache.monitors.json"]


def test_nothing_saved_is_empty(tmp_path: Path) -> None:
    loaded = MonitorStore(tmp_path).load("xapache")
    assert loaded == AppMonitorStates(app="xapache")
    assert loaded.get("fsmonitor") == MonitorState()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "the document: Invalid JSON"),
        ('{"version": 2, "app": "xapache"}', "version: Input should be 1"),
        (
            '{"version": 1, "app": "xapache", "monitors": {"fs": {"restarts": ["yesterday"]}}}',
            "monitors.fs.restarts.0",
        ),
        ('{"version": 1, "app": "other"}', "holds the states of 'other', not 'xapache'"),
        (b"\xff\xfe", "cannot be read"),
    ],
)
def test_a_corrupt_file_is_an_error_naming_it(tmp_path: Path, content: str | bytes, reason: str) -> None:
    store = MonitorStore(tmp_path)
    path = store.path("xapache")
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(MonitorStateError) as caught:
        store.load("xapache")
    assert caught.value.path == path
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"{path}: not a readable monitor state: ")


def test_saved_file_is_plain_json(tmp_path: Path) -> None:
    store = MonitorStore(tmp_path)
    store.save(AppMonitorStates(app="xapache").with_state("fsmonitor", some_state()))
    data = json.loads(store.path("xapache").read_text())
    assert data["version"] == 1
    assert data["monitors"]["fsmonitor"]["restarts"] == ["2026-11-25T12:00:00Z", "2026-11-25T12:01:00Z"]


@pytest.mark.parametrize("app", ["", "../etc", "a/b", ".hidden"])
def test_an_app_name_cannot_leave_the_directory(tmp_path: Path, app: str) -> None:
    with pytest.raises(ValueError, match="cannot name a monitor state file"):
        MonitorStore(tmp_path).path(app)
