import collections
import datetime as dt
import gzip
import hashlib
import re

from lxml import etree

from helpers import make_settings
from pipeline.compare.study_design import classify_study
from pipeline.pubmed.archive import ResponseArchive
from pipeline.pubmed.bulk import bulk_files, iter_file_batches
from pipeline.pubmed.eutils import EutilsClient
from pipeline.pubmed.harvest import Harvester
from pipeline.pubmed.parse import parse_pubmed_xml
from pipeline.testing.loopback_eutils import LoopbackEutils
from pipeline.testing.synthetic import (DEFAULT_START_PMID, FOOTER, HEADER, add_to_loopback, main, synthetic_articles,
                                        write_pubmed_set)

_TOKEN = re.compile(r"\w+|[^\w\s]")


def _records(articles):
    records, _ = parse_pubmed_xml(HEADER + b"".join(articles) + FOOTER)
    return records


def _entrez_date(article: bytes) -> dt.date:
    node = etree.fromstring(article).find("PubmedData/History/PubMedPubDate[@PubStatus='entrez']")
    return dt.date(*(int(node.findtext(t)) for t in ("Year", "Month", "Day")))


def test_same_seed_same_records_other_seed_other_records(tmp_path):
    assert list(synthetic_articles(40, seed=3)) == list(synthetic_articles(40, seed=3))
    assert list(synthetic_articles(10, seed=3)) == list(synthetic_articles(40, seed=3))[:10]
    titles = [r.title for r in _records(synthetic_articles(40, seed=3))]
    assert titles != [r.title for r in _records(synthetic_articles(40, seed=4))]
    one = write_pubmed_set(tmp_path / "a" / "pubmed25n0001.xml.gz", synthetic_articles(40, seed=3))
    two = write_pubmed_set(tmp_path / "b" / "pubmed25n0001.xml.gz", synthetic_articles(40, seed=3))
    assert one.read_bytes() == two.read_bytes()  # no timestamp in the gzip header
    md5 = hashlib.md5(one.read_bytes()).hexdigest()
    assert (tmp_path / "a" / "pubmed25n0001.xml.gz.md5").read_text() == f"MD5(pubmed25n0001.xml.gz)= {md5}\n"


def test_records_parse_with_realistic_abstracts_and_metadata():
    records = _records(synthetic_articles(400))
    assert [r.pmid for r in records] == [str(p) for p in range(DEFAULT_START_PMID, DEFAULT_START_PMID + 400)]
    with_abstract = [r for r in records if r.has_abstract]
    assert 0.8 < len(with_abstract) / len(records) < 0.97  # editorials and some others have none
    lengths = [len(_TOKEN.findall(r.abstract)) for r in with_abstract]
    assert sum(190 <= n <= 260 for n in lengths) / len(lengths) > 0.95
    structured = sum(len(r.abstract_sections) > 1 for r in with_abstract)
    assert 0.3 < structured / len(with_abstract) < 0.8
    assert any(s.label and s.category is None for r in with_abstract for s in r.abstract_sections)  # Label only
    assert {r.pub_year for r in records} == set(range(2010, 2026))
    assert any(not r.pub_date[:4].isdigit() or "-" in r.pub_date for r in records)  # MedlineDate forms
    assert sum(bool(r.mesh) for r in records) / len(records) > 0.7
    assert len({r.journal for r in records}) > 10 and all(r.authors and r.title for r in records)
    assert any("hair" in r.abstract and "exosome" in r.abstract.lower() for r in records)
    raw = b"".join(synthetic_articles(400))
    assert b"<i>in vitro</i>" in raw and b"Ki-67<sup>+</sup>" in raw
    assert not any(tag in r.title + r.abstract for r in records for tag in ("<i>", "<sup>", "&lt;"))
    assert any("in vitro" in r.title for r in records) and any("Ki-67+ cells" in r.abstract for r in records)
    retracted = _records(synthetic_articles(2000))
    assert 0 < sum(r.is_retracted for r in retracted) < 40


def test_study_designs_vary_like_a_literature_search():
    records = _records(synthetic_articles(400))
    designs = collections.Counter(classify_study(r).design for r in records)
    for design in ("rct", "non_randomised_clinical", "case_series_or_report", "animal", "in_vitro",
                   "systematic_review", "narrative_review"):
        assert designs[design] >= 8, designs
    pub_types = {t for r in records for t in r.pub_types}
    assert {"Randomized Controlled Trial", "Case Reports", "Review", "Systematic Review", "Editorial"} <= pub_types


def test_a_revision_is_the_same_record_corrected():
    from pipeline.testing.synthetic import synthetic_article

    original, revised = _records([synthetic_article(91000005), synthetic_article(91000005, revision=1)])
    assert revised.title == original.title and revised.abstract == original.abstract
    assert revised.date_revised > original.date_revised
    assert [c.ref_type for c in revised.comments_corrections][-1] == "ErratumIn"


def test_set_files_with_deletions_last(tmp_path):
    path = write_pubmed_set(tmp_path / "update.xml", synthetic_articles(3), deletions=[91000001, "91000002"], gz=False)
    records, deleted = parse_pubmed_xml(path.read_bytes())
    assert len(records) == 3 and deleted == ["91000001", "91000002"]
    assert path.read_bytes().rstrip().endswith(b"</DeleteCitation>\n</PubmedArticleSet>")
    gz = write_pubmed_set(tmp_path / "update.xml.gz", synthetic_articles(3), deletions=[91000001])
    assert parse_pubmed_xml(gzip.decompress(gz.read_bytes())) == (records, ["91000001"])


def test_loopback_serves_the_same_records_by_entrez_date(tmp_path):
    articles = list(synthetic_articles(150))
    server = LoopbackEutils.start()
    try:
        pmids = add_to_loopback(server, articles, chunk=40)
        assert pmids == [str(p) for p in range(DEFAULT_START_PMID, DEFAULT_START_PMID + 150)]
        settings = make_settings(tmp_path, server.base_url)
        harvester = Harvester(EutilsClient(settings.pubmed), ResponseArchive(tmp_path / "raw", "run1"), settings.pubmed)
        window = harvester.harvest(settings.pubmed.queries, dt.date(2015, 1, 1), dt.date(2017, 6, 30))
    finally:
        server.__exit__(None, None, None)
    expected = {r.pmid: r for r, a in zip(_records(articles), articles)
                if dt.date(2015, 1, 1) <= _entrez_date(a) <= dt.date(2017, 6, 30)}
    assert 10 < len(expected) < 50
    assert window.records == expected


def test_cli_writes_nlm_layout_that_loads_to_the_loopback_state(tmp_path, capsys):
    main([str(tmp_path), "--records", "120", "--files", "3", "--updates", "2", "--loopback"])
    files = bulk_files(tmp_path)
    assert [(f.kind, f.number) for f in files] == [("baseline", 1), ("baseline", 2), ("baseline", 3),
                                                   ("update", 4), ("update", 5)]
    state, deleted = {}, 0
    for bulk_file in files:
        for batch in iter_file_batches(bulk_file, size=50):
            state.update((r.pmid, r) for r in batch.records)
            for pmid in batch.deleted_pmids:
                deleted += state.pop(pmid, None) is not None
    final, _ = parse_pubmed_xml((tmp_path / "loopback" / "synthetic.xml").read_bytes())
    assert deleted == 2 and state == {r.pmid: r for r in final} and len(state) == 120 - 2 + 2 * 6
    assert sum(bool(r.comments_corrections) and r.comments_corrections[-1].ref_type == "ErratumIn"
               for r in final) >= 2  # revised in an update
    assert "pipeline.testing.loopback_eutils" in capsys.readouterr().out
