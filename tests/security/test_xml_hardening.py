"""Hostile XML from (something posing as) E-utilities: external entities must not read local files or
reach the network, entity bombs must not expand, and real NCBI responses, DOCTYPE and all, still parse.

Both XML readers are covered: the lxml efetch parser (``pipeline.pubmed.parse``) and Biopython's expat
parser behind ``EutilsClient.esearch``. A local HTTP server stands in for an attacker's host and
records every request it gets."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from helpers import FIXTURES, shared_path
from pipeline.config import PubmedSettings
from pipeline.pubmed.eutils import EutilsClient, EutilsError
from pipeline.pubmed.parse import MalformedResponse, parse_pubmed_xml

SECRET_FILE_TEXT = "TOP-SECRET-FILE-CONTENT"
REMOTE_TEXT = "LEAKED-OVER-HTTP"
NCBI_DOCTYPE = ('<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
                '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd"')
ESEARCH_DOCTYPE = ('<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
                   '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd"')


class _Attacker(ThreadingHTTPServer):
    """Serves a DTD declaring ``&leak;`` and plain text under /evil/, and ``esearch_body`` as esearch."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _AttackerHandler)
        self.hits: list[str] = []
        self.esearch_body = b""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _AttackerHandler(BaseHTTPRequestHandler):
    server: _Attacker

    def log_message(self, *args):
        pass

    def _reply(self):
        if self.path.startswith("/evil/"):
            self.server.hits.append(self.path)
            body = (f'<!ENTITY leak "{REMOTE_TEXT}">' if self.path.endswith(".dtd") else REMOTE_TEXT).encode()
        else:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = self.server.esearch_body
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _reply


@pytest.fixture(scope="module")
def attacker():
    server = _Attacker()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@pytest.fixture()
def secret_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text(SECRET_FILE_TEXT)
    return path


def _article_set(title: str, doctype: str = "") -> bytes:
    return f"""<?xml version="1.0"?>
{doctype}
<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID Version="1">1</PMID>
<Article><ArticleTitle>{title}</ArticleTitle><Abstract><AbstractText>Before {title} after.</AbstractText></Abstract>
</Article></MedlineCitation></PubmedArticle></PubmedArticleSet>""".encode()


# billion laughs: ten entities, each ten of the one before, 10**10 "lol"s once &lol9; is expanded
LAUGHS = '<!ENTITY lol0 "lol">' + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
# quadratic blowup: one 50 kB entity referenced 20 000 times (1 GB), no nesting for a depth limit to catch
BLOWUP, BLOWUP_REFS = f'<!ENTITY a "{"a" * 50_000}">', "&a;" * 20_000


def _all_text(records) -> str:
    return repr(records)


# --- the efetch parser (lxml) ---------------------------------------------------------------------------


def _efetch_payloads(attacker_url: str, secret_path) -> dict[str, bytes]:
    def with_subset(title: str, subset: str) -> bytes:
        return _article_set(title, f"<!DOCTYPE PubmedArticleSet [{subset}]>")

    return {
        "file-entity": with_subset("&xxe;", f'<!ENTITY xxe SYSTEM "file://{secret_path}">'),
        "http-entity": with_subset("&xxe;", f'<!ENTITY xxe SYSTEM "{attacker_url}/evil/x">'),
        "parameter-entity": with_subset("&leak;", f'<!ENTITY % dtd SYSTEM "{attacker_url}/evil/p.dtd"> %dtd;'),
        "billion-laughs": with_subset("&lol9;", LAUGHS),
        "quadratic-blowup": with_subset(BLOWUP_REFS, BLOWUP),
    }


@pytest.mark.parametrize("payload", ["file-entity", "http-entity", "parameter-entity", "billion-laughs",
                                     "quadratic-blowup"])
def test_efetch_parser_refuses_entity_declarations_quickly(attacker, secret_file, payload):
    body = _efetch_payloads(attacker.url, secret_file)[payload]
    attacker.hits.clear()
    started = time.monotonic()
    with pytest.raises(MalformedResponse) as raised:
        parse_pubmed_xml(body)
    assert time.monotonic() - started < 2
    assert SECRET_FILE_TEXT not in str(raised.value) and REMOTE_TEXT not in str(raised.value)
    assert attacker.hits == []


def test_efetch_parser_does_not_load_an_external_dtd_or_xinclude(attacker, secret_file):
    attacker.hits.clear()
    xinclude = (f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://{secret_file}" parse="text"/>'
                f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{attacker.url}/evil/inc" parse="text"/>')
    for body in (_article_set("A &leak; B", f'<!DOCTYPE PubmedArticleSet SYSTEM "{attacker.url}/evil/ext.dtd">'),
                 _article_set(f"A {xinclude} B", "")):
        records, _ = parse_pubmed_xml(body)  # no entity is declared in the document itself: it parses
        assert records[0].pmid == "1" and records[0].title.startswith("A")
        assert SECRET_FILE_TEXT not in _all_text(records) and REMOTE_TEXT not in _all_text(records)
    assert attacker.hits == []


def test_ncbi_responses_with_their_doctype_still_parse():
    fixture = (FIXTURES / "pubmed" / "exosome_hair_set1.xml").read_bytes()
    assert b"<!DOCTYPE PubmedArticleSet PUBLIC" in fixture[:300]
    records, _ = parse_pubmed_xml(fixture)
    assert len(records) == 8
    # the old http:// DTD of archived responses too
    old = fixture.replace(b"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd",
                          b"http://www.ncbi.nlm.nih.gov/corehtml/query/DTD/pubmed_130101.dtd")
    assert len(parse_pubmed_xml(old)[0]) == 8


def test_real_ncbi_efetch_samples_with_doctypes_still_parse():
    samples = [p for p in sorted(shared_path("eutils-samples", "efetch").glob("*.xml"))
               if b"<!DOCTYPE PubmedArticleSet" in p.read_bytes()[:500]]
    assert len(samples) >= 10
    for path in samples:
        parse_pubmed_xml(path.read_bytes())


# --- esearch (Biopython's Entrez parser) ----------------------------------------------------------------


def _esearch(subset: str, query: str) -> bytes:
    doctype = ESEARCH_DOCTYPE + (f" [{subset}]" if subset else "") + ">"
    return (f'<?xml version="1.0" encoding="UTF-8" ?>\n{doctype}\n<eSearchResult><Count>1</Count><RetMax>1</RetMax>'
            f"<RetStart>0</RetStart><IdList><Id>90000001</Id></IdList><TranslationSet/>"
            f"<QueryTranslation>{query}</QueryTranslation></eSearchResult>").encode()


def _esearch_client(attacker: _Attacker) -> EutilsClient:
    settings = PubmedSettings(queries=("q",), eutils_url=f"{attacker.url}/entrez/eutils/", backoff_s=0.01,
                              max_attempts=1, timeout_s=5)
    return EutilsClient(settings, sleep=lambda s: None)


@pytest.mark.parametrize("payload", ["file-entity", "http-entity", "ncbi-relative-entity", "parameter-entity",
                                     "billion-laughs", "quadratic-blowup", "utf16-file-entity"])
def test_esearch_reader_refuses_entity_declarations_quickly(attacker, secret_file, payload, monkeypatch):
    downloads = []  # Biopython fetches DTDs and entities it lacks with urllib
    monkeypatch.setattr("Bio.Entrez.Parser.urlopen", lambda url, *a, **k: downloads.append(url) or 1 / 0)
    bodies = {
        "file-entity": _esearch(f'<!ENTITY xxe SYSTEM "file://{secret_file}">', "&xxe;"),
        "http-entity": _esearch(f'<!ENTITY xxe SYSTEM "{attacker.url}/evil/x">', "&xxe;"),
        # a relative SYSTEM id would make Biopython download it from www.ncbi.nlm.nih.gov
        "ncbi-relative-entity": _esearch('<!ENTITY xxe SYSTEM "secret.txt">', "&xxe;"),
        "parameter-entity": _esearch(f'<!ENTITY % dtd SYSTEM "{attacker.url}/evil/p.dtd"> %dtd;', "&leak;"),
        "billion-laughs": _esearch(LAUGHS, "&lol9;"),
        "quadratic-blowup": _esearch(BLOWUP, BLOWUP_REFS),
        # a byte search for "<!ENTITY" would miss this one
        "utf16-file-entity": _esearch(f'<!ENTITY xxe SYSTEM "file://{secret_file}">', "&xxe;")
        .decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"),
    }
    attacker.esearch_body = bodies[payload]
    attacker.hits.clear()
    started = time.monotonic()
    with pytest.raises(EutilsError) as raised:
        _esearch_client(attacker).esearch("exosomes")
    assert time.monotonic() - started < 2
    assert SECRET_FILE_TEXT not in str(raised.value) and REMOTE_TEXT not in str(raised.value)
    assert attacker.hits == [] and downloads == []


def test_esearch_reader_still_reads_real_responses(attacker):
    attacker.esearch_body = _esearch("", "exosomes[All Fields]")
    result = _esearch_client(attacker).esearch("exosomes")
    assert result.count == 1 and result.ids == ("90000001",)


def test_esearch_reader_still_reads_real_ncbi_samples(attacker):
    for path in sorted(shared_path("eutils-samples", "esearch").glob("*.xml")):
        if b"<ERROR>" not in path.read_bytes():
            attacker.esearch_body = path.read_bytes()
            assert _esearch_client(attacker).esearch("x").count >= 0
