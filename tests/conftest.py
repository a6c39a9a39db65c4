from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# CI clones the repository with shared/ beside it: ../shared/fixtures holds the captured outputs.
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"


@pytest.fixture
def shared_fixtures() -> Path:
    assert SHARED_FIXTURES.is_dir(), f"shared fixtures not found at {SHARED_FIXTURES}"
    return SHARED_FIXTURES
