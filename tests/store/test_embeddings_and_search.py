"""Sentence embeddings stored in a real DuckDB file, encoded once per text, and `exoclaims search` finding
records by meaning (tests/fixtures/literature: the realistic 42-record set)."""

import re
import xml.etree.ElementTree as ET

import duckdb
import pytest

from helpers import FIXTURES, make_settings
from pipeline import stages
from pipeline.cli import main
from pipeline.store import db
from pipeline.store.embeddings import claim_vectors
from pipeline.store.search import NoEmbeddings, search_literature

RECORDS = FIXTURES / "literature" / "pubmed_records.xml"
QUERIES = FIXTURES / "search" / "paraphrase_queries.tsv"


def _records():
    for article in ET.parse(RECORDS).getroot().iter("PubmedArticle"):
        title = "".join(article.find(".//ArticleTitle").itertext()).strip()
        abstract = " ".join("".join(part.itertext()) for part in article.iter("AbstractText"))
        sentences = [title] + [s for s in re.split(r"(?<=[.!?])\s+", abstract) if s.strip()]
        yield article.findtext(".//PMID"), title, [s for s in sentences if s]


def _store_literature(path, records) -> None:
    """The rows the NLP stage would write for these records, without running it."""
    con = db.connect(path)
    try:
        for pmid, title, sentences in records:
            con.execute("INSERT INTO pubmed_articles (pmid, title, study_design, pub_year) VALUES (?, ?, 'other', 2024)",
                        [pmid, title])
            for i, text in enumerate(sentences):
                con.execute("INSERT INTO sentences (source, doc_id, sentence_idx, text) VALUES ('pubmed', ?, ?, ?)",
                            [pmid, i, text])
    finally:
        con.close()


@pytest.fixture(scope="module")
def literature_db(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("search")
    settings = make_settings(tmp, "http://127.0.0.1:9/")
    _store_literature(settings.storage.db_path, _records())
    first = stages.embed_sentences(settings)
    return settings, first


def _queries():
    lines = [line.split("\t") for line in QUERIES.read_text().splitlines() if line and not line.startswith("#")]
    return [(q, pmid.strip()) for q, pmid in lines[1:]]


def test_every_stored_sentence_gets_one_vector_and_a_second_run_encodes_none(literature_db):
    settings, first = literature_db
    texts = {s for _, _, sentences in _records() for s in sentences}
    assert first.encoded == len(texts)
    assert stages.embed_sentences(settings).encoded == 0
    with duckdb.connect(str(settings.storage.db_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM sentence_embeddings").fetchone()[0] == len(texts)
        assert con.execute("SELECT count(*) FROM sentences WHERE text_sha256 IS NULL").fetchone()[0] == 0


def test_a_new_or_changed_sentence_is_the_only_one_encoded(tmp_path):
    settings = make_settings(tmp_path, "http://127.0.0.1:9/")
    records = list(_records())[:3]
    _store_literature(settings.storage.db_path, records)
    assert stages.embed_sentences(settings).encoded == len({s for _, _, ss in records for s in ss})
    con = db.connect(settings.storage.db_path)
    try:
        con.execute("UPDATE sentences SET text = 'A changed sentence about scalp vesicles.', text_sha256 = NULL "
                    "WHERE doc_id = ? AND sentence_idx = 1", [records[0][0]])
        con.execute("INSERT INTO sentences (source, doc_id, sentence_idx, text) VALUES ('pubmed', ?, 99, ?)",
                    [records[1][0], records[2][2][0]])  # a text already encoded, under another record
    finally:
        con.close()
    assert stages.embed_sentences(settings).encoded == 1


def test_texts_are_encoded_once_across_many_small_chunks(tmp_path):
    from dataclasses import replace
    settings = make_settings(tmp_path, "http://127.0.0.1:9/")
    settings = replace(settings, encoder=replace(settings.encoder, chunk=7))
    records = list(_records())[:5]
    _store_literature(settings.storage.db_path, records)
    texts = {s for _, _, ss in records for s in ss}
    assert len(texts) > 3 * 7
    assert stages.embed_sentences(settings).encoded == len(texts)
    with duckdb.connect(str(settings.storage.db_path), read_only=True) as con:
        assert con.execute("SELECT count(DISTINCT text_sha256), count(*) FROM sentence_embeddings").fetchone() == (
            len(texts), len(texts))


@pytest.mark.parametrize("query, pmid", _queries()[:8])
def test_search_finds_the_record_for_a_question_worded_unlike_its_abstract(literature_db, query, pmid):
    settings, _ = literature_db
    with duckdb.connect(str(settings.storage.db_path), read_only=True) as con:
        hits = search_literature(con, stages.encoder(settings), query, limit=5)
    assert pmid in [h.pmid for h in hits]
    assert [h.similarity for h in hits] == sorted((h.similarity for h in hits), reverse=True)
    assert len({h.pmid for h in hits}) == len(hits)  # one row per record


def test_search_command_prints_json_rows(literature_db, capsys, monkeypatch):
    settings, _ = literature_db
    monkeypatch.setenv("EXOCLAIMS_DB", str(settings.storage.db_path))
    assert main(["search", "Did anyone's facial skin die off after a vesicle shot into the dermis?",
                 "--limit", "3", "--format", "json"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["pmid"] == "90000014" and set(rows[0]) == {"pmid", "title", "study_design", "pub_year",
                                                               "sentence", "similarity"}


@pytest.mark.parametrize("text", ["Экзосомы стимулируют рост волос", "x" * 10_000, "毛发 生长", "?"])
def test_odd_queries_get_results_not_a_crash(literature_db, text):
    settings, _ = literature_db
    with duckdb.connect(str(settings.storage.db_path), read_only=True) as con:
        assert len(search_literature(con, stages.encoder(settings), text, limit=3)) == 3


def test_empty_query_and_unencoded_database_get_clear_messages(literature_db, tmp_path, capsys, monkeypatch):
    settings, _ = literature_db
    with duckdb.connect(str(settings.storage.db_path), read_only=True) as con:
        with pytest.raises(ValueError, match="empty"):
            search_literature(con, stages.encoder(settings), "   ")
    empty = make_settings(tmp_path, "http://127.0.0.1:9/")
    db.connect(empty.storage.db_path).close()
    monkeypatch.setenv("EXOCLAIMS_DB", str(empty.storage.db_path))
    assert main(["search", "hair growth"]) == 1
    assert "no sentence embeddings" in capsys.readouterr().err
    with duckdb.connect(str(empty.storage.db_path), read_only=True) as con:
        with pytest.raises(NoEmbeddings):
            search_literature(con, stages.encoder(settings), "hair growth")


def test_claim_vectors_join_claims_to_their_sentence_embeddings(literature_db):
    settings, _ = literature_db
    con = db.connect(settings.storage.db_path)
    try:
        pmid = next(_records())[0]
        con.execute("INSERT INTO claims (claim_id, source, doc_id, sentence_idx, sentence) "
                    "SELECT 'c1', 'pubmed', doc_id, sentence_idx, text FROM sentences WHERE doc_id = ? AND sentence_idx = 1",
                    [pmid])
        vectors = claim_vectors(con, "pubmed", stages.encoder(settings).version)
        con.execute("DELETE FROM claims WHERE claim_id = 'c1'")
    finally:
        con.close()
    assert vectors.claim_ids == ("c1",) and vectors.matrix.shape == (1, 384)
