"""Read claim-verification corpora laid out as SciFact's: a file of abstracts and files of claims that cite them.

SciFact ships ``corpus.jsonl.gz`` and ``claims_train.jsonl``; HealthVer's MultiVerS conversion ships a plain
``corpus.jsonl`` and ``claims_{train,dev}.jsonl``. Each corpus row is ``{"doc_id", "title", "abstract": [sentences]}``;
each claim row is ``{"id", "claim", "evidence": {doc_id: [{"label", "sentences"}]}}`` with the abstracts it cites
under ``cited_doc_ids`` (SciFact) or ``doc_ids`` (MultiVerS).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

CORPUS_FILES = ("corpus.jsonl", "corpus.jsonl.gz")


def read_jsonl(path: Path | str) -> list[dict]:
    """Every row of a JSON-lines file, gzipped when its name ends in ``.gz``; blank lines are skipped."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def read_abstracts(directory: Path | str) -> dict[int, dict]:
    """The folder's abstracts by ``doc_id``, from ``corpus.jsonl`` or, where there is none, ``corpus.jsonl.gz``."""
    directory = Path(directory)
    for name in CORPUS_FILES:
        if (directory / name).exists():
            return {row["doc_id"]: row for row in read_jsonl(directory / name)}
    raise FileNotFoundError(f"{directory}: no {' or '.join(CORPUS_FILES)} (not a corpus in SciFact's layout)")


def read_claims(directory: Path | str, name: str = "claims_train.jsonl") -> list[dict]:
    """The claims of one of the folder's claim files, in file order."""
    return read_jsonl(Path(directory) / name)


def cited_doc_ids(claim: dict) -> list[int]:
    """The abstracts a claim cites, under either layout's key."""
    return [int(d) for d in claim.get("cited_doc_ids", claim.get("doc_ids", []))]
