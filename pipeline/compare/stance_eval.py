"""Score the stance classifier on a labelled file in HealthVer's CSV format.

Columns ``id, evidence, claim, label`` (others are ignored); labels Supports / Refutes / Neutral,
or SciFact's SUPPORT / CONTRADICT / NEI, in any case.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Sequence

from pipeline.compare.stance import STANCES, StanceClassifier
from pipeline.scoring import prf

_LABELS = {
    "supports": "supports", "support": "supports", "supported": "supports",
    "refutes": "contradicts", "refute": "contradicts", "contradict": "contradicts", "contradicts": "contradicts",
    "neutral": "unrelated", "nei": "unrelated", "not enough info": "unrelated", "unrelated": "unrelated",
}


def normalise_label(label: str) -> str:
    """One of STANCES for a HealthVer, SciFact or own label; ValueError for anything else."""
    try:
        return _LABELS[label.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown stance label {label!r}: expected Supports/Refutes/Neutral "
                         f"or SUPPORT/CONTRADICT/NEI") from None


def score_predictions(gold: Sequence[str], predicted: Sequence[str]) -> dict:
    """Per-label precision/recall/F1 with support, their unweighted mean (macro-F1) and accuracy."""
    labels = {}
    for label in STANCES:
        tp = sum(g == p == label for g, p in zip(gold, predicted))
        labels[label] = {**prf(tp, sum(p == label for p in predicted), sum(g == label for g in gold)),
                         "support": sum(g == label for g in gold)}
    return {"n": len(gold), "labels": labels,
            "macro_f1": round(sum(s["f1"] for s in labels.values()) / len(labels), 4),
            "accuracy": round(sum(g == p for g, p in zip(gold, predicted)) / len(gold), 4) if gold else 0.0}


def evaluate_file(path: Path | str, classifier: StanceClassifier | None = None) -> dict:
    """Scores of ``classifier`` (default: the shipped weights) on a HealthVer-format CSV."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"evidence", "claim", "label"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}; expected HealthVer's "
                             f"id, evidence, claim, label")
        rows = list(reader)
    gold = [normalise_label(r["label"]) for r in rows]
    predictions = (classifier or StanceClassifier.load()).predict_many([(r["claim"], r["evidence"]) for r in rows])
    return score_predictions(gold, [p.label for p in predictions])


def evaluate_scifact(directory: Path | str, classifier: StanceClassifier | None = None) -> dict:
    """Scores on claims in SciFact's format (``claims_train.jsonl`` + ``corpus.jsonl[.gz]`` in
    ``directory``): each rationale set is a supports/contradicts pair; a cited abstract without
    evidence gives unrelated pairs, built as for training (``stance_train.read_multivers``)."""
    from pipeline.compare.stance_train import read_multivers

    pairs = read_multivers(Path(directory), set(), "scifact")
    predictions = (classifier or StanceClassifier.load()).predict_many([(p.claim, p.evidence) for p in pairs])
    return score_predictions([p.label for p in pairs], [p.label for p in predictions])
