import pytest

from helpers import FIXTURES
from pipeline.config import PubmedSettings
from pipeline.pubmed.eutils import EutilsClient, EutilsError, EutilsUnavailable
from pipeline.pubmed.parse import parse_pubmed_xml
from pipeline.testing.loopback_eutils import Fault, LoopbackEutils


@pytest.fixture()
def server():
    server = LoopbackEutils.start(FIXTURES / "pubmed")
    yield server
    server.__exit__(None, None, None)


def _client(url, sleeps=None, **overrides):
    settings = PubmedSettings(queries=("q",), eutils_url=url, email="dev@example.org", backoff_s=0.01,
                              max_attempts=4, timeout_s=5, **overrides)
    return EutilsClient(settings, sleep=(sleeps.append if sleeps is not None else lambda s: None))


def test_esearch_history_and_efetch_by_webenv(server):
    client = _client(server.base_url)
    result = client.esearch("exosomes AND hair", retmax=100)
    assert result.count == 8 and len(result.ids) == 8 and result.webenv and result.query_key == "1"
    body = client.efetch(webenv=result.webenv, query_key=result.query_key, retstart=0, retmax=5)
    records, _ = parse_pubmed_xml(body)
    assert [r.pmid for r in records] == list(result.ids[:5])
    sent = server.requests_for("esearch")[0]
    assert sent["tool"] == "exosome-claims" and sent["email"] == "dev@example.org" and sent["usehistory"] == "y"


def test_esearch_entrez_date_filter(server):
    result = _client(server.base_url).esearch("x", mindate="2023/06/01", maxdate="2023/12/31", retmax=100)
    assert sorted(result.ids) == ["90000002", "90000005"]
    assert server.requests_for("esearch")[0]["datetype"] == "edat"


def test_retries_429_honouring_retry_after_then_5xx_then_truncated(server):
    server.inject(Fault("efetch", status=429, retry_after=7), Fault("efetch", status=502),
                  Fault("efetch", truncate=True))
    sleeps = []
    client = _client(server.base_url, sleeps)
    body = client.efetch(ids=["90000001", "90000002"], validate=parse_pubmed_xml)
    assert [r.pmid for r in parse_pubmed_xml(body)[0]] == ["90000001", "90000002"]
    assert sleeps[0] == 7.0 and len(sleeps) == 3
    assert len(server.requests_for("efetch")) == 4


def test_gives_up_with_a_clear_error(server):
    server.inject(*[Fault("efetch", status=503) for _ in range(4)])
    with pytest.raises(EutilsError, match="HTTP 503"):
        _client(server.base_url).efetch(ids=["90000001"])


def test_api_key_raises_rate_and_is_sent_in_the_body(server):
    client = _client(server.base_url, api_key="SECRET-KEY")
    assert client.settings.requests_per_second == 10
    client.esearch("x")
    assert server.requests_for("esearch")[0]["api_key"] == "SECRET-KEY"
    assert "SECRET-KEY" not in repr(client.settings)


def test_unreachable_host_names_the_host():
    with pytest.raises(EutilsUnavailable, match="127.0.0.1:9"):
        _client("http://127.0.0.1:9/entrez/eutils/").esearch("x")


@pytest.mark.parametrize("name, count", [("klortho_esearch.pubmed.xml", 15169), ("biopython_esearch2.xml", 42249)])
def test_real_esearch_responses_old_and_new_dtds(name, count):
    from helpers import shared_path
    from pipeline.pubmed.eutils import _read_esearch

    parsed = _read_esearch(shared_path("eutils-samples", "esearch", name).read_bytes())
    assert int(parsed["Count"]) == count and parsed["WebEnv"]


def test_error_body_is_an_eutils_error():
    from helpers import shared_path
    from pipeline.pubmed.eutils import _read_esearch

    with pytest.raises(EutilsError, match="Invalid db name"):
        _read_esearch(shared_path("eutils-samples", "esearch", "klortho_esearch.baderror.xml").read_bytes())
