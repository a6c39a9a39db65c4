from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Real tool outputs captured from public sources (tests/fixtures/SOURCES.md says where each came from).
FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES
