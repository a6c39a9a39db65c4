"""The hostile-input corpus (tests/hostile/corpus.py): every case ends with its expected exit
code, one clean message and no traceback, within a time bound.

Cases run in-process through `reconciler.cli.main` (the same group, the same handlers as the
installed command); a few run as real processes in test_cli_errors.py.
"""

import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from tests.hostile.corpus import Case, all_cases

CASES = all_cases()
SECONDS = 20.0  # per case; the slowest (a 300,000-character YAML line) takes about a second


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 300
    for command in ("validate", "--parse", "--observed", "import"):
        assert sum(command in case.argv for case in CASES) >= 30, command


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, data in case.files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RECONCILER_DEBUG", raising=False)
    started = time.monotonic()
    result = CliRunner().invoke(main, list(case.argv), input=case.stdin)
    elapsed = time.monotonic() - started
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "Traceback" not in output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in case.expect, output[-2000:]
    assert elapsed < SECONDS
    if result.exit_code == 1:
        assert output.strip(), "an error says what went wrong"
    assert os.getcwd() == str(tmp_path)
