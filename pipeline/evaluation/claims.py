"""Score claim detection against a hand-labelled TSV (doc_id, claim_type or "none", sentence)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from pipeline.records import AnalysedDoc
from pipeline.evaluation.metrics import prf


@dataclass(frozen=True)
class GoldSentence:
    doc_id: str
    claim_type: str  # "none" when the sentence asserts nothing checkable
    sentence: str


def read_gold(path: Path) -> list[GoldSentence]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [GoldSentence(r["doc_id"], r["claim_type"], r["sentence"])
                for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)]


def _prf(tp: int, fp: int, fn: int) -> dict:
    return {**prf(tp, tp + fp, tp + fn, digits=3), "tp": tp, "fp": fp, "fn": fn}


def score_claim_detection(gold: list[GoldSentence], analysed: list[AnalysedDoc]) -> dict:
    """Detection P/R (is the sentence a claim) and per-type P/R (claim and type both right)."""
    predicted: dict[tuple[str, str], str] = {}
    known: set[tuple[str, str]] = set()
    for doc in analysed:
        types = {c.sentence_idx: c.claim_type for c in doc.claims}
        for s in doc.sentences:
            known.add((doc.doc_id, s.text))
            predicted[(doc.doc_id, s.text)] = types.get(s.sentence_idx, "none")
    missing = [g for g in gold if (g.doc_id, g.sentence) not in known]
    if missing:
        raise ValueError(f"{len(missing)} gold sentences are not sentences of the analysed documents, "
                         f"e.g. {missing[0].doc_id}: {missing[0].sentence[:80]!r}")
    pairs = [(g.claim_type, predicted[(g.doc_id, g.sentence)]) for g in gold]
    detection = _prf(sum(g != "none" and p != "none" for g, p in pairs),
                     sum(g == "none" and p != "none" for g, p in pairs),
                     sum(g != "none" and p == "none" for g, p in pairs))
    per_type = {}
    for claim_type in sorted({g for g, _ in pairs} | {p for _, p in pairs} - {"none"}):
        if claim_type == "none":
            continue
        per_type[claim_type] = _prf(sum(g == p == claim_type for g, p in pairs),
                                    sum(p == claim_type and g != claim_type for g, p in pairs),
                                    sum(g == claim_type and p != claim_type for g, p in pairs))
    return {"sentences": len(pairs), "gold_claims": sum(g != "none" for g, _ in pairs),
            "detection": detection, "per_type": per_type}
