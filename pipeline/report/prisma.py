"""PRISMA-style counts for a review team's flow diagram, per run and over all runs.

The numbers come from the ``prisma_counts`` view (migration 5), so an analyst's SQL and this typed
record can never disagree. Identification is per configured query (table ``search_hits``); a PMID two
queries return is identified twice and removed once as a duplicate; a PMID the same query returns in
two runs (the overlap window) is one identification. Everything after de-duplication is the records'
current stored state.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import duckdb

MEASURES = ("identified", "identified_total", "duplicates_removed", "after_duplicates_removed", "not_retrieved",
            "records", "without_abstract", "retracted", "design", "screening")


@dataclass(frozen=True)
class PrismaCounts:
    run_id: str | None  # None: all runs together
    identified_per_query: dict[str, int] = field(default_factory=dict)
    identified: int = 0  # sum over queries
    duplicates_removed: int = 0  # identified by more than one query
    after_duplicates_removed: int = 0  # distinct PMIDs
    not_retrieved: int = 0  # identified but not stored: fetch failed, deleted upstream, withdrawn
    records: int = 0  # stored: what screening starts from
    without_abstract: int = 0
    retracted: int = 0
    per_design: dict[str, int] = field(default_factory=dict)
    screening: dict[str, int] = field(default_factory=dict)  # include / exclude / maybe / unscreened


def prisma_counts(con: duckdb.DuckDBPyConnection, run_id: str | None = None) -> PrismaCounts:
    """The counts of one run (``run_id``) or of all runs (``None``); zeros for a run with no searches."""
    rows = con.execute("SELECT measure, detail, records FROM prisma_counts WHERE run_id IS NOT DISTINCT FROM ?",
                       [run_id]).fetchall()
    single = {m: n for m, d, n in rows if d is None}

    def detail(measure: str) -> dict[str, int]:
        return {d: int(n) for m, d, n in sorted(rows, key=lambda r: (-r[2], str(r[1]))) if m == measure}

    return PrismaCounts(
        run_id=run_id,
        identified_per_query=detail("identified"),
        identified=int(single.get("identified_total", 0)),
        duplicates_removed=int(single.get("duplicates_removed", 0)),
        after_duplicates_removed=int(single.get("after_duplicates_removed", 0)),
        not_retrieved=int(single.get("not_retrieved", 0)),
        records=int(single.get("records", 0)),
        without_abstract=int(single.get("without_abstract", 0)),
        retracted=int(single.get("retracted", 0)),
        per_design=detail("design"),
        screening=detail("screening"),
    )


def prisma_csv(con: duckdb.DuckDBPyConnection) -> str:
    """Every scope's counts as CSV (``scope`` is ``all runs`` or the run id), in PRISMA's order."""
    rows = con.execute("""
        SELECT coalesce(p.run_id, 'all runs') AS scope, r.started_at, p.step, p.measure, p.detail, p.records
        FROM prisma_counts p LEFT JOIN runs r ON r.run_id = p.run_id
        ORDER BY p.run_id IS NOT NULL, r.started_at DESC, p.run_id, p.step, p.records DESC, p.detail""").fetchall()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(("scope", "run_started_at", "step", "measure", "detail", "records"))
    for scope, started, step, measure, detail, n in rows:
        writer.writerow((scope, started.isoformat(sep=" ", timespec="seconds") if started else "", step, measure,
                         detail or "", n))
    return buffer.getvalue()
