"""Sentence embeddings in DuckDB: which sentences still need one, storing them, and reading them back.

``sentence_embeddings`` holds one ``FLOAT[384]`` per (text hash, encoder version). A sentence finds its
vector through ``sentences.text_sha256``, filled here for rows written since the last fill, so the
loaders need not know about embeddings and a sentence text shared by many records is encoded once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterator, Sequence

import duckdb
import numpy as np

from pipeline.store.db import insert_rows
from pipeline.store.migrations import EMBEDDING_DIMENSIONS


def fill_text_hashes(con: duckdb.DuckDBPyConnection) -> int:
    """Hash the sentences written since the last call; the number hashed."""
    return con.execute("UPDATE sentences SET text_sha256 = sha256(text) WHERE text_sha256 IS NULL").fetchone()[0]


def count_missing(con: duckdb.DuckDBPyConnection, model_version: str) -> int:
    return con.execute("""
        SELECT count(DISTINCT s.text_sha256) FROM sentences s
        WHERE NOT EXISTS (SELECT 1 FROM sentence_embeddings e
                          WHERE e.text_sha256 = s.text_sha256 AND e.model_version = ?)""", [model_version]).fetchone()[0]


def missing_texts(con: duckdb.DuckDBPyConnection, model_version: str, chunk: int) -> Iterator[list[tuple[str, str]]]:
    """(hash, text) of the distinct sentence texts without a vector from ``model_version``, ``chunk`` at a
    time. Which texts lack one is found once (an anti-join over all sentences), then each chunk's texts are
    read by hash, so the cost does not grow with the number of chunks."""
    hashes = [row[0] for row in con.execute("""
        SELECT DISTINCT s.text_sha256 FROM sentences s
        WHERE NOT EXISTS (SELECT 1 FROM sentence_embeddings e
                          WHERE e.text_sha256 = s.text_sha256 AND e.model_version = ?)
        ORDER BY 1""", [model_version]).fetchall()]
    for start in range(0, len(hashes), chunk):
        yield con.execute("""
            SELECT text_sha256, any_value(text) FROM sentences
            WHERE text_sha256 IN (SELECT unnest(?::VARCHAR[]))
            GROUP BY text_sha256 ORDER BY text_sha256""", [hashes[start:start + chunk]]).fetchall()


def store_embeddings(con: duckdb.DuckDBPyConnection, model_version: str, hashes: Sequence[str],
                     vectors: np.ndarray) -> int:
    """Insert one chunk in its own transaction (a run killed half-way keeps the chunks it finished)."""
    con.execute("BEGIN TRANSACTION")
    try:
        now = dt.datetime.now()
        n = insert_rows(con, "sentence_embeddings", ("text_sha256", "model_version", "embedding", "embedded_at"),
                        [(h, model_version, v.tolist(), now) for h, v in zip(hashes, vectors)])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return n


def drop_other_versions(con: duckdb.DuckDBPyConnection, model_version: str) -> int:
    """Forget the vectors of earlier encoders (they are never compared with the current one's)."""
    return con.execute("DELETE FROM sentence_embeddings WHERE model_version <> ?", [model_version]).fetchone()[0]


@dataclass(frozen=True)
class ClaimVectors:
    """Unit vectors of claim sentences, row i for ``claim_ids[i]``; claims without a vector are left out."""

    claim_ids: tuple[str, ...]
    matrix: np.ndarray

    def index(self) -> dict[str, int]:
        return {claim_id: i for i, claim_id in enumerate(self.claim_ids)}


def claim_vectors(con: duckdb.DuckDBPyConnection, source: str, model_version: str) -> ClaimVectors:
    """The embedding of each claim's sentence (``source``: 'article' or 'pubmed')."""
    columns = con.execute("""
        SELECT c.claim_id, e.embedding FROM claims c
        JOIN sentences s ON s.source = c.source AND s.doc_id = c.doc_id AND s.sentence_idx = c.sentence_idx
        JOIN sentence_embeddings e ON e.text_sha256 = s.text_sha256 AND e.model_version = ?
        WHERE c.source = ? ORDER BY c.claim_id""", [model_version, source]).fetchnumpy()
    if not len(columns["claim_id"]):
        return ClaimVectors((), np.zeros((0, EMBEDDING_DIMENSIONS), dtype=np.float32))
    return ClaimVectors(tuple(columns["claim_id"].tolist()), np.stack(columns["embedding"]).astype(np.float32))
