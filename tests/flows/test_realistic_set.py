"""The whole nightly flow against the realistic literature set (tests/fixtures/literature: 42 records copied from
public pages, what `make demo` serves): what a new user sees for the seed articles."""

import json

import duckdb
import pytest
from lxml import etree

from helpers import FIXTURES, make_settings

from flows.nightly import nightly
from pipeline.evaluation.verdicts import evaluate_database
from pipeline.testing.loopback_eutils import LoopbackEutils

RECORDS = FIXTURES / "literature" / "pubmed_records.xml"
LEVELS = {"high", "moderate", "low", "very low"}


@pytest.fixture(scope="module")
def realistic_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("realistic")
    server = LoopbackEutils.start(FIXTURES / "literature")
    try:
        settings = make_settings(tmp_path, server.base_url)
        counts = nightly(settings=settings)
    finally:
        server.__exit__(None, None, None)
    return settings, counts, tmp_path


def test_every_record_is_stored_and_every_seed_assertion_gets_a_verdict_from_the_set(realistic_run):
    settings, counts, tmp_path = realistic_run
    served = {p.text for p in etree.parse(str(RECORDS)).getroot().findall("PubmedArticle/MedlineCitation/PMID")}
    assert len(served) == 42 and counts.records_new == 42
    with duckdb.connect(str(settings.storage.db_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM fetch_failures").fetchone()[0] == 0
        stored = {r[0] for r in con.execute("SELECT pmid FROM pubmed_articles").fetchall()}
        assert stored == served
        assert con.execute("SELECT count(*) FROM pubmed_articles WHERE NOT has_abstract").fetchone()[0] == 4
        rows = con.execute("""SELECT article_id, sentence, verdict, pmids, reason, certainty_of_evidence
                              FROM verdicts""").fetchall()
    # seed article 001 is four glued articles; each has verdicts
    assert {r[0] for r in rows if r[0].startswith("001_")} == {f"001_0ac89671bc1565eb#{i}" for i in range(1, 5)}
    for article_id, sentence, verdict, pmids, reason, certainty in rows:
        assert reason, (article_id, sentence)
        assert set(pmids or ()) <= served, sentence  # every PMID a verdict names is a record of the set
        if verdict in ("supported", "supported only by preclinical evidence", "mixed", "contradicted"):
            assert pmids, sentence
        if verdict != "not checkable":
            assert certainty in LEVELS, sentence
    seed = [r for r in rows if r[0].startswith("001_")]
    assert len({r[2] for r in seed}) >= 3  # realistic literature gives more than one kind of answer
    assert sum(bool(r[3]) for r in seed) >= len(seed) // 2
    assert (tmp_path / "reports" / "evidence-report.html").stat().st_size > 10_000


def test_eval_verdicts_finds_article_quotes_in_the_run(realistic_run, tmp_path):
    settings, _, _ = realistic_run
    gold = tmp_path / "gold.jsonl"
    quotes = [("Exosomes contain a myriad of growth factors such as vascular endothelial growth factor (VEGF)",
               True, "supported only by preclinical evidence", "very low"),
              ("larger randomized clinical trials are necessary to establish definitive conclusions",
               True, "supported", "moderate")]
    gold.write_text("".join(json.dumps({"article": "001", "quote": q, "checkable": c, "verdict": v, "certainty": k,
                                        "supporting_pmids": [], "contradicting_pmids": [], "rationale": ""}) + "\n"
                            for q, c, v, k in quotes))
    result = evaluate_database(gold, settings.storage.db_path)
    assert result["matched"]["with_verdict"] == 2 and not result["unmatched"]
    assert all(r["article_id"].startswith("001_0ac89671bc1565eb#") for r in result["assertions"])
    assert result["certainty"]["n"] == 2


def test_links_carry_similarity_and_the_stance_models_probabilities(realistic_run):
    settings, _, _ = realistic_run
    with duckdb.connect(str(settings.storage.db_path), read_only=True) as con:
        links, without_similarity, per_assertion = con.execute("""
            SELECT count(*), count(*) FILTER (WHERE similarity IS NULL),
                   max(n) FROM (SELECT count(*) OVER (PARTITION BY article_claim_id) AS n, similarity
                                FROM evidence_links)""").fetchone()
        read = con.execute("""SELECT text_p_supports + text_p_contradicts + text_p_unrelated FROM evidence_links
                              WHERE text_stance IS NOT NULL""").fetchall()
    assert links > 0 and without_similarity == 0
    assert per_assertion <= 2 * settings.compare.max_candidates  # the candidates plus the field evidence, each bounded
    assert read and all(abs(total - 1.0) < 1e-3 for (total,) in read)
