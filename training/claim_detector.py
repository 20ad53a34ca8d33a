"""Train the learned claim detector: is an article sentence a checkable assertion, and of which kind.

    python -m training.claim_detector OUT.npz [--report REPORT.json]

Two logistic-regression heads over the sentence encoder's embedding (all-MiniLM-L6-v2, the runtime's int8 ONNX
graph, so training and run time see the same vectors) and a few cue features: ``checkable`` (binary) and
``kind`` (efficacy, safety, mechanism, regulatory, time_course, comparison, evidence_gap, background; trained on
the checkable sentences only). The training data are the development articles of the web-article corpus
(``tests/fixtures/web_articles``, the ``dev`` split: never its held-out articles) and the hand-labelled seed
sentences of ``tests/fixtures/claims/article_claims_dev.tsv``.

The threshold on P(checkable) is chosen on out-of-fold probabilities (folds by article, so no article is scored
by a model that saw it): the lowest threshold whose precision is at least ``--min-precision``. Everything is
deterministic (liblinear, fixed folds). Needs scikit-learn (the ``train`` extra); the runtime scores the exported
weights with numpy alone (:mod:`pipeline.claims.detector`).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.claims.detector import KINDS, cue_features
from pipeline.config import PROJECT_ROOT

log = logging.getLogger(__name__)

WEB = PROJECT_ROOT / "tests" / "fixtures" / "web_articles"
SEED_CLAIMS = PROJECT_ROOT / "tests" / "fixtures" / "claims" / "article_claims_dev.tsv"
# the seed labels' older claim types, in the detector's kinds (recommendations and "none" are not checkable)
SEED_KINDS = {"efficacy": "efficacy", "safety": "safety", "mechanism": "mechanism", "evidence": "evidence_gap",
              "comparative": "comparison", "background": "background"}
FOLDS = 5


@dataclass(frozen=True)
class Example:
    group: str  # the article: folds never split one
    text: str
    checkable: bool
    kind: str | None
    core: bool


def web_examples(split: str = "dev") -> list[Example]:
    """Every labelled line of the corpus's ``split`` articles (the title and headings too)."""
    chosen = set(json.loads((WEB / "split.json").read_text(encoding="utf-8"))[split])
    out = []
    for path in sorted((WEB / "labels").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row["article"] in chosen:
                out.append(Example(row["article"], row["quote"], bool(row["checkable"]), row.get("claim_type"),
                                   bool(row.get("core"))))
    return out


def seed_examples() -> list[Example]:
    with SEED_CLAIMS.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [Example("seed:" + r["doc_id"], r["sentence"], r["claim_type"] in SEED_KINDS,
                    SEED_KINDS.get(r["claim_type"]), r["claim_type"] in SEED_KINDS) for r in rows]


def features(texts: list[str], encoder) -> np.ndarray:
    return np.hstack([encoder.embed(texts), np.array([cue_features(t) for t in texts], dtype=np.float32)])


def _fit_checkable(x: np.ndarray, y: np.ndarray, c: float):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced", solver="liblinear", max_iter=2000).fit(x, y)


def _fit_kind(x: np.ndarray, y: list[str], c: float):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced", max_iter=4000).fit(x, y)


def _folds(groups: list[str]) -> list[int]:
    """A fold per group, round robin over the groups in name order (deterministic, balanced in articles)."""
    order = {g: i % FOLDS for i, g in enumerate(sorted(set(groups)))}
    return [order[g] for g in groups]


def out_of_fold(examples: list[Example], x: np.ndarray, c: float) -> tuple[np.ndarray, list[str | None]]:
    """P(checkable) and the predicted kind of every example, each from a model that did not see its article."""
    folds = np.array(_folds([e.group for e in examples]))
    y = np.array([e.checkable for e in examples])
    probability = np.zeros(len(examples))
    kinds: list[str | None] = [None] * len(examples)
    for fold in range(FOLDS):
        train, test = folds != fold, folds == fold
        probability[test] = _fit_checkable(x[train], y[train], c).predict_proba(x[test])[:, 1]
        with_kind = train & y
        model = _fit_kind(x[with_kind], [examples[i].kind for i in np.flatnonzero(with_kind)], c)
        for i, kind in zip(np.flatnonzero(test), model.predict(x[test])):
            kinds[i] = kind
    return probability, kinds


def precision_recall(examples: list[Example], probability: np.ndarray, threshold: float,
                     only_core: bool = False) -> dict:
    """Precision over every sentence predicted checkable (any checkable one is right); recall over the checkable
    ones, or over the core ones only."""
    predicted = probability >= threshold
    checkable = np.array([e.checkable for e in examples])
    gold = checkable & np.array([e.core or not only_core for e in examples])
    return {"threshold": round(float(threshold), 4),
            "precision": round(int((predicted & checkable).sum()) / max(int(predicted.sum()), 1), 4),
            "recall": round(int((predicted & gold).sum()) / max(int(gold.sum()), 1), 4),
            "predicted": int(predicted.sum()), "gold": int(gold.sum())}


def choose_threshold(examples: list[Example], probability: np.ndarray, min_precision: float) -> float:
    """The lowest threshold (highest recall) whose out-of-fold precision reaches ``min_precision``."""
    for threshold in np.round(np.arange(0.05, 0.96, 0.01), 2):
        if precision_recall(examples, probability, threshold)["precision"] >= min_precision:
            return float(threshold)
    return 0.95


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the weights file to write (.npz)")
    parser.add_argument("--report", type=Path, default=None, help="write the cross-validated figures here (JSON)")
    parser.add_argument("--min-precision", type=float, default=0.8)
    parser.add_argument("--c", type=float, default=3.0, help="inverse regularisation strength of both heads")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from pipeline.nlp.encoder import sentence_encoder

    encoder = sentence_encoder()
    examples = web_examples("dev") + seed_examples()
    log.info("%d sentences (%d checkable) from %d articles", len(examples), sum(e.checkable for e in examples),
             len({e.group for e in examples}))
    x = features([e.text for e in examples], encoder)
    probability, kinds = out_of_fold(examples, x, args.c)
    threshold = choose_threshold(examples, probability, args.min_precision)
    checkable = [i for i, e in enumerate(examples) if e.checkable]
    kind_accuracy = sum(kinds[i] == examples[i].kind for i in checkable) / len(checkable)
    report = {
        "examples": len(examples), "checkable": len(checkable), "encoder": encoder.version, "c": args.c,
        "cross_validated": {"all": precision_recall(examples, probability, threshold),
                            "core": precision_recall(examples, probability, threshold, only_core=True),
                            "at_0.5": precision_recall(examples, probability, 0.5),
                            "kind_accuracy_on_checkable": round(kind_accuracy, 4),
                            "kinds": dict(Counter(examples[i].kind for i in checkable))},
        "folds": FOLDS, "min_precision": args.min_precision,
    }
    y = np.array([e.checkable for e in examples])
    head = _fit_checkable(x, y, args.c)
    kind_head = _fit_kind(x[y], [examples[i].kind for i in checkable], args.c)
    assert tuple(kind_head.classes_) == KINDS or set(kind_head.classes_) <= set(KINDS), kind_head.classes_
    weights = np.zeros((len(KINDS), x.shape[1]), dtype=np.float32)
    bias = np.full(len(KINDS), -1e4, dtype=np.float32)  # a kind never seen in training is never predicted
    for row, kind in enumerate(kind_head.classes_):
        weights[KINDS.index(kind)] = kind_head.coef_[row] if len(kind_head.classes_) > 2 else kind_head.coef_[0]
        bias[KINDS.index(kind)] = kind_head.intercept_[row]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, checkable_w=head.coef_[0].astype(np.float32), checkable_b=np.float32(head.intercept_[0]),
             kind_w=weights, kind_b=bias, threshold=np.float32(threshold), encoder=np.array(encoder.version),
             kinds=np.array(KINDS))
    log.info("threshold %.2f: %s", threshold, report["cross_validated"])
    if args.report:
        args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
