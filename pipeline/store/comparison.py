"""Read the claims the comparison stage needs from the store and write back what it decided.

The comparison is recomputed from all stored claims whenever they changed (a new record can change
the verdict of an old assertion) and replaced in one transaction; ``comparison_state`` keeps the
fingerprint of its inputs so an unchanged store is not compared again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import duckdb

from pipeline.claims.frames import Frame, RecordFacts, RecordFrame, assertion_frame, evidence_frame, record_frame
from pipeline.compare import domain as domain_config
from pipeline.compare.evidence import EvidenceLink, LiteratureClaim, Similarities
from pipeline.compare.verdicts import ArticleConflict, ClaimVerdict
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


def inputs_fingerprint(articles: Sequence[Claim], literature: Sequence[LiteratureClaim], method_version: str) -> str:
    digest = hashlib.sha256(method_version.encode())
    for claim in articles:
        digest.update(f"{claim.claim_id}\x1f{claim.claim_type}\x1f{claim.polarity}\n".encode())
    for lit in literature:
        digest.update(f"{lit.claim.claim_id}\x1f{lit.design}\x1f{lit.evidence_level}\x1f{lit.is_retracted}\n".encode())
    return digest.hexdigest()


def stored_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute("SELECT inputs_sha256 FROM comparison_state").fetchone()
    return row[0] if row else None


def claim_frames(con: duckdb.DuckDBPyConnection, articles: Iterable[Claim],
                 literature: Iterable[LiteratureClaim]) -> dict[str, Frame]:
    """The frame of every article and literature claim (pipeline/claims/frames.py), from the claims, the concept
    ids found in their sentences and their records; an article claim that names no intervention is taken to be
    about the family the comparison folds together (the topic of the articles: "this therapy")."""
    concepts = {(r[0], r[1], r[2]): tuple(r[3]) for r in con.execute(
        """SELECT source, doc_id, sentence_idx, list(DISTINCT concept_id) FROM entities
           WHERE concept_id IS NOT NULL GROUP BY ALL""").fetchall()}
    records = {r[0]: RecordFacts(r[0], r[1] or "other", r[2] or "", r[3] or "", r[4]) for r in con.execute(
        "SELECT pmid, study_design, title, abstract, sample_size FROM pubmed_articles").fetchall()}
    topic = domain_config.load().same_intervention
    frames = {}
    for claim in articles:
        frames[claim.claim_id] = assertion_frame(
            claim, concepts.get((claim.source, claim.doc_id, claim.sentence_idx), ()), topic)
    whole: dict[str, RecordFrame] = {}  # what each record says as a whole, read once for all its claims
    for lit in literature:
        claim = lit.claim
        record = records.get(lit.pmid) or RecordFacts(lit.pmid, lit.design)
        if lit.pmid not in whole:
            whole[lit.pmid] = record_frame(record)
        frames[claim.claim_id] = evidence_frame(claim, record, concepts.get((claim.source, claim.doc_id,
                                                                              claim.sentence_idx), ()),
                                                whole_record=whole[lit.pmid])
    return frames


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
                 "reviews_randomised", "finding", "domain_version")
_CHUNK_ROWS = 50_000


def replace_comparison(con: duckdb.DuckDBPyConnection,
                       judged: Iterable[tuple[Sequence[EvidenceLink], ClaimVerdict | None]],
                       conflicts: Sequence[ArticleConflict], fingerprint: str,
                       frames: Mapping[str, Frame] | None = None) -> ComparisonCounts:
    """Replace every link, verdict and conflict in one transaction. ``judged`` yields each article claim's
    links with its verdict (None for claims that get none); links are written as they come, so memory
    holds a few thousand links, not all of them."""
    n_links, verdicts, pending = 0, [], []
    con.execute("BEGIN TRANSACTION")
    try:
        for table in ("evidence_links", "claim_verdicts", "article_conflict_pairs", "comparison_state", "claim_frames"):
            con.execute(f"DELETE FROM {table}")
        for links, verdict in judged:
            pending.extend((k.article_claim_id, k.literature_claim_id, k.pmid, k.stance, k.score, k.evidence_level,
                            k.design, k.reason, k.method, k.text_stance, k.text_probability, k.similarity,
                            *(k.text_probabilities or (None, None, None))) for k in links)
            if len(pending) >= _CHUNK_ROWS:
                n_links += insert_rows(con, "evidence_links", LINK_COLUMNS, pending)
                pending = []
            if verdict is not None:
                verdicts.append(verdict)
        n_links += insert_rows(con, "evidence_links", LINK_COLUMNS, pending)
        insert_rows(con, "claim_verdicts", VERDICT_COLUMNS,
                    [(v.claim_id, v.verdict, v.best_evidence_level, v.best_design, v.n_supports, v.n_contradicts,
                      v.n_unrelated, list(v.supporting_pmids), list(v.contradicting_pmids), v.reason, v.certainty,
                      list(v.key_pmids))
                     for v in verdicts])
        if frames:
            version = domain_config.load().version
            insert_rows(con, "claim_frames", FRAME_COLUMNS,
                        [(f.claim_id, "pubmed" if f.pmid else "article", f.checkable, f.not_checkable_reason, f.asserts,
                          list(f.outcomes), f.population, f.intervention, f.comparator, f.long_term, f.follow_up_weeks,
                          f.strength, f.safety, f.claims_studies, f.single_study, f.pmid, f.design, f.sample_size,
                          f.controlled, f.sponsor, f.lacking, f.reviews_randomised, f.finding, version)
                         for f in frames.values()])
        insert_rows(con, "article_conflict_pairs", ("claim_id_a", "claim_id_b", "article_id_a", "article_id_b",
                                                    "reason"),
                    [(c.claim_id_a, c.claim_id_b, c.doc_id_a, c.doc_id_b, c.reason) for c in conflicts])
        con.execute("INSERT INTO comparison_state VALUES (?, now())", [fingerprint])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return ComparisonCounts(n_links, len(verdicts), len(conflicts))
