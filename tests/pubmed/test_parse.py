import pytest

from helpers import FIXTURES, shared_path
from pipeline.pubmed.parse import MalformedResponse, parse_pubmed_xml


def _one(path):
    records, _ = parse_pubmed_xml(path.read_bytes())
    assert len(records) == 1
    return records[0]


def test_fixture_set_fields():
    records, deleted = parse_pubmed_xml((FIXTURES / "pubmed" / "exosome_hair_set1.xml").read_bytes())
    by_pmid = {r.pmid: r for r in records}
    assert deleted == []
    rct = by_pmid["90000001"]
    assert rct.journal == "Journal of Cosmetic Dermatology"
    assert rct.pub_year == 2024 and rct.doi == "10.1111/jocd.90001" and rct.pmcid == "PMC9900001"
    assert "Randomized Controlled Trial" in rct.pub_types
    assert [s.category for s in rct.abstract_sections] == ["BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS"]
    assert "RESULTS: ADSC-Exos significantly increased hair density (p<0.01)" in rct.abstract
    assert {m.descriptor for m in rct.mesh if m.major_topic} == {"Alopecia", "Exosomes"}
    # inline markup keeps its text
    assert by_pmid["90000003"].title.endswith("dermal papilla cells in vitro.")
    assert "Ki-67+ cells rose" in by_pmid["90000003"].abstract
    no_abstract = by_pmid["90000004"]
    assert not no_abstract.has_abstract and no_abstract.pub_date == "2021 Jan-Feb" and no_abstract.pub_year == 2021
    assert by_pmid["90000008"].is_retracted
    assert by_pmid["90000008"].comments_corrections[0].pmid == "90000099"


def test_structured_abstract_with_nlm_categories():
    record = _one(shared_path("eutils-samples", "efetch", "biopython_pubmed5.xml"))
    assert [s.category for s in record.abstract_sections] == ["OBJECTIVE", "METHODS", "RESULTS", "CONCLUSIONS"]
    assert "OR Q3 =4.15" not in record.abstract and "ORQ3=4.15" in record.abstract.replace(" ", "")


def test_markup_in_title_and_abstract_is_kept():
    record = _one(shared_path("eutils-samples", "efetch", "biopython_pubmed4.xml"))
    assert "TERT gene region" in record.title
    record = _one(shared_path("eutils-samples", "efetch", "biopython_pubmed6.xml"))
    assert record.title.startswith('A "Blood Relationship" Between')


def test_baseline_sample_medline_dates_retractions_and_deletions():
    records, deleted = parse_pubmed_xml(shared_path("eutils-samples", "efetch", "fatcat_pubmedsample_2019.xml").read_bytes())
    assert len(records) == 176 and len(deleted) == 7
    assert sum(not r.has_abstract for r in records) == 61
    dates = {r.pub_date: r.pub_year for r in records}
    assert dates["1998 Dec-1999 Jan"] == 1998 and dates["1993 Sep-Oct"] == 1993
    retracted = {r.pmid for r in records if r.is_retracted}
    assert {"8655018", "8863847", "11543891"} <= retracted


def test_old_http_dtd_and_book_articles():
    records, _ = parse_pubmed_xml(shared_path("eutils-samples", "efetch", "klortho_efetch.pubmed.xml").read_bytes())
    assert [r.pmid for r in records] == ["17284678", "9997"]
    book = _one(shared_path("eutils-samples", "efetch", "klortho_efetch.pubmedbook.xml"))
    assert book.is_book and book.pmid == "20301295" and book.has_abstract


def test_empty_set_is_not_an_error():
    body = b'<?xml version="1.0" ?>\n<PubmedArticleSet>\n</PubmedArticleSet>'
    assert parse_pubmed_xml(body) == ([], [])


@pytest.mark.parametrize(
    "body",
    [
        b"<html><head><title>PmFetch response</title></head><body><pre>oops</pre></body></html>",
        b"<eFetchResult><ERROR>Unable to obtain query #1</ERROR></eFetchResult>",
        (FIXTURES / "pubmed" / "exosome_hair_set1.xml").read_bytes()[:5000],
        b"",
    ],
    ids=["html", "error", "truncated", "empty"],
)
def test_unusable_bodies_raise(body):
    with pytest.raises(MalformedResponse):
        parse_pubmed_xml(body)


def test_external_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xxe = f"""<?xml version="1.0"?>
<!DOCTYPE PubmedArticleSet [<!ENTITY xxe SYSTEM "file://{secret}">]>
<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID Version="1">1</PMID>
<Article><ArticleTitle>&xxe;</ArticleTitle></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>""".encode()
    try:
        records, _ = parse_pubmed_xml(xxe)
    except MalformedResponse:
        return
    assert "TOP-SECRET" not in records[0].title
