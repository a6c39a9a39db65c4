"""The journal file: one valid JSON object per line, for every command and the run's begin and end."""

import json
import stat
from datetime import datetime, timedelta
from pathlib import Path

from reconciler.execute import Journal, execute
from reconciler.observe.runner import CommandResult
from tests.execute.fakes import FAST, ScriptedHost, action, fail, ok, plan, probe


def read_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_journal_lines_are_json_with_every_field(tmp_path: Path) -> None:
    path = tmp_path / "state" / "journal.jsonl"
    host = ScriptedHost(
        {
            ("test", "a"): [fail(1), ok("yes\n")],
            ("do", "a"): [fail(5, stdout="\n".join(f"line {i}" for i in range(30)), stderr="busy\n"), ok()],
        }
    )
    p = plan(action("a", check=probe("test", "a"), verify=probe("test", "a")))
    report = execute(p, host, Journal(path), settings=FAST)
    lines = read_lines(path)
    assert [line["type"] for line in lines] == [
        "plan",
        "command",
        "command",
        "command",
        "command",
        "action",
        "plan",
    ]

    begin, end = lines[0], lines[-1]
    assert begin["event"] == "begin" and end["event"] == "end"
    assert begin["node"] == "alpha" and begin["digest"] == "d1gest"
    assert begin["revision"] == {"commit": "abc123", "dirty": False, "content_hash": "c0ffee"}
    assert end["result"] == "succeeded" and end["counts"] == {"done": 1}
    assert {line["run"] for line in lines} == {report.run}

    check, first, second, verify = lines[1:5]
    assert [c["phase"] for c in (check, first, second, verify)] == ["check", "do", "do", "verify"]
    assert (first["attempt"], second["attempt"]) == (1, 2)
    assert first["action"] == "a" and first["kind"] == "create-lv" and first["argv"] == ["do", "a"]
    assert (first["outcome"], first["exit"], second["outcome"], second["exit"]) == ("failed", 5, "ok", 0)
    stdout = str(first["stdout"]).splitlines()
    assert stdout[0] == "line 10" and stdout[-1] == "line 29" and len(stdout) == 20
    assert first["stderr"] == "busy"
    assert (check["holds"], verify["holds"], first["holds"]) == (False, True, None)
    for record in (check, first, second, verify):
        start = datetime.fromisoformat(str(record["start"]))
        end_time = datetime.fromisoformat(str(record["end"]))
        assert start.utcoffset() == timedelta(0)
        assert start <= end_time and isinstance(record["seconds"], float)
    assert lines[5]["status"] == "done" and lines[5]["attempts"] == 2
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_journal_appends_across_runs(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    host = ScriptedHost({("do", "a"): [ok()]})
    first = execute(plan(action("a")), host, Journal(path), settings=FAST)
    second = execute(plan(action("a")), host, Journal(path), settings=FAST)
    runs = [line["run"] for line in read_lines(path)]
    assert runs == [first.run] * 4 + [second.run] * 4 and first.run != second.run


def test_interrupted_run_is_journaled(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"

    def interrupt(argv: tuple[str, ...]) -> CommandResult:
        raise KeyboardInterrupt

    host = ScriptedHost({("do", "a"): [ok()], ("do", "b"): interrupt})
    try:
        execute(plan(action("a"), action("b", "a")), host, Journal(path), settings=FAST)
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the interrupt was swallowed")
    end = read_lines(path)[-1]
    assert (end["type"], end["event"], end["result"], end["counts"]) == (
        "plan",
        "end",
        "interrupted",
        {"done": 1},
    )
