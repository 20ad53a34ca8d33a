"""A loopback server that speaks the E-utilities protocol, for tests and offline demos.

It serves ``esearch.fcgi`` (Entrez-date filters, paging, the history server) and ``efetch.fcgi``
(by WebEnv/query_key or by id list) over real ``PubmedArticleSet`` XML loaded from fixture files.
Faults can be queued (HTTP 429 with Retry-After, 5xx, a truncated 200 body, a dropped connection)
to exercise the client's retries. Every query term matches every record: the fixture set *is* the
topic's literature.

Run it by hand::

    python -m pipeline.testing.loopback_eutils tests/fixtures/pubmed --port 8765
    EXOCLAIMS_EUTILS_URL=http://127.0.0.1:8765/entrez/eutils/ exoclaims run
"""

from __future__ import annotations

import argparse
import datetime as dt
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from lxml import etree

_DOCTYPE_SET = (
    '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
)
_DOCTYPE_SEARCH = (
    '<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
    '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
)
_MAX_RETSTART = 9998


@dataclass
class Fault:
    """One injected failure, consumed by the next matching request."""

    utility: str  # "esearch" or "efetch"
    status: int = 503
    retry_after: float | None = None
    truncate: bool = False  # answer 200 with half of the real body
    drop: bool = False  # close the connection without answering


@dataclass
class StoredRecord:
    pmid: str
    entrez_date: dt.date
    xml: bytes


@dataclass
class LoopbackState:
    records: dict[str, StoredRecord] = field(default_factory=dict)
    histories: dict[str, list[str]] = field(default_factory=dict)
    faults: deque = field(default_factory=deque)
    requests: list[tuple[str, dict]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _entrez_date(article: etree._Element) -> dt.date:
    for status in ("entrez", "pubmed"):
        node = article.find(f"PubmedData/History/PubMedPubDate[@PubStatus='{status}']")
        if node is not None:
            return dt.date(int(node.findtext("Year")), int(node.findtext("Month")), int(node.findtext("Day")))
    return dt.date(2000, 1, 1)


def load_records(xml: bytes) -> list[StoredRecord]:
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)
    root = etree.fromstring(xml, parser)
    out = []
    for article in root.findall("PubmedArticle"):
        pmid = article.findtext("MedlineCitation/PMID").strip()
        out.append(StoredRecord(pmid, _entrez_date(article), etree.tostring(article, encoding="utf-8")))
    return out


def _parse_date(value: str | None, default: dt.date) -> dt.date:
    if not value:
        return default
    parts = [int(p) for p in value.replace("-", "/").split("/")]
    while len(parts) < 3:
        parts.append(1)
    return dt.date(*parts[:3])


class _Handler(BaseHTTPRequestHandler):
    server: "LoopbackEutils"

    def log_message(self, format, *args):  # keep test output quiet
        pass

    def do_GET(self):
        self._handle(parse_qs(urlsplit(self.path).query))

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8")
        params = parse_qs(urlsplit(self.path).query)
        params.update(parse_qs(body))
        self._handle(params)

    def _handle(self, raw_params):
        params = {k: v[-1] for k, v in raw_params.items()}
        utility = urlsplit(self.path).path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".fcgi")
        state = self.server.state
        with state.lock:
            state.requests.append((utility, params))
            fault = next((f for f in state.faults if f.utility == utility), None)
            if fault is not None:
                state.faults.remove(fault)
        if fault is not None and fault.drop:
            self.close_connection = True
            self.connection.close()
            return
        if fault is not None and not fault.truncate:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            self._send(fault.status, b"<html><body>Service unavailable</body></html>", "text/html", headers)
            return
        if utility == "esearch":
            status, body = 200, self.server.esearch(params)
        elif utility == "efetch":
            status, body = self.server.efetch(params)
        else:
            status, body = 404, b"<ERROR>Unknown utility</ERROR>"
        if fault is not None and fault.truncate:
            body = body[: len(body) // 2]
        self._send(status, body, "text/xml; charset=UTF-8")

    def _send(self, status, body, content_type, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


class LoopbackEutils(ThreadingHTTPServer):
    """``with LoopbackEutils.start(fixture_dir) as server: ... server.base_url``."""

    daemon_threads = True

    def __init__(self, port: int = 0):
        super().__init__(("127.0.0.1", port), _Handler)
        self.state = LoopbackState()
        self._thread: threading.Thread | None = None

    @classmethod
    def start(cls, fixture_dir: Path | None = None, port: int = 0) -> "LoopbackEutils":
        server = cls(port)
        if fixture_dir is not None:
            for path in sorted(Path(fixture_dir).glob("*.xml")):
                server.add_xml(path.read_bytes())
        server._thread = threading.Thread(target=server.serve_forever, daemon=True)
        server._thread.start()
        return server

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/entrez/eutils/"

    def add_xml(self, xml: bytes, entrez_date: dt.date | None = None) -> list[str]:
        """Add (or replace) records; ``entrez_date`` overrides their Entrez date, e.g. "entered today"."""
        records = load_records(xml)
        with self.state.lock:
            for record in records:
                if entrez_date is not None:
                    record.entrez_date = entrez_date
                self.state.records[record.pmid] = record
        return [r.pmid for r in records]

    def inject(self, *faults: Fault) -> None:
        with self.state.lock:
            self.state.faults.extend(faults)

    def requests_for(self, utility: str) -> list[dict]:
        with self.state.lock:
            return [p for u, p in self.state.requests if u == utility]

    def esearch(self, params: dict) -> bytes:
        lo = _parse_date(params.get("mindate"), dt.date(1800, 1, 1))
        hi = _parse_date(params.get("maxdate"), dt.date(3000, 12, 31))
        with self.state.lock:
            matches = [r for r in self.state.records.values() if lo <= r.entrez_date <= hi]
            # PubMed lists newest entries first
            ids = [r.pmid for r in sorted(matches, key=lambda r: (r.entrez_date, int(r.pmid)), reverse=True)]
            webenv = query_key = None
            if params.get("usehistory") == "y":
                webenv, query_key = f"MCID_{uuid.uuid4().hex[:24]}", "1"
                self.state.histories[webenv] = ids
        retstart = int(params.get("retstart", 0))
        retmax = int(params.get("retmax", 20))
        if retstart > _MAX_RETSTART:
            return (_DOCTYPE_SEARCH + "<eSearchResult><ERROR>Search Backend failed: Exception:\n"
                    "'retstart' cannot be larger than 9998.</ERROR></eSearchResult>").encode()
        page = ids[retstart: retstart + min(retmax, 9999 - retstart)]
        history = f"<QueryKey>{query_key}</QueryKey><WebEnv>{webenv}</WebEnv>" if webenv else ""
        id_list = "".join(f"<Id>{i}</Id>\n" for i in page)
        return (
            f"{_DOCTYPE_SEARCH}<eSearchResult><Count>{len(ids)}</Count><RetMax>{len(page)}</RetMax>"
            f"<RetStart>{retstart}</RetStart>{history}<IdList>\n{id_list}</IdList><TranslationSet/>"
            f"<QueryTranslation>{params.get('term', '')}</QueryTranslation></eSearchResult>"
        ).encode("utf-8")

    def efetch(self, params: dict) -> tuple[int, bytes]:
        with self.state.lock:
            if "id" in params:
                ids = [i.strip() for i in params["id"].split(",") if i.strip()]
            else:
                history = self.state.histories.get(params.get("WebEnv", ""))
                if history is None:
                    return 400, b"<eFetchResult><ERROR>Unable to obtain query #1</ERROR></eFetchResult>"
                start = int(params.get("retstart", 0))
                ids = history[start: start + int(params.get("retmax", 20))]
            bodies = [self.state.records[i].xml for i in ids if i in self.state.records]
        return 200, _DOCTYPE_SET.encode() + b"<PubmedArticleSet>\n" + b"\n".join(bodies) + b"\n</PubmedArticleSet>\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fixtures", type=Path, help="directory of PubmedArticleSet XML files")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    server = LoopbackEutils(args.port)
    for path in sorted(args.fixtures.glob("*.xml")):
        server.add_xml(path.read_bytes())
    print(f"serving {len(server.state.records)} records at {server.base_url}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
