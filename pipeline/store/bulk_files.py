"""Which PubMed baseline and update files have been loaded: the ``bulk_files`` table (docs/schema.md).

A file is marked ``loading`` before its first batch is stored and ``done`` after its last one, so a run
killed half-way through a file loads that file again, from the start, next time (storing a batch again
changes nothing). NLM never rewrites a published file: a done file whose content has changed since is
refused, not silently skipped or loaded twice.
"""

from __future__ import annotations

import logging
from typing import Iterable

import duckdb

from pipeline.pubmed.bulk import BulkFile, BulkFileError, file_digest

log = logging.getLogger(__name__)


class BulkFileChanged(BulkFileError):
    """A file already loaded has different content now."""


class BulkFileOutOfOrder(BulkFileError):
    """A file not yet loaded comes before one already loaded: applying it now would undo newer versions."""


def _loaded(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    rows = con.execute("SELECT name, status, size_bytes, sha256, run_id, finished_at FROM bulk_files").fetchall()
    return {row[0]: row[1:] for row in rows}


def _check_unchanged(bulk_file: BulkFile, size: int, sha256: str, run_id: str, finished_at, rehash: bool) -> None:
    size_now = bulk_file.path.stat().st_size
    if size_now != size:
        change = f"{size:,} bytes then, {size_now:,} now"
    elif rehash and (sha256_now := file_digest(bulk_file.path)) != sha256:
        change = f"sha256 {sha256} then, {sha256_now} now"
    else:
        return
    raise BulkFileChanged(
        f"{bulk_file.path} has changed since run {run_id} loaded it on {finished_at:%Y-%m-%d %H:%M} ({change}). "
        "NLM never rewrites a published file, so this is a different or damaged copy: put the original back. "
        f"To load this copy anyway: DELETE FROM bulk_files WHERE name = '{bulk_file.name}'")


def _supersedes(later: BulkFile, earlier: BulkFile) -> bool:
    """Whether ``later`` may hold newer versions of ``earlier``'s records. A PMID is in one baseline file
    only, so the files of one baseline can be loaded in any order."""
    same_baseline = later.kind == earlier.kind == "baseline" and later.year == earlier.year
    return later.sort_key > earlier.sort_key and not same_baseline


def pending_bulk_files(con: duckdb.DuckDBPyConnection, files: Iterable[BulkFile],
                       rehash_done: bool = True) -> list[BulkFile]:
    """The files not loaded yet (never started, or left ``loading`` by a run that stopped), in order.

    Every done file is checked against the size and sha256 recorded when it was loaded, and a change
    raises :class:`BulkFileChanged`. That re-reads every done file (a full baseline is tens of GB);
    ``rehash_done=False`` compares sizes only. A pending file that comes before a done update file (or a
    done file of a later yearly cycle) raises :class:`BulkFileOutOfOrder`: loading it after the newer
    file would bring back older versions of records.
    """
    files = sorted(files, key=lambda f: f.sort_key)
    loaded = _loaded(con)
    pending, done = [], []
    for bulk_file in files:
        row = loaded.get(bulk_file.name)
        if row is not None and row[0] == "done":
            _check_unchanged(bulk_file, *row[1:], rehash=rehash_done)
            done.append(bulk_file)
        else:
            pending.append(bulk_file)
    for bulk_file in pending:
        newer = [d.name for d in done if _supersedes(d, bulk_file)]
        if newer:
            listed = ", ".join(f"'{n}'" for n in newer) if len(newer) <= 5 else f"the {len(newer)} from '{newer[0]}' on"
            raise BulkFileOutOfOrder(
                f"{bulk_file.name} is not loaded yet, but the later {newer[0]} is: loading it now would overwrite "
                "newer versions of its records with older ones. To apply the files in order, make the later ones "
                f"pending again first (DELETE FROM bulk_files for {listed}).")
    return pending


def mark_started(con: duckdb.DuckDBPyConnection, bulk_file: BulkFile, run_id: str, sha256: str | None = None) -> None:
    """Record that ``run_id`` is loading the file (again, if an earlier run stopped before it was done).

    ``sha256`` is the file's digest when the caller has it already; otherwise the file is read for it.
    """
    row = con.execute("SELECT status, run_id FROM bulk_files WHERE name = ?", [bulk_file.name]).fetchone()
    if row is not None and row[0] == "done":
        raise BulkFileError(f"{bulk_file.name} was already loaded by run {row[1]}")
    if row is not None:
        log.info("%s: loading it again, run %s stopped before it was done", bulk_file.name, row[1])
    con.execute("""
        INSERT OR REPLACE INTO bulk_files
            (name, kind, number, size_bytes, sha256, records, deletions, run_id, started_at, finished_at, status)
        VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, now(), NULL, 'loading')""",
                [bulk_file.name, bulk_file.kind, bulk_file.number, bulk_file.path.stat().st_size,
                 sha256 or file_digest(bulk_file.path), run_id])


def mark_done(con: duckdb.DuckDBPyConnection, bulk_file: BulkFile, run_id: str, records: int, deletions: int) -> None:
    """Record that ``run_id`` has stored the whole file: ``records`` stored, ``deletions`` PMIDs deleted."""
    updated = con.execute("""
        UPDATE bulk_files SET status = 'done', finished_at = now(), records = ?, deletions = ?
        WHERE name = ? AND run_id = ? AND status = 'loading'
        RETURNING name""", [records, deletions, bulk_file.name, run_id]).fetchall()
    if not updated:
        raise BulkFileError(f"{bulk_file.name} is not being loaded by run {run_id} (mark_started first)")
