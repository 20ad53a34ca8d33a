"""Archive of raw E-utilities responses, so a parse can be redone later without the network.

Gzip files named by run, each with its SHA-256. Files are written to a temporary name and renamed, so a full
disk or a kill never leaves a half-written archive file behind."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

_SECRET_PARAMS = {"api_key", "email"}


class ArchiveWriteError(OSError):
    """A response could not be archived (a full disk, a read-only folder): the run stops before it stores
    anything, since a stored record must always have its raw response on disk."""


@dataclass
class ResponseArchive:
    root: Path
    run_id: str
    entries: list[dict] = field(default_factory=list)

    def save(self, utility: str, params: dict, body: bytes) -> dict:
        digest = hashlib.sha256(body).hexdigest()
        folder = self.root / dt.date.today().isoformat() / self.run_id
        path = folder / f"{len(self.entries):05d}-{utility}-{digest[:12]}.xml.gz"
        tmp = path.with_suffix(".tmp")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with gzip.open(tmp, "wb") as fh:
                fh.write(body)
            os.replace(tmp, path)
        except OSError as exc:
            raise ArchiveWriteError(exc.errno, f"cannot write the raw-response archive in {folder}: "
                                    f"{exc.strerror or exc}; nothing from this run was stored, earlier runs' data "
                                    "is intact: free some space and run again") from exc
        finally:
            if tmp.exists():
                tmp.unlink()
        entry = {
            "sha256": digest,
            "utility": utility,
            "request": {k: v for k, v in params.items() if k not in _SECRET_PARAMS},
            "path": str(path),
            "bytes": len(body),
            "fetched_at": dt.datetime.now(),
        }
        self.entries.append(entry)
        return entry


def read_archived(path: str | Path) -> bytes:
    """The raw body of an archived response."""
    with gzip.open(path, "rb") as fh:
        return fh.read()


def records_from_archive(entries: list[dict]):
    """Re-parse archived efetch responses (oldest first) into the latest version of each record.

    ``entries`` are rows of the ``raw_responses`` table (or :attr:`ResponseArchive.entries`); each
    body is checked against its SHA-256 before it is parsed, so a damaged archive file is reported
    instead of silently yielding different records.
    """
    from pipeline.pubmed.parse import parse_pubmed_xml

    latest = {}
    deleted: set[str] = set()
    for entry in sorted(entries, key=lambda e: e["fetched_at"]):
        if entry["utility"] != "efetch":
            continue
        body = read_archived(entry["path"])
        if hashlib.sha256(body).hexdigest() != entry["sha256"]:
            raise ValueError(f"archived response {entry['path']} does not match its SHA-256")
        records, gone = parse_pubmed_xml(body)
        for record in records:
            latest[record.pmid] = record
            deleted.discard(record.pmid)
        for pmid in gone:
            latest.pop(pmid, None)
            deleted.add(pmid)
    return list(latest.values()), sorted(deleted)
