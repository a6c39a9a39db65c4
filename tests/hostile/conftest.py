"""Hypothesis keeps its caches (the Unicode tables) out of the work tree: the property tests run
derandomized with no example database, so nothing there is worth keeping between runs."""

import os
import tempfile
from pathlib import Path

STORAGE = Path(tempfile.gettempdir()) / "reconciler-hypothesis"
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(STORAGE))
