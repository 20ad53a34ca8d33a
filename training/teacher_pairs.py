"""Stance pairs without gold labels, built for a teacher model to label.

They are what a distilled student learns from beyond the pairs the teacher itself was trained on (docs/stance.md,
"A student taught on pairs its teacher never saw").

A teacher's logits on its own training pairs are close to the gold labels and teach a student little. These
pairs are new to the teacher, built from the training claims only (never SciFact dev, never a HealthVer dev-CSV
claim), each passage read as the runtime reads a whole abstract: its sentences nearest the claim
(:func:`pipeline.compare.stance_encoder.select_sentences`), in document order.

* ``scifact_nearest``: each SciFact training claim against the abstracts nearest it that it does not cite (by
  the abstracts' title-and-opening embeddings): mostly topical and unrelated, sometimes bearing on it, since
  SciFact's corpus is not labelled against every claim;
* ``scifact_other_passage``: each claim against a cited abstract's next-nearest sentences (ranks 4-6), where the
  abstract has that many: the same study, a passage the recipe never paired with the claim;
* ``healthver_nearest``: each HealthVer training claim against the corpus documents nearest it that it does
  not cite.

Each builder gives ``(claim, passage, group)`` rows; the group is the claim's identity as the recipe names it, so a
fold never splits a claim. :func:`teacher_pairs` gathers the sources a variant names, with each row's source.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from pipeline.compare.stance_encoder import select_sentences
from pipeline.evaluation.claim_corpus import cited_doc_ids, read_abstracts, read_claims

UnlabelledPair = tuple[str, str, str]  # (claim, passage, group)
Embed = Callable[[list[str]], np.ndarray]


def _abstract(document: dict) -> list[str]:
    return [s for s in document["abstract"] if s.strip()]


def _opening(document: dict) -> str:
    """What an abstract is about, cheaply: its title and first two sentences."""
    return " ".join([document.get("title", "")] + _abstract(document)[:2]).strip()


def nearest_uncited(claims: Sequence[dict], corpus: dict[int, dict], embed: Embed, k: int) -> dict[int, list[int]]:
    """Per claim id, the ``k`` documents whose openings are nearest the claim by cosine, best first, leaving out
    the documents it cites and documents with no abstract."""
    doc_ids = [d for d in sorted(corpus) if _abstract(corpus[d])]
    if not claims or not doc_ids:
        return {}
    documents = embed([_opening(corpus[d]) for d in doc_ids])
    queries = embed([c["claim"] for c in claims])
    nearest = {}
    for claim, cosine in zip(claims, queries @ documents.T):
        cited = set(cited_doc_ids(claim))
        ranked = (doc_ids[i] for i in np.lexsort((np.arange(len(cosine)), -cosine)))
        nearest[claim["id"]] = [d for d, _ in zip((d for d in ranked if d not in cited), range(k))]
    return nearest


def _passages(claims: Sequence[dict], corpus: dict[int, dict], wanted: dict[int, list[int]], embed: Embed,
              ranks: slice) -> dict[tuple[int, int], str]:
    """Per (claim id, document), the sentences at ``ranks`` of nearness to the claim, as the runtime's
    :func:`select_sentences` ranks them, joined in document order; "" where the abstract has fewer."""
    texts = sorted({c["claim"] for c in claims} | {s for docs in wanted.values() for d in docs
                                                   for s in _abstract(corpus[d])})
    vectors = dict(zip(texts, embed(texts))) if texts else {}
    passages = {}
    for claim in claims:
        for doc_id in wanted.get(claim["id"], []):
            sentences = _abstract(corpus[doc_id])
            matrix, query = np.stack([vectors[s] for s in sentences]), vectors[claim["claim"]]
            chosen = sorted(set(select_sentences(query, matrix, ranks.stop))
                            - set(select_sentences(query, matrix, ranks.start or 0)))
            passages[claim["id"], doc_id] = " ".join(sentences[i] for i in chosen)
    return passages


def scifact_nearest(claims: Sequence[dict], corpus: dict[int, dict], embed: Embed, k: int = 3,
                    source: str = "scifact") -> list[UnlabelledPair]:
    wanted = nearest_uncited(claims, corpus, embed, k)
    passages = _passages(claims, corpus, wanted, embed, slice(0, 3))
    return [(c["claim"], passages[c["id"], d], f"{source}:{c['id']}") for c in claims for d in wanted.get(c["id"], [])
            if passages[c["id"], d]]


def scifact_other_passage(claims: Sequence[dict], corpus: dict[int, dict], embed: Embed,
                          source: str = "scifact") -> list[UnlabelledPair]:
    wanted = {c["id"]: [d for d in cited_doc_ids(c) if len(_abstract(corpus[d])) >= 6] for c in claims}
    passages = _passages(claims, corpus, wanted, embed, slice(3, 6))
    return [(c["claim"], passages[c["id"], d], f"{source}:{c['id']}") for c in claims for d in wanted[c["id"]]
            if passages[c["id"], d]]


def healthver_nearest(directory: Path, exclude: set[str], embed: Embed, k: int = 2,
                      source: str = "healthver") -> list[UnlabelledPair]:
    """HealthVer training claims (MultiVerS format, ``exclude``: normalised dev-CSV claims) against the ``k``
    corpus documents nearest each that it does not cite."""
    from training.stance_train import normalise_claim

    corpus = read_abstracts(directory)
    claims = [c for c in read_claims(directory) if normalise_claim(c["claim"]) not in exclude]
    return scifact_nearest(claims, corpus, embed, k, source)


SOURCES = ("scifact_nearest", "scifact_other_passage", "healthver_nearest")


def teacher_pairs(root: Path, scifact_train: Sequence[dict], scifact_corpus: dict[int, dict], exclude: set[str],
                  embed: Embed, sources: Sequence[str] = SOURCES) -> list[tuple[str, str, str, str]]:
    """The unlabelled pairs of ``sources`` (of :data:`SOURCES`), each as ``(claim, passage, group, source)``, a pair
    kept once (under the first source that gives it), from ``root`` laid out like ../shared/corpora: SciFact's
    training claims (``scifact_train``, SciFact dev already left out) and HealthVer's training claims minus
    ``exclude``."""
    unknown = set(sources) - set(SOURCES)
    if unknown:
        raise ValueError(f"unknown teacher-pair sources {sorted(unknown)}; known: {', '.join(SOURCES)}")
    builders = {
        "scifact_nearest": lambda: scifact_nearest(scifact_train, scifact_corpus, embed),
        "scifact_other_passage": lambda: scifact_other_passage(scifact_train, scifact_corpus, embed),
        "healthver_nearest": lambda: healthver_nearest(root / "healthver" / "multivers", exclude, embed),
    }
    rows: dict[tuple[str, str], tuple[str, str, str, str]] = {}
    for source in sources:
        for claim, passage, group in builders[source]():
            rows.setdefault((claim, passage), (claim, passage, group, source))
    return list(rows.values())
