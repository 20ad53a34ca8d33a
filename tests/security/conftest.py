"""Fixtures for the security tests: an E-utilities loopback that can echo the API key back the way
NCBI's invalid-key error does, and a temporary Prefect server whose database the tests can read."""

from __future__ import annotations

import json
from collections import deque

import pytest

from helpers import FIXTURES
from pipeline.testing.loopback_eutils import LoopbackEutils, _Handler


class _EchoingHandler(_Handler):
    """Answers a queued utility with an error body that quotes the API key the request carried.

    ``ncbi-400`` is NCBI's real answer to an invalid key (HTTP 400, JSON naming the key);
    ``error-200`` is an ``<ERROR>`` body that repeats the request, as some E-utilities errors do.
    """

    def _handle(self, raw_params):
        params = {k: v[-1] for k, v in raw_params.items()}
        utility = self.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1].removesuffix(".fcgi")
        server: EchoingEutils = self.server
        with server.state.lock:
            style = next((s for u, s in server.echoes if u == utility), None)
            if style is not None:
                server.echoes.remove((utility, style))
                server.state.requests.append((utility, params))
        key = params.get("api_key", "")
        if style is None:
            super()._handle(raw_params)
        elif style == "ncbi-400":
            body = json.dumps({"error": "API key invalid", "api-key": key, "type": "invalid", "status": "unknown"})
            self._send(400, body.encode(), "application/json")
        else:
            body = (f'<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch '
                    f'20060628//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
                    f"<eSearchResult><ERROR>Invalid request tool=exosome-claims&amp;api_key={key}</ERROR>"
                    f"</eSearchResult>")
            self._send(200, body.encode(), "text/xml")


class EchoingEutils(LoopbackEutils):
    """The project's loopback E-utilities server plus :meth:`echo_key_once`."""

    def __init__(self, port: int = 0):
        super().__init__(port)
        self.RequestHandlerClass = _EchoingHandler
        self.echoes: deque[tuple[str, str]] = deque()

    def echo_key_once(self, utility: str, style: str = "ncbi-400") -> None:
        """The next ``utility`` request gets an error body quoting its key (``ncbi-400`` or ``error-200``)."""
        assert style in ("ncbi-400", "error-200")
        with self.state.lock:
            self.echoes.append((utility, style))


@pytest.fixture()
def echoing_eutils():
    server = EchoingEutils.start(FIXTURES / "pubmed")
    yield server
    server.__exit__(None, None, None)


@pytest.fixture(scope="module")
def prefect_server():
    """A temporary Prefect server for one module; yields the path of its SQLite database."""
    import prefect.settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        url = prefect.settings.PREFECT_SERVER_DATABASE_CONNECTION_URL.value()
        yield url.split(":///", 1)[1]
