"""The DuckDB store: connection, run bookkeeping and the one transactional load per run.

A run writes each batch of analysed documents in one transaction (a document and everything derived from
it are replaced together), then its bookkeeping and watermark in a last one: a run killed half-way leaves
every document either as it was or fully updated, and the next run, repeating the same search window, finds
the finished batches unchanged and does only the rest. Re-loading the same results changes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import duckdb

from pipeline.compare.study_design import classify_study, classify_text, rules_version
from pipeline.nlp.lexicon import ConceptLexicon
from pipeline.records import AnalysedDoc, Article, PubmedRecord
from pipeline.store.locking import DatabaseBusy, wait_for_unlock
from pipeline.store.migrations import apply_migrations

log = logging.getLogger(__name__)

DERIVED_TABLES = ("sentences", "entities", "claims")


class StoreError(RuntimeError):
    """The database file cannot be used (corrupt, foreign, locked by another run)."""


LOCK_WAIT_S = 120  # how long a stage waits for an analyst's query (or another reader) to let go of the file


def connect(path: Path | str, read_only: bool = False, wait_s: float = LOCK_WAIT_S) -> duckdb.DuckDBPyConnection:
    """Open (and migrate) the pipeline's DuckDB file, with a clear error for unusable files.

    A file locked by another process is waited for up to ``wait_s`` seconds (logged), then refused
    with a :class:`StoreError` naming the process."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = wait_for_unlock(lambda: duckdb.connect(str(path), read_only=read_only), path, wait_s, log.warning)
    except DatabaseBusy as exc:
        raise StoreError(f"{path} is in use by another process: {exc}") from exc
    except duckdb.IOException as exc:
        message = str(exc)
        if "lock" in message.lower():
            raise StoreError(f"{path} is in use by another process (is a run already going?): {message}") from exc
        raise StoreError(f"{path} is not a usable DuckDB database: {message}") from exc
    except duckdb.Error as exc:
        raise StoreError(f"{path} is not a usable DuckDB database: {exc}") from exc
    if not read_only:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if tables and "schema_migrations" not in tables:
            con.close()
            raise StoreError(f"{path} is a DuckDB file of another application (no schema_migrations table)")
        apply_migrations(con)
    return con


def content_hash(obj) -> str:
    payload = json.dumps(dataclasses.asdict(obj), sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# -- runs ---------------------------------------------------------------------------------------

RUN_STATUSES = ("running", "succeeded", "failed", "abandoned")


def start_run(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Record a new run; runs left 'running' by a killed process are marked 'abandoned', their ``error``
    naming the stage they stopped in."""
    con.execute("""UPDATE runs SET status = 'abandoned', finished_at = now(),
                       error = coalesce(error || '; ', '') || 'stopped during ' || coalesce(stage, 'an unrecorded stage')
                               || ' (killed, or its machine went down); marked abandoned by run ' || ?
                   WHERE status = 'running'""", [run_id])
    con.execute("INSERT INTO runs (run_id, started_at, status) VALUES (?, now(), 'running')", [run_id])


def enter_stage(con: duckdb.DuckDBPyConnection, run_id: str, stage: str) -> None:
    """Record that a running run has entered ``stage``."""
    con.execute("UPDATE runs SET stage = ? WHERE run_id = ?", [stage, run_id])


def fail_run(con: duckdb.DuckDBPyConnection, run_id: str, error: str) -> None:
    """Close a run that raised: 'failed', with the stage it was in before the error."""
    con.execute("""UPDATE runs SET status = 'failed', finished_at = now(),
                       error = coalesce(stage || ': ', '') || ? WHERE run_id = ?""", [error, run_id])


def close_run(con: duckdb.DuckDBPyConnection, run_id: str, status: str, error: str | None = None) -> None:
    """Write a run's final status once every stage is done: 'succeeded', or 'failed' when a source could not
    be read (the stages still ran on what could be)."""
    if status not in RUN_STATUSES[1:]:
        raise ValueError(f"not a final run status: {status}")
    con.execute("UPDATE runs SET status = ?, finished_at = now(), error = ? WHERE run_id = ?", [status, error, run_id])


def last_watermark(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The Entrez-date watermark of the last run whose PubMed harvest completed."""
    row = con.execute("SELECT max(watermark) FROM runs WHERE watermark IS NOT NULL").fetchone()
    return row[0]


def pending_failures(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT pmid FROM fetch_failures ORDER BY pmid").fetchall()]


def stored_versions(con: duckdb.DuckDBPyConnection, table: str, key: str,
                    keys: Sequence[str] | None = None) -> dict[str, tuple[str, str]]:
    """key → (content_sha256, nlp_version) for incremental processing; only ``keys`` when given."""
    sql = f"SELECT {key}, content_sha256, nlp_version FROM {table}"
    if keys is None:
        rows = con.execute(sql).fetchall()
    else:
        rows = con.execute(f"{sql} WHERE {key} IN (SELECT unnest(?::VARCHAR[]))", [list(keys)]).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


# -- loading ------------------------------------------------------------------------------------

def _column_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?", [table]
    ).fetchall()
    return dict(rows)


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], rows: Sequence[Sequence]) -> int:
    """Bulk insert by passing each column as one list parameter (far faster than executemany)."""
    if not rows:
        return 0
    types = _column_types(con, table)
    cols = list(zip(*rows))
    select = ", ".join(f"unnest(${i + 1}::{types[c]}[])" for i, c in enumerate(columns))
    con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select}", [list(c) for c in cols])
    return len(rows)


def _delete_docs(con: duckdb.DuckDBPyConnection, source: str, doc_ids: Iterable[str]) -> None:
    ids = list(doc_ids)
    if not ids:
        return
    for table in DERIVED_TABLES:
        con.execute(f"DELETE FROM {table} WHERE source = ? AND list_contains(?, doc_id)", [source, ids])


def _article_row(a: Article, nlp_version: str, run_id: str) -> tuple:
    return (a.article_id, a.source, a.title, a.raw_text, a.text, a.folded_chars, content_hash(a), nlp_version, run_id)


ARTICLE_COLUMNS = ("article_id", "source", "title", "raw_text", "text", "folded_chars", "content_sha256",
                   "nlp_version", "updated_run_id")
PUBMED_COLUMNS = ("pmid", "version", "title", "abstract", "abstract_sections", "journal", "pub_year", "pub_date",
                  "authors", "doi", "pmcid", "language", "pub_types", "mesh_terms", "mesh_major_terms", "mesh_ids",
                  "keywords", "comments_corrections", "is_retracted", "has_abstract", "is_book", "date_revised",
                  "content_sha256", "nlp_version", "first_run_id", "updated_run_id",
                  "study_design", "evidence_level", "population", "sample_size", "design_signal", "design_rules")


def _pubmed_row(r: PubmedRecord, nlp_version: str, first_run: str, run_id: str) -> tuple:
    design = classify_study(r)
    return (
        r.pmid, r.version, r.title, r.abstract,
        json.dumps([dataclasses.asdict(s) for s in r.abstract_sections]),
        r.journal, r.pub_year, r.pub_date, list(r.authors), r.doi, r.pmcid, list(r.language), list(r.pub_types),
        [m.descriptor for m in r.mesh], [m.descriptor for m in r.mesh if m.major_topic],
        [m.ui for m in r.mesh if m.ui], list(r.keywords),
        json.dumps([dataclasses.asdict(c) for c in r.comments_corrections]),
        r.is_retracted, r.has_abstract, r.is_book, r.date_revised, content_hash(r), nlp_version, first_run, run_id,
        design.design, design.evidence_level, design.population, design.sample_size, design.signal,
        rules_version(),
    )


def refresh_study_designs(con: duckdb.DuckDBPyConnection) -> int:
    """Decide again, from the stored columns, the design of every record whose design was decided by other
    study-design rules than the running code's (an upgrade, or a database from before migration 7), in one
    transaction; returns how many records were decided again."""
    version = rules_version()
    rows = con.execute("""SELECT pmid, title, abstract, pub_types, mesh_terms FROM pubmed_articles
                          WHERE design_rules IS DISTINCT FROM ?""", [version]).fetchall()
    if not rows:
        return 0
    decided = [(pmid, *dataclasses.astuple(classify_text(title or "", abstract or "", pub_types or [],
                                                        mesh_terms or [])))
               for pmid, title, abstract, pub_types, mesh_terms in rows]
    columns = list(zip(*decided))  # pmid, design, evidence_level, population, sample_size, signal
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("""
            UPDATE pubmed_articles AS p SET study_design = d.design, evidence_level = d.level,
                population = d.population, sample_size = d.size, design_signal = d.signal, design_rules = ?
            FROM (SELECT unnest(?::VARCHAR[]) AS pmid, unnest(?::VARCHAR[]) AS design, unnest(?::INTEGER[]) AS level,
                         unnest(?::VARCHAR[]) AS population, unnest(?::INTEGER[]) AS size,
                         unnest(?::VARCHAR[]) AS signal) AS d
            WHERE p.pmid = d.pmid""", [version, *map(list, columns)])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return len(decided)


@dataclass
class RunResults:
    """Everything one run hands to the store. :func:`load_run` writes it in one transaction; the nightly flow
    writes the analysed documents batch by batch (:func:`load_batch`) and the rest with :func:`record_load`."""

    run_id: str
    nlp_version: str
    articles: list[Article] = field(default_factory=list)  # all ingested; unchanged ones are skipped
    records: list[PubmedRecord] = field(default_factory=list)  # all fetched; unchanged ones are skipped
    analysed: list[AnalysedDoc] = field(default_factory=list)
    deleted_pmids: list[str] = field(default_factory=list)
    failed_pmids: dict[str, str] = field(default_factory=dict)
    fetched_pmids: list[str] = field(default_factory=list)  # resolves earlier failures
    raw_responses: list[dict] = field(default_factory=list)
    records_found: int = 0
    query_pmids: dict[str, list[str]] = field(default_factory=dict)  # query → PMIDs it returned (PRISMA)
    search_from: dt.date | None = None
    watermark: dt.date | None = None  # None when the PubMed harvest did not complete


@dataclass(frozen=True)
class LoadCounts:
    records_new: int
    records_updated: int
    records_unchanged: int
    records_deleted: int
    articles_loaded: int
    claims_loaded: int


@dataclass(frozen=True)
class LoadPlan:
    """What a run has to write: the documents whose content or NLP version changed since they were stored
    (only these go through NLP), and how the records compare with the stored ones."""

    articles: list[Article]
    records: list[PubmedRecord]
    records_new: int
    records_updated: int
    records_unchanged: int


def plan_load(con: duckdb.DuckDBPyConnection, articles: Sequence[Article], records: Sequence[PubmedRecord],
              nlp_version: str) -> LoadPlan:
    """Compare ingested documents with the stored ones: identical content already processed by the same NLP
    version is neither analysed nor rewritten, so re-runs change nothing."""
    stored = stored_versions(con, "pubmed_articles", "pmid", [r.pmid for r in records])
    stored_articles = stored_versions(con, "articles", "article_id", [a.article_id for a in articles])
    changed_records = [r for r in records if stored.get(r.pmid) != (content_hash(r), nlp_version)]
    changed_articles = [a for a in articles if stored_articles.get(a.article_id) != (content_hash(a), nlp_version)]
    new = sum(1 for r in changed_records if r.pmid not in stored)
    updated = sum(1 for r in changed_records if r.pmid in stored and stored[r.pmid][0] != content_hash(r))
    return LoadPlan(changed_articles, changed_records, new, updated, len(records) - new - updated)


def load_batch(con: duckdb.DuckDBPyConnection, run_id: str, nlp_version: str, articles: Sequence[Article],
               records: Sequence[PubmedRecord], analysed: Sequence[AnalysedDoc],
               deleted_pmids: Sequence[str] = ()) -> int:
    """Write one batch of documents (and the deletions that came with it) in one transaction; returns the
    number of claims written. A run stores each batch as soon as its NLP is done, so a killed run keeps the
    finished batches and the next run, seeing them unchanged, does only the rest."""
    con.execute("BEGIN TRANSACTION")
    try:
        claims = _write_documents(con, run_id, nlp_version, articles, records, analysed)
        _delete_records(con, deleted_pmids)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return claims


def record_load(con: duckdb.DuckDBPyConnection, results: RunResults, plan: LoadPlan, claims_loaded: int,
                lexicon: ConceptLexicon | None = None, error: str | None = None) -> LoadCounts:
    """After the batches: deletions, fetch failures, PRISMA search hits, the raw-response index and the run's
    counts and watermark, in one transaction. Until this commits the watermark does not move, so a run
    killed before it is repeated from the same search window. The run stays ``running``: its status is
    written by :func:`close_run` once every later stage has finished too."""
    con.execute("BEGIN TRANSACTION")
    try:
        counts = _write_run(con, results, plan, claims_loaded, lexicon, error)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return counts


def load_run(con: duckdb.DuckDBPyConnection, results: RunResults, lexicon: ConceptLexicon | None = None,
             status: str = "succeeded", error: str | None = None) -> LoadCounts:
    """Write one run's documents and bookkeeping in a single transaction and close its ``runs`` row."""
    plan = plan_load(con, results.articles, results.records, results.nlp_version)
    con.execute("BEGIN TRANSACTION")
    try:
        claims = _write_documents(con, results.run_id, results.nlp_version, plan.articles, plan.records,
                                  results.analysed)
        counts = _write_run(con, results, plan, claims, lexicon, error)
        close_run(con, results.run_id, status, error)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return counts


def _delete_records(con: duckdb.DuckDBPyConnection, pmids: Sequence[str]) -> int:
    """Remove deleted citations and everything derived from them; returns how many were stored."""
    if not pmids:
        return 0
    pmids = list(pmids)
    stored = con.execute("SELECT count(*) FROM pubmed_articles WHERE list_contains(?, pmid)", [pmids]).fetchone()[0]
    con.execute("DELETE FROM pubmed_articles WHERE list_contains(?, pmid)", [pmids])
    _delete_docs(con, "pubmed", pmids)
    return stored


def _write_documents(con: duckdb.DuckDBPyConnection, run_id: str, version: str, articles: Sequence[Article],
                     records: Sequence[PubmedRecord], analysed: Sequence[AnalysedDoc]) -> int:
    article_ids = [a.article_id for a in articles]
    if article_ids:
        con.execute("DELETE FROM articles WHERE list_contains(?, article_id)", [article_ids])
        insert_rows(con, "articles", ARTICLE_COLUMNS, [_article_row(a, version, run_id) for a in articles])
    pmids = [r.pmid for r in records]
    if pmids:
        first_runs = dict(con.execute("SELECT pmid, first_run_id FROM pubmed_articles WHERE list_contains(?, pmid)",
                                      [pmids]).fetchall())
        con.execute("DELETE FROM pubmed_articles WHERE list_contains(?, pmid)", [pmids])
        insert_rows(con, "pubmed_articles", PUBMED_COLUMNS,
                    [_pubmed_row(r, version, first_runs.get(r.pmid, run_id), run_id) for r in records])
    analysed_ids = {(a.source, a.doc_id) for a in analysed}
    for source in ("article", "pubmed"):
        _delete_docs(con, source, [d for s, d in analysed_ids if s == source])
    insert_rows(con, "sentences", ("source", "doc_id", "sentence_idx", "start_char", "end_char", "text", "section",
                                   "role", "role_source"),
                [(s.source, s.doc_id, s.sentence_idx, s.start_char, s.end_char, s.text, s.section, s.role,
                  s.role_source)
                 for a in analysed for s in a.sentences])
    insert_rows(con, "entities", ("source", "doc_id", "sentence_idx", "start_char", "end_char", "text", "label",
                                  "concept_id", "canonical_name", "long_form", "model_label", "detectors"),
                [(e.source, e.doc_id, e.sentence_idx, e.start_char, e.end_char, e.text, e.label, e.concept_id,
                  e.canonical_name, e.long_form, e.model_label, list(e.detectors))
                 for a in analysed for e in a.entities])
    claims = [c for a in analysed for c in a.claims]
    insert_rows(con, "claims", ("claim_id", "source", "doc_id", "sentence_idx", "sentence", "claim_type",
                                "polarity", "certainty", "intervention", "outcome", "direction", "cues"),
                [(c.claim_id, c.source, c.doc_id, c.sentence_idx, c.sentence, c.claim_type, c.polarity,
                  c.certainty, c.intervention, c.outcome, c.direction, list(c.cues)) for c in claims])
    return len(claims)


def _write_run(con: duckdb.DuckDBPyConnection, results: RunResults, plan: LoadPlan, claims_loaded: int,
               lexicon: ConceptLexicon | None, error: str | None) -> LoadCounts:
    """The run's bookkeeping: its counts, watermark and error (its status is :func:`close_run`'s)."""
    if lexicon is not None:
        con.execute("DELETE FROM concepts")
        insert_rows(con, "concepts", ("concept_id", "canonical_name", "label", "aliases"),
                    [(c.concept_id, c.canonical_name, c.label, list(c.aliases)) for c in lexicon.concepts.values()])
    deleted = _delete_records(con, results.deleted_pmids)
    if results.fetched_pmids:
        con.execute("DELETE FROM fetch_failures WHERE list_contains(?, pmid)", [results.fetched_pmids])
    for pmid, message in results.failed_pmids.items():
        con.execute("""
            INSERT INTO fetch_failures VALUES (?, ?, ?, ?, 1)
            ON CONFLICT (pmid) DO UPDATE SET error = excluded.error, last_run_id = excluded.last_run_id,
                attempts = fetch_failures.attempts + 1""", [pmid, message, results.run_id, results.run_id])
    con.execute("DELETE FROM search_hits WHERE run_id = ?", [results.run_id])
    insert_rows(con, "search_hits", ("run_id", "query", "pmid"),
                [(results.run_id, query, pmid) for query, pmids in results.query_pmids.items()
                 for pmid in dict.fromkeys(pmids)])
    for raw in results.raw_responses:
        con.execute("INSERT OR IGNORE INTO raw_responses VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [raw["sha256"], results.run_id, raw["utility"], json.dumps(raw["request"]), raw["path"],
                     raw["bytes"], raw["fetched_at"]])
    counts = LoadCounts(
        records_new=plan.records_new,
        records_updated=plan.records_updated,
        records_unchanged=plan.records_unchanged,
        records_deleted=deleted,
        articles_loaded=len(plan.articles),
        claims_loaded=claims_loaded,
    )
    con.execute("""
        UPDATE runs SET records_found = ?, records_new = ?,
            records_updated = ?, records_unchanged = ?, records_deleted = ?, records_failed = ?,
            articles_loaded = ?, claims_loaded = ?, search_from = ?, watermark = ?, nlp_version = ?, error = ?
        WHERE run_id = ?""",
        [results.records_found, counts.records_new, counts.records_updated, counts.records_unchanged,
         counts.records_deleted, len(results.failed_pmids), counts.articles_loaded, counts.claims_loaded,
         results.search_from, results.watermark, results.nlp_version, error, results.run_id])
    return counts
