"""Score a stance model on labelled claim–evidence pairs.

A file in HealthVer's CSV format: columns ``id, evidence, claim, label`` (others are ignored); labels
Supports / Refutes / Neutral, or SciFact's SUPPORT / CONTRADICT / NEI, in any case. Or a SciFact-format folder
(``claims_train.jsonl`` + ``corpus.jsonl[.gz]``): each claim against each abstract it cites, the label the
abstract's evidence gives (no evidence: unrelated), the WHOLE abstract as the evidence (label only, as
MultiVerS reports it); the model picks the sentences it reads.

The model is the one the pipeline runs (:func:`default_model`: the cross-encoder of
:mod:`pipeline.compare.stance_encoder` when its package is installed) unless one is given.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Sequence

from pipeline.compare.stance import STANCES, StanceClassifier
from pipeline.evaluation.claim_corpus import cited_doc_ids, read_abstracts, read_claims
from pipeline.evaluation.metrics import prf

MODELS = ("encoder", "features")


def default_model(name: str | None = None, package: str | None = None):
    """``encoder``: the stacked cross-encoder (:mod:`pipeline.compare.stance_encoder`) of ``package`` (an installed
    package's name or a package's folder; default ``exoclaims_stance``); ``features``: the feature model alone
    (:mod:`pipeline.compare.stance`). By default the encoder where it is installed."""
    from pipeline.compare.stance_encoder import STANCE_PACKAGE, encoder_stance
    from pipeline.nlp.encoder import ModelMissing

    if name == "features":
        return StanceClassifier.load()
    try:
        return encoder_stance(package or STANCE_PACKAGE)
    except ModelMissing:
        if name == "encoder":
            raise
        return StanceClassifier.load()

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
    """Per-label precision/recall/F1 with support, their unweighted mean (macro-F1), accuracy and the confusion
    matrix (``confusion[gold][predicted]``: how many pairs)."""
    labels = {}
    for label in STANCES:
        tp = sum(g == p == label for g, p in zip(gold, predicted))
        labels[label] = {**prf(tp, sum(p == label for p in predicted), sum(g == label for g in gold)),
                         "support": sum(g == label for g in gold)}
    return {"n": len(gold), "labels": labels,
            "macro_f1": round(sum(s["f1"] for s in labels.values()) / len(labels), 4),
            "accuracy": round(sum(g == p for g, p in zip(gold, predicted)) / len(gold), 4) if gold else 0.0,
            "confusion": {g: {p: sum(x == g and y == p for x, y in zip(gold, predicted)) for p in STANCES}
                          for g in STANCES}}


def misread(pairs: Sequence[tuple[str, str, str]], predictions: Sequence, classifier=None) -> list[dict]:
    """The pairs ``(claim, evidence, gold)`` a model read wrongly, one dict each: the claim, the evidence as the
    model read it (a whole abstract cut to the sentences it chose, where it chooses), the gold and predicted
    labels and the probabilities. For reading errors by hand (docs/stance.md)."""
    focus = getattr(classifier, "focus", None)
    out = []
    for (claim, evidence, gold), prediction in zip(pairs, predictions):
        if prediction.label == gold:
            continue
        out.append({"claim": claim, "evidence": focus(claim, evidence) if focus else evidence, "gold": gold,
                    "predicted": prediction.label,
                    "probabilities": {k: round(float(v), 3) for k, v in prediction.probabilities.items()}})
    return out


def evaluate_file(path: Path | str, classifier=None, errors: list | None = None) -> dict:
    """Scores of ``classifier`` (default: :func:`default_model`) on a HealthVer-format CSV; the misread pairs
    (:func:`misread`) are appended to ``errors`` where given."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"evidence", "claim", "label"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}; expected HealthVer's "
                             f"id, evidence, claim, label")
        rows = list(reader)
    pairs = [(r["claim"], r["evidence"], normalise_label(r["label"])) for r in rows]
    return _score(pairs, classifier or default_model(), errors)


def _score(pairs: Sequence[tuple[str, str, str]], classifier, errors: list | None) -> dict:
    predictions = classifier.predict_many([(claim, evidence) for claim, evidence, _ in pairs])
    if errors is not None:
        errors.extend(misread(pairs, predictions, classifier))
    return score_predictions([gold for _, _, gold in pairs], [p.label for p in predictions])


def scifact_abstract_pairs(directory: Path | str, claim_ids: set[int] | None = None) -> list[tuple[str, str, str]]:
    """(claim, whole abstract, label) for each claim and each abstract it cites; ``claim_ids`` keeps those only."""
    corpus = read_abstracts(directory)
    claims = [c for c in read_claims(directory) if claim_ids is None or c["id"] in claim_ids]
    pairs = []
    for claim in claims:
        for doc_id in cited_doc_ids(claim):
            sets = claim["evidence"].get(str(doc_id), [])
            label = normalise_label(sets[0]["label"]) if sets else "unrelated"
            pairs.append((claim["claim"], " ".join(corpus[doc_id]["abstract"]), label))
    return pairs


def evaluate_scifact(directory: Path | str, classifier=None, claim_ids: set[int] | None = None,
                     errors: list | None = None) -> dict:
    """Label-only scores on SciFact-format claims against the whole abstracts they cite; the misread pairs are
    appended to ``errors`` where given."""
    return _score(scifact_abstract_pairs(directory, claim_ids), classifier or default_model(), errors)
