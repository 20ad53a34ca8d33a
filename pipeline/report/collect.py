"""What the evidence report shows, read with SQL from the DuckDB file into typed, render-ready rows.

The report is rebuilt from the database alone (never from a run's in-memory results), so the page
written by a nightly run and the one `exoclaims report` writes later from the same file are identical,
and an analyst can reproduce every number with the queries below.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import duckdb

from pipeline.compare.study_design import EVIDENCE_LEVELS
from pipeline.compare.verdicts import CHECKABLE_TYPES, Verdict
from pipeline.report.prisma import prisma_counts
from pipeline.store import db

VERDICTS: tuple[str, ...] = get_args(Verdict)  # strongest support first, as the rules define them
DESIGNS: tuple[str, ...] = tuple(sorted(EVIDENCE_LEVELS, key=EVIDENCE_LEVELS.get))  # strongest first
UNCLASSIFIED = "unclassified"  # a record stored before study designs were classified


@dataclass(frozen=True)
class EvidenceRef:
    """One PubMed record behind a verdict; a claim's records come strongest design first."""

    pmid: str
    design: str | None
    pub_year: int | None
    title: str | None
    stance: str  # supports, contradicts, or both (different claims of one abstract disagree)


@dataclass(frozen=True)
class Assertion:
    """One checkable article claim with its verdict (a row of the ``verdicts`` view)."""

    claim_id: str
    sentence_idx: int
    sentence: str
    claim_type: str
    polarity: str | None
    certainty: str | None
    verdict: str
    best_design: str | None
    n_supports: int
    n_contradicts: int
    reason: str | None
    evidence: tuple[EvidenceRef, ...]  # the strongest records on each side, at most MAX_EVIDENCE_SHOWN per side
    records_total: int = 0  # records behind the verdict, shown or not
    records_against: int = 0  # of which contradict it (or both support and contradict)
    certainty_of_evidence: str | None = None  # GRADE-style: high, moderate, low, very low


@dataclass(frozen=True)
class ArticleReport:
    article_id: str
    title: str | None
    source: str | None
    assertions: tuple[Assertion, ...]

    def tally(self) -> dict[str, int]:
        """Assertions per verdict, every verdict present (0 where none)."""
        counts = dict.fromkeys(VERDICTS, 0)
        for a in self.assertions:
            counts[a.verdict] = counts.get(a.verdict, 0) + 1
        return counts


@dataclass(frozen=True)
class YearDesignCount:
    pub_year: int | None  # None: the record states no year
    design: str
    records: int


@dataclass(frozen=True)
class TypeVerdictCount:
    claim_type: str
    verdict: str
    assertions: int


@dataclass(frozen=True)
class PrismaCount:
    """One labelled count of the records' flow, in display order."""

    label: str
    records: int


@dataclass(frozen=True)
class LastRun:
    run_id: str
    status: str
    finished_at: dt.datetime | None
    stage: str | None = None  # where it is, or where it stopped (schema version 10)


@dataclass(frozen=True)
class ComparisonSource:
    """The comparison the verdicts come from: the run that made it or last found it current, and when."""

    run_id: str | None  # None: made before schema version 10 recorded it
    compared_at: dt.datetime | None


@dataclass(frozen=True)
class ReportData:
    """Everything the HTML page and the Markdown digest show.

    ``prisma`` holds the PRISMA flow counts (``prisma_flow``: identification per query, duplicates,
    records stored, without abstract, retracted, used as evidence, screening decisions)
    and both renderers show whatever rows it holds, in order.
    """

    generated_at: dt.datetime
    last_run: LastRun | None
    articles: tuple[ArticleReport, ...]
    records_per_year: tuple[YearDesignCount, ...]
    records_per_design: tuple[tuple[str, int], ...]
    type_verdict: tuple[TypeVerdictCount, ...]
    prisma: tuple[PrismaCount, ...]
    comparison: ComparisonSource | None = None

    @property
    def verdicts_from_earlier_run(self) -> bool:
        """The last run stopped before its comparison (killed, failed, or still going): the verdicts shown come
        from an earlier run's comparison."""
        return (self.comparison is not None and self.comparison.run_id is not None and self.last_run is not None
                and self.comparison.run_id != self.last_run.run_id)

    def staleness_note(self) -> str | None:
        """One sentence saying whose comparison the verdicts come from, when it is not the last run's."""
        if not self.verdicts_from_earlier_run:
            return None
        last = self.last_run
        where = f" during {last.stage}" if last.stage else ""
        state = "is still running" if last.status == "running" else f"{last.status}{where}"
        return (f"The last run, {last.run_id}, {state}, before its comparison was done: these verdicts come "
                f"from the comparison of run {self.comparison.run_id}"
                + (f" ({self.comparison.compared_at:%Y-%m-%d %H:%M})." if self.comparison.compared_at else "."))

    @property
    def assertions(self) -> tuple[Assertion, ...]:
        return tuple(a for article in self.articles for a in article.assertions)


def _articles(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str | None, str | None]]:
    # an article whose row is gone but whose verdicts remain still gets a section (title from the view)
    return con.execute("""
        SELECT article_id, title, source FROM articles
        UNION ALL
        SELECT DISTINCT article_id, article_title, NULL FROM verdicts
        WHERE article_id NOT IN (SELECT article_id FROM articles)
        ORDER BY article_id""").fetchall()


# A verdict on a large corpus can rest on thousands of records; the report lists the strongest of each side
# (all of them are in the database and the exports).
MAX_EVIDENCE_SHOWN = 25


def _evidence(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, list[EvidenceRef]], dict[str, tuple[int, int]]]:
    """Per claim: the strongest records on each side (supporting; contradicting or both), strongest first,
    and (records behind the verdict, records against it)."""
    rows = con.execute("""
        WITH refs AS (
            SELECT claim_id, unnest(supporting_pmids) AS pmid, 0 AS side,
                   generate_subscripts(supporting_pmids, 1) AS ord
            FROM claim_verdicts
            UNION ALL
            SELECT claim_id, unnest(contradicting_pmids), 1, 1000000 + generate_subscripts(contradicting_pmids, 1)
            FROM claim_verdicts),
        merged AS (
            SELECT claim_id, pmid,
                   CASE WHEN min(side) <> max(side) THEN 'both' WHEN min(side) = 1 THEN 'contradicts'
                        ELSE 'supports' END AS stance,
                   min(ord) AS ord
            FROM refs GROUP BY claim_id, pmid),
        totals AS (
            SELECT claim_id, count(*) AS total, count(*) FILTER (WHERE stance <> 'supports') AS against
            FROM merged GROUP BY claim_id),
        -- rank on narrow rows and read titles for the few kept: sorting every record's title with it made
        -- this query 6 times slower on a 50k-record corpus
        ranked AS (
            SELECT m.claim_id, m.pmid, m.stance, coalesce(p.evidence_level, 99) AS level, m.ord
            FROM merged m LEFT JOIN (SELECT pmid, evidence_level FROM pubmed_articles) p ON p.pmid = m.pmid
            QUALIFY row_number() OVER (PARTITION BY m.claim_id, m.stance = 'supports'
                                       ORDER BY coalesce(p.evidence_level, 99), m.ord) <= ?)
        SELECT r.claim_id, r.pmid, p.study_design, p.pub_year, p.title, r.stance, t.total, t.against
        FROM ranked r JOIN totals t USING (claim_id) LEFT JOIN pubmed_articles p ON p.pmid = r.pmid
        ORDER BY r.claim_id, r.level, r.ord""", [MAX_EVIDENCE_SHOWN]).fetchall()
    evidence: dict[str, list[EvidenceRef]] = {}
    totals: dict[str, tuple[int, int]] = {}
    for claim_id, pmid, design, year, title, stance, total, against in rows:
        evidence.setdefault(claim_id, []).append(EvidenceRef(pmid, design, year, title, stance))
        totals[claim_id] = (total, against)
    return evidence, totals


def _assertions(con: duckdb.DuckDBPyConnection) -> dict[str, list[Assertion]]:
    evidence, totals = _evidence(con)
    rows = con.execute("""
        SELECT article_id, claim_id, sentence_idx, sentence, claim_type, polarity, certainty, verdict, best_design,
               coalesce(n_supports, 0), coalesce(n_contradicts, 0), reason, certainty_of_evidence
        FROM verdicts ORDER BY article_id, sentence_idx, claim_id""").fetchall()
    by_article: dict[str, list[Assertion]] = {}
    for article_id, claim_id, *fields, grade in rows:
        total, against = totals.get(claim_id, (0, 0))
        by_article.setdefault(article_id, []).append(
            Assertion(claim_id, *fields, evidence=tuple(evidence.get(claim_id, ())), records_total=total,
                      records_against=against, certainty_of_evidence=grade))
    return by_article


def prisma_flow(con: duckdb.DuckDBPyConnection) -> tuple[PrismaCount, ...]:
    """PRISMA-style counts over all runs (:func:`pipeline.report.prisma.prisma_counts`), then how many
    records the comparison could use."""
    counts = prisma_counts(con)
    with_claims = con.execute("SELECT count(*) FROM pubmed_articles WHERE pmid IN "
                              "(SELECT doc_id FROM claims WHERE source = 'pubmed')").fetchone()[0]
    cited = con.execute("SELECT count(DISTINCT pmid) FROM (SELECT unnest(pmids) AS pmid FROM verdicts)").fetchone()[0]
    rows = [PrismaCount(f"identified by query: {query}", n) for query, n in counts.identified_per_query.items()]
    rows += [
        PrismaCount("records identified (all queries)", counts.identified),
        PrismaCount("duplicates removed (found by more than one query)", counts.duplicates_removed),
        PrismaCount("records after duplicates removed", counts.after_duplicates_removed),
        PrismaCount("not retrieved (fetch failed, deleted or withdrawn)", counts.not_retrieved),
        PrismaCount("records stored (PubMed, one per PMID)", counts.records),
        PrismaCount("records without an abstract (kept; no claims can be read)", counts.without_abstract),
        PrismaCount("retracted records (never used as evidence)", counts.retracted),
        PrismaCount("records with at least one results/conclusions claim", with_claims),
        PrismaCount("records cited as evidence in a verdict", cited),
    ]
    rows += [PrismaCount(f"screening: {decision}", n) for decision, n in counts.screening.items()]
    return tuple(rows)


def collect_report(con: duckdb.DuckDBPyConnection, now: dt.datetime | None = None) -> ReportData:
    """Read the report's contents from an open (read-only is enough) pipeline database."""
    assertions = _assertions(con)
    articles = tuple(ArticleReport(article_id, title, source, tuple(assertions.get(article_id, ())))
                     for article_id, title, source in _articles(con))
    per_year = con.execute(f"""
        SELECT pub_year, coalesce(study_design, '{UNCLASSIFIED}'), count(*)
        FROM pubmed_articles GROUP BY ALL ORDER BY pub_year NULLS LAST, 2""").fetchall()
    per_design = con.execute(f"""
        SELECT coalesce(study_design, '{UNCLASSIFIED}') AS design, count(*)
        FROM pubmed_articles GROUP BY ALL ORDER BY min(coalesce(evidence_level, 99)), design""").fetchall()
    type_verdict = con.execute("SELECT claim_type, verdict, count(*) FROM verdicts GROUP BY ALL ORDER BY 1, 2").fetchall()
    last = con.execute("SELECT run_id, status, finished_at, stage FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
    compared = con.execute("SELECT run_id, compared_at FROM comparison_state").fetchone()
    return ReportData(
        generated_at=now or dt.datetime.now().replace(microsecond=0),
        last_run=LastRun(*last) if last else None,
        articles=articles,
        records_per_year=tuple(YearDesignCount(*r) for r in per_year),
        records_per_design=tuple((d, n) for d, n in per_design),
        type_verdict=tuple(TypeVerdictCount(*r) for r in type_verdict),
        prisma=prisma_flow(con),
        comparison=ComparisonSource(*compared) if compared else None,
    )


def claim_types(data: ReportData) -> tuple[str, ...]:
    """The matrix rows: every checkable type in the rules' order (a zero row says something too), then any
    other type the data holds."""
    seen = {c.claim_type for c in data.type_verdict}
    return CHECKABLE_TYPES + tuple(sorted(seen - set(CHECKABLE_TYPES)))


def read_report(db_path: Path | str, now: dt.datetime | None = None) -> ReportData:
    """Open the database read-only (a running job is not disturbed), collect, close."""
    path = Path(db_path)
    if not path.exists():
        raise FileNotFoundError(f"no database at {path}: run `exoclaims run` first")
    con = db.connect(path, read_only=True)
    try:
        return collect_report(con, now)
    finally:
        con.close()
