"""The decision log: one JSON line per change, not per pass; the recent ones kept for explain."""

import io
import json
from pathlib import Path

from reconciler.agent.decisions import DecisionLog, DecisionRecord


def test_only_changes_are_logged(tmp_path: Path) -> None:
    stream = io.StringIO()
    log = DecisionLog(tmp_path / "decisions.jsonl", stream)
    same = DecisionRecord(node="n1", app="xapache", what="run", why="stays on n1, where it runs")
    assert log.changed(same)
    assert not log.changed(same.model_copy())
    assert log.changed(DecisionRecord(node="n1", app="xapache", what="stop", why="moved"))
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["what"] for line in lines] == ["run", "stop"]
    assert (tmp_path / "decisions.jsonl").read_text() == stream.getvalue()
    assert [d.what for d in log.recent("xapache")] == ["run", "stop"]
    assert log.recent("other") == []


def test_a_reason_that_only_counts_on_is_not_a_new_decision(tmp_path: Path) -> None:
    log = DecisionLog(None, io.StringIO())
    assert log.changed(
        DecisionRecord(node="n2", app="a", what="run", why="n1 silent on every link for 1.1 s")
    )
    assert not log.changed(
        DecisionRecord(node="n2", app="a", what="run", why="n1 silent on every link for 1.3 s")
    )
    assert log.changed(DecisionRecord(node="n2", app="a", what="run", why="stays on n2, where it runs"))
