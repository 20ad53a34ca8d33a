import os

import pytest

from helpers import FIXTURES

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@pytest.fixture(scope="session")
def nlp():
    from pipeline.config import load_settings
    from pipeline.stages import nlp_pipeline

    settings = load_settings(env={})
    return nlp_pipeline(settings.nlp)


@pytest.fixture()
def eutils_server():
    from pipeline.testing.loopback_eutils import LoopbackEutils

    server = LoopbackEutils.start(FIXTURES / "pubmed")
    yield server
    server.__exit__(None, None, None)
