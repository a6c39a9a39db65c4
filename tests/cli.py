"""Running `python -m reconciler` as a user does: a real process, its exit code and output."""

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def run(*args: str, stdin: str | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        input=stdin,
        timeout=120,
        check=False,
    )
