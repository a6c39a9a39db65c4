"""The lab tests' shared fixture: the DRBD version a representative end-to-end test runs on."""

import pytest

from tests.lab.inlab import LAB_DRBD


@pytest.fixture(scope="module", params=LAB_DRBD, ids=[f"drbd{v}" for v in LAB_DRBD])
def drbd_version(request: pytest.FixtureRequest) -> str:
    """Each of `LAB_DRBD` in turn, for every test that asks (module scope: a module-scoped lab
    is built once per version)."""
    version: str = request.param
    return version
