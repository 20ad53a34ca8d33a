"""Read what the comparison needs from the store, once, and write back what it decided, once.

The comparison is recomputed from all stored claims whenever they changed (a new record can change the
verdict of an old assertion) and replaced in one transaction; ``comparison_state`` keeps the fingerprint of
its inputs so an unchanged store is not compared again. The deciding is :mod:`pipeline.compare.comparison`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import duckdb

from pipeline.compare import domain as domain_config
from pipeline.compare.comparison import MAX_HEADING_WORDS, Comparison, ComparisonInputs, is_heading
from pipeline.compare.evidence import LiteratureClaim, Similarities
from pipeline.compare.frames import RecordFacts
from pipeline.records import Claim
from pipeline.store.db import insert_rows
from pipeline.store.embeddings import claim_vectors

_CLAIM_COLUMNS = ("claim_id, source, doc_id, sentence_idx, sentence, claim_type, polarity, certainty, intervention, "
                  "outcome, direction, cues")


def _claim(row: Sequence) -> Claim:
    return Claim(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9], row[10],
                 tuple(row[11] or ()))


def article_claims(con: duckdb.DuckDBPyConnection) -> list[Claim]:
    rows = con.execute(f"SELECT {_CLAIM_COLUMNS} FROM claims WHERE source = 'article' "
                       "ORDER BY doc_id, sentence_idx").fetchall()
    return [_claim(r) for r in rows]


def literature_claims(con: duckdb.DuckDBPyConnection) -> list[LiteratureClaim]:
    """Claims of stored abstracts with their record's design, evidence level, population and journal."""
    columns = ", ".join(f"c.{c.strip()}" for c in _CLAIM_COLUMNS.split(","))
    rows = con.execute(f"""
        SELECT {columns}, p.pmid, coalesce(p.study_design, 'other'), coalesce(p.evidence_level, 8), p.population,
               coalesce(p.journal, ''), p.pub_year, coalesce(p.is_retracted, false)
        FROM claims c JOIN pubmed_articles p ON c.source = 'pubmed' AND p.pmid = c.doc_id
        ORDER BY p.pmid, c.sentence_idx""").fetchall()
    return [LiteratureClaim(_claim(r[:12]), *r[12:]) for r in rows]


def similarities(con: duckdb.DuckDBPyConnection, model_version: str) -> Similarities | None:
    """The stored embeddings of article and literature claim sentences; None when there are none (the
    comparison then falls back to the concept rules alone)."""
    articles, literature = claim_vectors(con, "article", model_version), claim_vectors(con, "pubmed", model_version)
    if not articles.claim_ids or not literature.claim_ids:
        return None
    return Similarities(articles.index(), articles.matrix, literature.index(), literature.matrix)


def journals(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT DISTINCT journal FROM pubmed_articles WHERE journal IS NOT NULL "
                                      "ORDER BY journal").fetchall()]


def stored_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute("SELECT inputs_sha256 FROM comparison_state").fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class ComparisonCounts:
    links: int
    verdicts: int
    conflicts: int


LINK_COLUMNS = ("article_claim_id", "literature_claim_id", "pmid", "stance", "score", "evidence_level", "design",
                "reason", "method", "text_stance", "text_probability", "similarity", "text_p_supports",
                "text_p_contradicts", "text_p_unrelated")
VERDICT_COLUMNS = ("claim_id", "verdict", "best_evidence_level", "best_design", "n_supports", "n_contradicts",
                   "n_unrelated", "supporting_pmids", "contradicting_pmids", "reason", "certainty", "key_pmids")
FRAME_COLUMNS = ("claim_id", "source", "checkable", "not_checkable_reason", "asserts", "outcomes", "population",
                 "intervention", "comparator", "long_term", "follow_up_weeks", "strength", "safety", "claims_studies",
                 "single_study", "pmid", "design", "sample_size", "controlled", "sponsor", "lacking",
                 "reviews_randomised", "finding", "domain_version", "statement", "condition")
_CHUNK_ROWS = 50_000


def read_inputs(con: duckdb.DuckDBPyConnection, model_version: str, articles: bool = True) -> ComparisonInputs:
    """Everything the comparison reads: both sides' claims, the journals, the concept ids of every sentence,
    each record's facts and, where the encoder ``model_version`` has embedded them, the claims' vectors. Without
    ``articles``, the literature side alone (no article claims, no similarities): what an article from
    elsewhere is checked against."""
    sources = "" if articles else "AND source = 'pubmed'"
    concepts = {(r[0], r[1], r[2]): tuple(r[3]) for r in con.execute(
        f"""SELECT source, doc_id, sentence_idx, list(DISTINCT concept_id) FROM entities
            WHERE concept_id IS NOT NULL {sources} GROUP BY ALL""").fetchall()}
    records = {r[0]: RecordFacts(r[0], r[1] or "other", r[2] or "", r[3] or "", r[4]) for r in con.execute(
        "SELECT pmid, study_design, title, abstract, sample_size FROM pubmed_articles").fetchall()}
    return ComparisonInputs(tuple(article_claims(con)) if articles else (), tuple(literature_claims(con)),
                            tuple(journals(con)), concepts, records,
                            similarities(con, model_version) if articles else None,
                            article_headings(con) if articles else {}, article_sentences(con) if articles else {})


def article_sentences(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, ...]]:
    """Per article, the text of every sentence, in order."""
    sentences: dict[str, list[str]] = {}
    for doc_id, text in con.execute(
            "SELECT doc_id, text FROM sentences WHERE source = 'article' ORDER BY doc_id, sentence_idx").fetchall():
        sentences.setdefault(doc_id, []).append(text)
    return {doc_id: tuple(lines) for doc_id, lines in sentences.items()}


def article_headings(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[tuple[int, str], ...]]:
    """Per article, its heading-like lines (:func:`pipeline.compare.comparison.is_heading`), in order."""
    headings: dict[str, list[tuple[int, str]]] = {}
    for doc_id, idx, text in con.execute(
            f"""SELECT doc_id, sentence_idx, text FROM sentences
                WHERE source = 'article' AND len(string_split(trim(text), ' ')) <= {MAX_HEADING_WORDS}
                ORDER BY doc_id, sentence_idx""").fetchall():
        if is_heading(text):
            headings.setdefault(doc_id, []).append((idx, text))
    return {doc_id: tuple(lines) for doc_id, lines in headings.items()}


def stored_counts(con: duckdb.DuckDBPyConnection) -> ComparisonCounts:
    """The rows the stored comparison holds."""
    return ComparisonCounts(*con.execute(
        """SELECT (SELECT count(*) FROM evidence_links), (SELECT count(*) FROM claim_verdicts),
                  (SELECT count(*) FROM article_conflict_pairs)""").fetchone())


def confirm_comparison(con: duckdb.DuckDBPyConnection, run_id: str | None) -> None:
    """Record that ``run_id`` found the stored comparison current (its inputs unchanged)."""
    con.execute("UPDATE comparison_state SET run_id = ?", [run_id])


def write_comparison(con: duckdb.DuckDBPyConnection, comparison: Comparison, fingerprint: str,
                     run_id: str | None = None) -> ComparisonCounts:
    """Replace every link, verdict, conflict and frame with ``comparison``'s, in one transaction; ``run_id`` is
    the run that made it."""
    con.execute("BEGIN TRANSACTION")
    try:
        for table in ("evidence_links", "claim_verdicts", "article_conflict_pairs", "comparison_state", "claim_frames"):
            con.execute(f"DELETE FROM {table}")
        n_links = 0
        for start in range(0, len(comparison.links), _CHUNK_ROWS):
            n_links += insert_rows(con, "evidence_links", LINK_COLUMNS, [
                (k.article_claim_id, k.literature_claim_id, k.pmid, k.stance, k.score, k.evidence_level, k.design,
                 k.reason, k.method, k.text_stance, k.text_probability, k.similarity,
                 *(k.text_probabilities or (None, None, None)))
                for k in comparison.links[start:start + _CHUNK_ROWS]])
        insert_rows(con, "claim_verdicts", VERDICT_COLUMNS,
                    [(v.claim_id, v.verdict, v.best_evidence_level, v.best_design, v.n_supports, v.n_contradicts,
                      v.n_unrelated, list(v.supporting_pmids), list(v.contradicting_pmids), v.reason, v.certainty,
                      list(v.key_pmids))
                     for v in comparison.verdicts])
        version = domain_config.load().version
        insert_rows(con, "claim_frames", FRAME_COLUMNS,
                    [(f.claim_id, "pubmed" if f.pmid else "article", f.checkable, f.not_checkable_reason, f.asserts,
                      list(f.outcomes), f.population, f.intervention, f.comparator, f.long_term, f.follow_up_weeks,
                      f.strength, f.safety, f.claims_studies, f.single_study, f.pmid, f.design, f.sample_size,
                      f.controlled, f.sponsor, f.lacking, f.reviews_randomised, f.finding, version, f.statement,
                      f.condition)
                     for f in comparison.frames.values()])
        insert_rows(con, "article_conflict_pairs", ("claim_id_a", "claim_id_b", "article_id_a", "article_id_b",
                                                    "reason"),
                    [(c.claim_id_a, c.claim_id_b, c.doc_id_a, c.doc_id_b, c.reason) for c in comparison.conflicts])
        con.execute("INSERT INTO comparison_state (inputs_sha256, compared_at, run_id) VALUES (?, now(), ?)",
                    [fingerprint, run_id])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return ComparisonCounts(n_links, len(comparison.verdicts), len(comparison.conflicts))
