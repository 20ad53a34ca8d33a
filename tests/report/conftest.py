"""A small real database for the report tests: the fixture PubMed records loaded by ``db.load_run``
(no NLP, no Prefect), plus one article claim that a record supports and one it contradicts."""

import dataclasses

import pytest

from helpers import FIXTURES

QUERY_A = "exosomes AND hair"
QUERY_B = "extracellular vesicles AND alopecia"


def fixture_records():
    from pipeline.pubmed.parse import parse_pubmed_xml

    records, _ = parse_pubmed_xml((FIXTURES / "pubmed" / "exosome_hair_set1.xml").read_bytes())
    return records


def load(con, run_id, records, query_pmids=None, deleted=()):
    from pipeline.store import db

    db.start_run(con, run_id)
    return db.load_run(con, db.RunResults(run_id=run_id, nlp_version="v1", records=list(records),
                                          deleted_pmids=list(deleted), query_pmids=query_pmids or {}))


@pytest.fixture()
def store(tmp_path):
    """Path of a database with the 8 fixture records found by two overlapping queries, and links."""
    from pipeline.store import db

    path = tmp_path / "exoclaims.duckdb"
    con = db.connect(path)
    records = fixture_records()
    pmids = sorted(r.pmid for r in records)
    load(con, "20260101T020000-aaaaaa", records, {QUERY_A: pmids, QUERY_B: pmids[:3]})
    con.execute("INSERT INTO articles (article_id, source, title) VALUES ('art1', 'a.txt', 'Exosomes {really} work')")
    con.execute("""INSERT INTO claims (claim_id, source, doc_id, sentence_idx, sentence, claim_type) VALUES
                   ('c-art', 'article', 'art1', 0, 'Exosomes regrow hair;
in every patient.', 'efficacy'),
                   ('c-lit1', 'pubmed', '90000001', 3, 'ADSC-Exos increased hair density.', 'efficacy'),
                   ('c-lit2', 'pubmed', '90000006', 5, 'Evidence in humans is lacking.', 'evidence')""")
    con.execute("""INSERT INTO evidence_links (article_claim_id, literature_claim_id, pmid, stance, score,
                       evidence_level, design, reason, method) VALUES
                   ('c-art', 'c-lit1', '90000001', 'supports', 1.0, 2, 'rct', 'same direction', 'facts'),
                   ('c-art', 'c-lit2', '90000006', 'contradicts', 1.0, 1, 'systematic_review', 'none', 'facts')""")
    con.execute("""INSERT INTO claim_verdicts (claim_id, verdict, supporting_pmids, contradicting_pmids, reason)
                   VALUES ('c-art', 'mixed', ['90000001'], ['90000006'], 'both')""")
    con.close()
    return path


@pytest.fixture()
def odd_record():
    """A record with everything that breaks exporters: braces, LaTeX specials, a line break, unicode,
    a collective author, no DOI, no year, no abstract."""
    base = fixture_records()[0]
    return dataclasses.replace(
        base, pmid="90000042", title="Exosomes {MSC-EVs} & 50% more hair_growth:\nα-catenin ~ $5 #1 ^2 \\ Müller",
        authors=("Müller-Lüdenscheidt H", "O'Brien JP", "Exosome {Hair} Study Group and Friends"), doi=None,
        pub_year=None, pub_date="", abstract_sections=(), keywords=("hair*growth",))
