"""Analysts' screening decisions (table ``screening``), recorded by hand or from a filled-in export CSV.

The pipeline itself never writes this table: re-runs, upstream updates and even deletions of a record
leave its decision alone (a decision whose record is gone shows as ``orphaned`` in ``screening_status``).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

DECISIONS = ("include", "exclude", "maybe")
_SYNONYMS = {"included": "include", "excluded": "exclude", "yes": "include", "no": "exclude", "?": "maybe"}


class ScreeningError(ValueError):
    """Decisions that cannot be recorded (unknown PMIDs, unreadable values); nothing was written."""


@dataclass(frozen=True)
class ScreeningDecision:
    pmid: str
    decision: str  # include | exclude | maybe
    reason: str | None = None
    reviewer: str | None = None


def normalise_decision(value: str) -> str | None:
    """'Include', 'excluded', ' maybe ' → the stored word; '' → None (not screened)."""
    word = value.strip().lower()
    if not word:
        return None
    word = _SYNONYMS.get(word, word)
    if word not in DECISIONS:
        raise ScreeningError(f"{value!r} is not a screening decision ({', '.join(DECISIONS)})")
    return word


def record_decisions(con: duckdb.DuckDBPyConnection, decisions: list[ScreeningDecision],
                     allow_unknown: bool = False) -> int:
    """Insert or replace decisions in one transaction; refuses PMIDs not stored (a typo) unless told."""
    for d in decisions:
        if d.decision not in DECISIONS:
            raise ScreeningError(f"{d.pmid}: {d.decision!r} is not a screening decision ({', '.join(DECISIONS)})")
    if not allow_unknown:
        known = {r[0] for r in con.execute("SELECT pmid FROM pubmed_articles WHERE list_contains(?, pmid)",
                                           [[d.pmid for d in decisions]]).fetchall()}
        unknown = sorted({d.pmid for d in decisions} - known)
        if unknown:
            raise ScreeningError(f"not stored records: {', '.join(unknown[:20])}"
                                 + (" ..." if len(unknown) > 20 else "") + " (nothing recorded)")
    now = dt.datetime.now()
    con.execute("BEGIN TRANSACTION")
    try:
        for d in decisions:
            con.execute("""
                INSERT INTO screening (pmid, decision, reason, reviewer, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (pmid) DO UPDATE SET decision = excluded.decision, reason = excluded.reason,
                    reviewer = excluded.reviewer, updated_at = excluded.updated_at""",
                        [d.pmid, d.decision, d.reason, d.reviewer, now])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return len(decisions)


def clear_decisions(con: duckdb.DuckDBPyConnection, pmids: list[str]) -> int:
    """Forget decisions (the records become unscreened again); returns how many there were."""
    n = con.execute("SELECT count(*) FROM screening WHERE list_contains(?, pmid)", [pmids]).fetchone()[0]
    con.execute("DELETE FROM screening WHERE list_contains(?, pmid)", [pmids])
    return n


def read_decisions_csv(path: Path | str, reviewer: str | None = None) -> list[ScreeningDecision]:
    """Decisions from a CSV with ``pmid`` and ``screening_decision`` columns (the export's ``records.csv``
    filled in, say, in a spreadsheet); ``screening_reason`` and ``screening_reviewer`` are optional.
    Rows with an empty decision are skipped; an unreadable decision stops the import with its row."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        columns = set(reader.fieldnames or ())
        if not {"pmid", "screening_decision"} <= columns:
            raise ScreeningError(f"{path}: needs the columns pmid and screening_decision "
                                 f"(found: {', '.join(sorted(columns)) or 'none'})")
        decisions = []
        for line, row in enumerate(reader, start=2):  # the row number a spreadsheet shows
            try:
                decision = normalise_decision(row.get("screening_decision") or "")
            except ScreeningError as exc:
                raise ScreeningError(f"{path}, row {line}: {exc}") from None
            if decision is None:
                continue
            pmid = (row.get("pmid") or "").strip()
            if not pmid:
                raise ScreeningError(f"{path}, row {line}: a decision without a PMID")
            decisions.append(ScreeningDecision(pmid, decision, (row.get("screening_reason") or "").strip() or None,
                                               (row.get("screening_reviewer") or "").strip() or reviewer))
    return decisions
