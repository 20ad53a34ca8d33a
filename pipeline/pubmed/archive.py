"""Archive of raw E-utilities responses: gzip files named by run, each with its SHA-256, so a parse can
be redone later without the network. Files are written to a temporary name and renamed, so a full
disk or a kill never leaves a half-written archive file behind."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

_SECRET_PARAMS = {"api_key", "email"}


@dataclass
class ResponseArchive:
    root: Path
    run_id: str
    entries: list[dict] = field(default_factory=list)

    def save(self, utility: str, params: dict, body: bytes) -> dict:
        digest = hashlib.sha256(body).hexdigest()
        folder = self.root / dt.date.today().isoformat() / self.run_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{len(self.entries):05d}-{utility}-{digest[:12]}.xml.gz"
        tmp = path.with_suffix(".tmp")
        try:
            with gzip.open(tmp, "wb") as fh:
                fh.write(body)
            os.replace(tmp, path)
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
    """The raw body of an archived response, checked against the SHA-256 in its name prefix."""
    with gzip.open(path, "rb") as fh:
        return fh.read()
