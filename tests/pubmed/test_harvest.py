import datetime as dt
import gzip
import hashlib

import pytest

from helpers import FIXTURES, make_settings
from pipeline.pubmed.archive import ResponseArchive
from pipeline.pubmed.eutils import EutilsClient
from pipeline.pubmed.harvest import Harvester
from pipeline.pubmed.parse import parse_pubmed_xml
from pipeline.testing.loopback_eutils import LoopbackEutils


def _many_records(n: int) -> bytes:
    xml = (FIXTURES / "pubmed" / "exosome_hair_set1.xml").read_bytes()
    head, rest = xml.split(b"<PubmedArticle>", 1)
    first = b"<PubmedArticle>" + rest.split(b"</PubmedArticle>", 1)[0] + b"</PubmedArticle>\n"
    body = b"".join(first.replace(b"90000001", str(80000000 + i).encode()) for i in range(n))
    return head + body + b"</PubmedArticleSet>\n"


@pytest.mark.slow  # scale: a result set past the 10k retrieval limit
def test_large_result_sets_are_split_by_date_and_nothing_is_cut_off(tmp_path):
    server = LoopbackEutils.start()
    try:
        server.add_xml(_many_records(25))
        # spread the records over 25 days
        for i, record in enumerate(sorted(server.state.records.values(), key=lambda r: r.pmid)):
            record.entrez_date = dt.date(2024, 1, 1) + dt.timedelta(days=i)
        settings = make_settings(tmp_path, server.base_url, max_ids_per_search=7, batch_size=4, api_key="KEY-123")
        archive = ResponseArchive(tmp_path / "raw", "run1")
        harvester = Harvester(EutilsClient(settings.pubmed), archive, settings.pubmed)
        result = harvester.harvest(settings.pubmed.queries, None, dt.date(2024, 12, 31))
        assert len(result.records) == 25 and not result.failed
        history_searches = [p for p in server.requests_for("esearch") if p.get("usehistory") == "y"]
        assert len(history_searches) >= 4 and all(int(p["retmax"]) <= 7 for p in history_searches)
        # every raw response archived, checksummed, and without the API key
        for entry in archive.entries:
            raw = gzip.open(entry["path"]).read()
            assert hashlib.sha256(raw).hexdigest() == entry["sha256"]
            assert "api_key" not in entry["request"] and b"KEY-123" not in raw
        efetched = [gzip.open(e["path"]).read() for e in archive.entries if e["utility"] == "efetch"]
        assert sum(len(parse_pubmed_xml(body)[0]) for body in efetched) == 25
    finally:
        server.__exit__(None, None, None)
