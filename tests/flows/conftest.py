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


@pytest.fixture(scope="session")
def first_run_template(tmp_path_factory):
    """One nightly run over the 8 fixture records and the seed articles (``make_settings`` paths), kept as a
    template: the database, the raw-response archive, the exports and the report."""
    from helpers import FIXTURES, make_settings
    from flows.nightly import nightly
    from pipeline.testing.loopback_eutils import LoopbackEutils

    template = tmp_path_factory.mktemp("first-run")
    with LoopbackEutils.start(FIXTURES / "pubmed") as server:
        nightly(settings=make_settings(template, server.base_url))
    return template


@pytest.fixture()
def after_first_run(first_run_template, tmp_path):
    """``tmp_path`` as one nightly run left it (a copy of the template): tests of what the next run does start
    here instead of each running the first run again. Use ``make_settings(tmp_path, ...)`` as usual."""
    import shutil

    shutil.copytree(first_run_template, tmp_path, dirs_exist_ok=True)
    return tmp_path
