"""Train the stance classifier's weights from HealthVer (and optionally SciFact) and export them.

    python -m training.stance_train ../shared/corpora pipeline/compare/stance_weights.npz

Training pairs (docs/stance.md says why):

* HealthVer train, MultiVerS format: every rationale set of a claim–abstract pair gives one pair
  (claim, its sentences joined) labelled supports / contradicts. A claim–abstract pair without
  evidence gives "unrelated" pairs the way HealthVer's own neutral pairs arise, passages that answer
  the same question but not this claim: the rationale sets that other claims have in the same
  abstract, or, if there are none, the two abstract sentences sharing most words with the claim.
  Train claims whose normalised text occurs in the dev CSV are dropped.
* HealthVer dev CSV, the claims not held out (``tests/fixtures/stance/healthver_heldout.tsv`` lists
  the held-out ones; it is written here, by claim with a fixed seed, when missing).

The regularisation strengths of the two models are chosen by cross-validation grouped by claim on
the dev pairs that are not held out; the held-out claims' pairs are set aside before anything else.
Needs the ``train`` extra (scikit-learn); the exported weights are scored with numpy alone.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from pipeline.compare.stance import HASH_BITS, STANCES, PairFeatures, StanceClassifier, _Side, combine_stages
from pipeline.evaluation.claim_corpus import cited_doc_ids, read_abstracts, read_claims
from pipeline.evaluation.stance import normalise_label, score_predictions

log = logging.getLogger(__name__)

HELDOUT_PATH = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "stance" / "healthver_heldout.tsv"
HELDOUT_FRACTION = 0.4
SPLIT_SEED = 20240517
CV_FOLDS = 5
CS = (0.03, 0.1, 0.3, 1.0)


@dataclass(frozen=True)
class Pair:
    claim: str
    evidence: str
    label: str  # one of STANCES
    group: str  # claims sharing a group never go to different folds


def normalise_claim(text: str) -> str:
    return " ".join(text.lower().split())


def read_dev_csv(path: Path) -> list[Pair]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [Pair(r["claim"], r["evidence"], normalise_label(r["label"]), normalise_claim(r["claim"]))
                for r in csv.DictReader(fh)]


def claim_key(text: str) -> str:
    """A claim's identity in the held-out list: a hash of its normalised text, so the list commits no
    corpus text."""
    return hashlib.sha1(normalise_claim(text).encode("utf-8")).hexdigest()[:16]


def heldout_claims(dev: Sequence[Pair], path: Path = HELDOUT_PATH) -> set[str]:
    """The held-out claims (normalised text); drawn with a fixed seed and written to ``path`` (as
    :func:`claim_key` hashes) if missing."""
    claims = sorted({p.group for p in dev})
    if not path.exists():
        chosen = sorted(random.Random(SPLIT_SEED).sample(claims, round(len(claims) * HELDOUT_FRACTION)))
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("# HealthVer dev claims held out from stance training and tuning: sha1 of the lower-cased, "
                     f"whitespace-normalised claim text (first 16 hex); random.Random({SPLIT_SEED}).sample of "
                     f"{len(chosen)} of {len(claims)}\n")
            fh.writelines(f"{claim_key(claim)}\n" for claim in sorted(chosen, key=claim_key))
    with open(path, encoding="utf-8") as fh:
        keys = {line.strip() for line in fh if line.strip() and not line.startswith("#")}
    return {claim for claim in claims if claim_key(claim) in keys}


def _top_sentences(claim: str, sentences: Sequence[str], k: int = 2) -> list[int]:
    words = _Side.of(claim).content
    overlap = [len(words & _Side.of(s).content) for s in sentences]
    return sorted(sorted(range(len(sentences)), key=lambda i: (-overlap[i], i))[:k])


def read_multivers(directory: Path, exclude: set[str], source: str) -> list[Pair]:
    """Pairs from a SciFact/MultiVerS ``claims_train.jsonl`` and its corpus (see the module docstring)."""
    corpus = {doc_id: row["abstract"] for doc_id, row in read_abstracts(directory).items()}
    claims = [c for c in read_claims(directory) if normalise_claim(c["claim"]) not in exclude]
    rationales: dict[int, list[tuple[int, tuple[int, ...]]]] = defaultdict(list)
    for c in claims:
        for doc_id, sets in c["evidence"].items():
            rationales[int(doc_id)].extend((c["id"], tuple(s["sentences"])) for s in sets)
    pairs = []
    for c in claims:
        group = f"{source}:{c['id']}"
        for doc_id in cited_doc_ids(c):
            sentences = corpus[doc_id]
            sets = c["evidence"].get(str(doc_id), [])
            for s in sets:
                label = {"SUPPORT": "supports", "CONTRADICT": "contradicts"}[s["label"]]
                pairs.append(Pair(c["claim"], " ".join(sentences[i] for i in s["sentences"]), label, group))
            if sets:
                continue
            others = sorted({idx for cid, idx in rationales[doc_id] if cid != c["id"]})
            for idx in others or [tuple(_top_sentences(c["claim"], sentences))]:
                pairs.append(Pair(c["claim"], " ".join(sentences[i] for i in idx), "unrelated", group))
    return pairs


def featurize(pairs: Sequence[Pair]) -> tuple[np.ndarray, "object"]:
    """Dense matrix and sparse hashed matrix (CSR) of the pairs."""
    feats = [PairFeatures.of(p.claim, p.evidence) for p in pairs]
    dense = np.vstack([f.dense for f in feats])
    indptr = np.cumsum([0] + [len(f.hashed) for f in feats])
    indices = np.concatenate([f.hashed for f in feats]) if feats else np.zeros(0, dtype=np.int64)
    hashed = sparse.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(feats), 1 << HASH_BITS))
    return dense, hashed


@dataclass(frozen=True)
class Features:
    """The training pairs' features: dense values standardised, hashed indicators as a CSR matrix."""

    matrix: "object"  # scipy CSR: standardised dense columns, then the hashed columns
    mean: np.ndarray
    scale: np.ndarray
    labels: np.ndarray  # index into STANCES

    @classmethod
    def of(cls, pairs: Sequence[Pair]) -> "Features":
        dense, hashed = featurize(pairs)
        mean, scale = dense.mean(axis=0), dense.std(axis=0)
        scale[scale == 0] = 1.0
        matrix = sparse.hstack([sparse.csr_matrix((dense - mean) / scale), hashed]).tocsr()
        return cls(matrix, mean, scale, np.array([STANCES.index(p.label) for p in pairs]))


_UNRELATED, _CONTRADICTS = STANCES.index("unrelated"), STANCES.index("contradicts")


def _logistic(x, y: np.ndarray, c: float) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(x, y)


def _stage_models(features: Features, rows: np.ndarray, c_related: float, c_direction: float) -> tuple:
    """The relatedness model (all rows) and the direction model (rows whose gold label is not unrelated)."""
    y = features.labels[rows]
    related = rows[y != _UNRELATED]
    return (_logistic(features.matrix[rows], y == _UNRELATED, c_related),
            _logistic(features.matrix[related], features.labels[related] == _CONTRADICTS, c_direction))


def _export(features: Features, relatedness, direction) -> StanceClassifier:
    """The two models' weights with the standardisation folded into the dense weights and the bias."""
    coef = np.column_stack([relatedness.coef_[0], direction.coef_[0]])
    n_dense = len(features.mean)
    dense = coef[:n_dense] / features.scale[:, None]
    intercepts = np.array([relatedness.intercept_[0], direction.intercept_[0]])
    bias = intercepts - (features.mean / features.scale) @ coef[:n_dense]
    return StanceClassifier(dense, coef[n_dense:], bias)


def _two_stage(p_unrelated: np.ndarray, p_contradicts: np.ndarray) -> list[str]:
    return [STANCES[i] for i in combine_stages(p_unrelated, p_contradicts).argmax(axis=1)]


def _folds(groups: Sequence[str], k: int) -> list[np.ndarray]:
    distinct = sorted(set(groups))
    random.Random(SPLIT_SEED).shuffle(distinct)
    fold_of = {g: i % k for i, g in enumerate(distinct)}
    return [np.array([fold_of[g] == f for g in groups]) for f in range(k)]


def cross_validate(extra: Sequence[Pair], tune: Sequence[Pair]) -> dict[tuple[float, float], dict]:
    """Scores on the tuning pairs for every (C of relatedness, C of direction) in the grid.

    Each fold (claims grouped) is scored by models trained on the other folds plus ``extra``.
    """
    features = Features.of(list(extra) + list(tune))
    tune_rows = np.arange(len(extra), len(extra) + len(tune))
    p_unrelated = {c: np.zeros(len(tune)) for c in CS}
    p_contradicts = {c: np.zeros(len(tune)) for c in CS}
    for in_fold in _folds([p.group for p in tune], CV_FOLDS):
        test = tune_rows[in_fold]
        train = np.setdiff1d(np.arange(features.matrix.shape[0]), test)
        related = train[features.labels[train] != _UNRELATED]
        for c in CS:
            model = _logistic(features.matrix[train], features.labels[train] == _UNRELATED, c)
            p_unrelated[c][in_fold] = model.predict_proba(features.matrix[test])[:, 1]
            model = _logistic(features.matrix[related], features.labels[related] == _CONTRADICTS, c)
            p_contradicts[c][in_fold] = model.predict_proba(features.matrix[test])[:, 1]
    gold = [p.label for p in tune]
    return {(c1, c2): score_predictions(gold, _two_stage(p_unrelated[c1], p_contradicts[c2])) for c1 in CS for c2 in CS}


def train(corpora: Path, out: Path, use_scifact: bool = False) -> dict:
    dev = read_dev_csv(corpora / "healthver" / "healthver_dev.csv")
    heldout = heldout_claims(dev)
    tune = [p for p in dev if p.group not in heldout]
    dev_claims = {p.group for p in dev}
    extra = read_multivers(corpora / "healthver" / "multivers", dev_claims, "healthver")
    if use_scifact:
        extra += read_multivers(corpora / "scifact", dev_claims, "scifact")
    log.info("training pairs: %d from train corpora, %d dev pairs for tuning (%d claims); %d claims held out",
             len(extra), len(tune), len({p.group for p in tune}), len(heldout))
    grid = cross_validate(extra, tune)
    for (c1, c2), scores in grid.items():
        log.info("C relatedness=%g direction=%g: macro-F1 %.4f accuracy %.4f", c1, c2, scores["macro_f1"],
                 scores["accuracy"])
    (c1, c2), best = max(grid.items(), key=lambda item: item[1]["macro_f1"])
    features = Features.of(extra + tune)
    classifier = _export(features, *_stage_models(features, np.arange(len(extra) + len(tune)), c1, c2))
    classifier.save(out)
    summary = {"cv_macro_f1": best["macro_f1"], "cv_labels": best["labels"], "C_relatedness": c1,
               "C_direction": c2, "train_pairs": len(extra) + len(tune), "weights": str(out)}
    log.info("chosen: C relatedness=%g direction=%g", c1, c2)
    return summary


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpora", type=Path, help="directory holding healthver/ (and scifact/)")
    parser.add_argument("out", type=Path, help="where to write the weights (.npz)")
    parser.add_argument("--scifact", action="store_true", help="add SciFact train claims to the training pairs")
    args = parser.parse_args(list(argv) if argv is not None else None)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(json.dumps(train(args.corpora, args.out, args.scifact), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
