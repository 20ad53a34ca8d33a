"""Search the stored literature by meaning: the records whose sentences are nearest to a question.

The question is encoded with the same encoder as the stored sentences and compared with every stored
abstract and title sentence by DuckDB's ``array_cosine_similarity``; each record is represented by its
best sentence, and records come best first. Words need not match: "Did anyone's skin die after a vesicle
shot?" finds the case report of skin necrosis after an exosome injection.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipeline.nlp.encoder import SentenceEncoder
from pipeline.store.migrations import EMBEDDING_DIMENSIONS


class NoEmbeddings(RuntimeError):
    """The database holds no sentence vectors from the encoder asked to search with."""


@dataclass(frozen=True)
class SearchHit:
    pmid: str
    title: str | None
    study_design: str | None
    pub_year: int | None
    sentence: str
    similarity: float


SEARCH_COLUMNS = tuple(SearchHit.__dataclass_fields__)


def search_literature(con: duckdb.DuckDBPyConnection, encoder: SentenceEncoder, text: str,
                      limit: int = 10) -> list[SearchHit]:
    """The ``limit`` records nearest in meaning to ``text``, one row each with its closest sentence."""
    if not text.strip():
        raise ValueError("nothing to search for: the search text is empty")
    if limit < 1:
        raise ValueError("--limit must be at least 1")
    stored = con.execute("SELECT count(*) FROM sentence_embeddings WHERE model_version = ?",
                         [encoder.version]).fetchone()[0]
    if not stored:
        raise NoEmbeddings(f"the database holds no sentence embeddings from {encoder.version}: run `exoclaims run` "
                           f"first (it encodes every stored sentence)")
    query = encoder.embed([text])[0].tolist()
    rows = con.execute(f"""
        WITH scored AS (
            SELECT s.doc_id AS pmid, s.text AS sentence, s.sentence_idx,
                   array_cosine_similarity(e.embedding, ?::FLOAT[{EMBEDDING_DIMENSIONS}]) AS similarity
            FROM sentences s
            JOIN sentence_embeddings e ON e.text_sha256 = s.text_sha256 AND e.model_version = ?
            WHERE s.source = 'pubmed'
        ), best AS (
            SELECT pmid, arg_max(sentence, similarity) AS sentence, max(similarity) AS similarity
            FROM scored GROUP BY pmid ORDER BY similarity DESC, pmid LIMIT ?
        )
        SELECT b.pmid, p.title, p.study_design, p.pub_year, b.sentence, b.similarity
        FROM best b JOIN pubmed_articles p ON p.pmid = b.pmid
        ORDER BY b.similarity DESC, b.pmid""", [query, encoder.version, limit]).fetchall()
    return [SearchHit(r[0], r[1], r[2], r[3], r[4], round(float(r[5]), 4)) for r in rows]
