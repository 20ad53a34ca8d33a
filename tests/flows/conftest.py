import pytest
from prefect.testing.utilities import prefect_test_harness


@pytest.fixture(scope="session", autouse=True)
def prefect_harness():
    """One temporary Prefect server and database for the whole test session."""
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="module")
def eutils_server_module():
    """A loopback E-utilities server shared by a module's tests (for reference runs computed once)."""
    from helpers import FIXTURES
    from pipeline.testing.loopback_eutils import LoopbackEutils

    server = LoopbackEutils.start(FIXTURES / "pubmed")
    yield server
    server.__exit__(None, None, None)
