"""Package the fine-tuned stance cross-encoder for the nightly run (the package ``exoclaims_stance``).

ONNX, int8 where that is cheap, stacked
with the feature model and calibrated on out-of-fold dev predictions (the package ``exoclaims_stance``).

    python -m training.stance_encoder_package TRAIN_OUT models/exoclaims_stance/exoclaims_stance \\
        --corpora ../shared/corpora

``TRAIN_OUT`` is what ``training.stance_encoder_train --all`` (or ``--variants`` and ``--final``) wrote:
``model/`` (the final weights), ``logits.npz`` (out-of-fold logits of the chosen variant on HealthVer tuning
rows, and on SciFact dev) and ``results.json``.

1. The final model is exported to ONNX (``input_ids``, ``attention_mask``, ``token_type_ids`` → ``logits``) and
   dynamically quantised like the sentence encoder (signed int8 weights of the matrix products, per channel).
   The int8 graph ships when it costs less than 0.01 macro-F1 on SciFact dev (claims the model never saw, whole
   abstracts cut to 3 sentences); the share of labels it changes there is recorded beside. Where it costs more,
   the feed-forward output products whose int8 alone moves the logits furthest on 200 HealthVer tuning pairs
   (:func:`training.encoder_export.outlier_products`, no labels read) stay fp32, and that graph ships where it
   costs less than 0.01; else the fp32 graph does.
2. The stacker: a multinomial logistic regression over the cross-encoder's 3 logits and the feature model's 2
   (:mod:`pipeline.compare.stance`), fitted on the out-of-fold rows — HealthVer tuning claims scored by a
   cross-encoder trained without them, and by a feature model trained without them (:func:`feature_oof_logits`). Its regularisation is chosen by cross-validation grouped by claim on those rows; it
   ships only where that cross-validated macro-F1 beats the cross-encoder's own labels by at least 0.01;
   otherwise the cross-encoder's logits are divided by one temperature fitted on those rows (the labels stay
   the cross-encoder's, the probabilities are calibrated). A regression on the 3 logits alone is scored too.
   The held-out HealthVer claims are not used here.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from pipeline.compare.stance import STANCES, StanceClassifier
from pipeline.evaluation.stance import score_predictions
from training.claim_detector_encoder import BASES
from training.encoder_export import MAX_QUANTISATION_COST, export_onnx, outlier_products, quantise, sha256
from training.stance_encoder_train import final_figures, forward, load_model

log = logging.getLogger(__name__)
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


def _index_if_missing(model_dir: Path) -> None:
    """Rebuild ``model.safetensors.index.json`` from the shards (it can be lost in transfer)."""
    index = model_dir / "model.safetensors.index.json"
    if index.exists():
        return
    from safetensors import safe_open

    weight_map, parts = {}, {}
    for shard in sorted(model_dir.glob("model-*.safetensors")):
        with safe_open(str(shard), "np") as fh:
            for key in fh.keys():
                weight_map[key] = shard.name
                if ".part" in key:
                    name, _, n = key.rpartition(".part")
                    parts.setdefault(name, []).append((int(n), key))
    index.write_text(json.dumps({"weight_map": weight_map, "concatenate_axis0": {
        name: [k for _, k in sorted(keys)] for name, keys in parts.items()}}, indent=1) + "\n")


def logits_module(model, pooling: str):
    """A stance model (``training.stance_encoder_train.build_model``) as a module from (ids, mask, token types) to
    its three logits: what is exported to ONNX."""
    import torch

    class StanceLogits(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return forward(self.model, pooling, input_ids, token_type_ids, attention_mask)

    return StanceLogits().eval()


def _macro_f1(gold: Sequence[str], logits: np.ndarray) -> float:
    return score_predictions(list(gold), [STANCES[i] for i in logits.argmax(axis=1)])["macro_f1"]


def _fit(features: np.ndarray, gold: np.ndarray, c: float):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=2000).fit(features, gold)


def choose_stacker(cross: np.ndarray, feature_logits: np.ndarray, gold: np.ndarray, groups: np.ndarray) -> dict:
    """Cross-validated macro-F1 (grouped by claim) of calibrating the cross-encoder alone and of stacking it
    with the feature model, over :data:`C_GRID`; the stack where it beats the cross-encoder's own labels by
    0.01, else the cross-encoder with a fitted temperature (its labels kept, its probabilities calibrated)."""
    labels = [STANCES[i] for i in gold]
    absent = [stance for stance in STANCES if stance not in labels]
    if absent:  # a head fitted without a label would have the wrong shape: refuse rather than package it
        raise ValueError(f"the stacker's {len(gold)} rows hold no {' or '.join(absent)} pair: too few to calibrate")
    distinct = sorted(set(groups))
    rng = np.random.default_rng(20261204)
    fold_of = dict(zip(distinct, rng.permutation(len(distinct)) % 5))
    folds = np.array([fold_of[g] for g in groups])
    options = {"calibrated cross-encoder": cross, "cross-encoder + feature model": np.hstack([cross, feature_logits])}
    scores: dict[str, dict[float, float]] = {}
    for name, x in options.items():
        scores[name] = {}
        for c in C_GRID:
            predicted = np.zeros((len(gold), 3))
            for f in range(5):
                test = folds == f
                model = _fit(x[~test], gold[~test], c)
                # a fold's training rows may lack a label on small data: its column stays 0
                predicted[np.ix_(test, model.classes_)] = model.predict_proba(x[test])
            scores[name][c] = _macro_f1(labels, predicted)
    best = {name: max(s, key=s.get) for name, s in scores.items()}
    base = _macro_f1(labels, cross)
    stacked = scores["cross-encoder + feature model"][best["cross-encoder + feature model"]]
    summary = {"cv_macro_f1": {k: {str(c): v for c, v in s.items()} for k, s in scores.items()},
               "cross_encoder_argmax_macro_f1": base, "rows": int(len(gold)), "claims": len(distinct)}
    if stacked >= base + 0.01:
        model = _fit(options["cross-encoder + feature model"], gold, best["cross-encoder + feature model"])
        return {"choice": "cross-encoder + feature model", "C": best["cross-encoder + feature model"], **summary,
                "weights": np.round(model.coef_.T, 6).tolist(), "bias": np.round(model.intercept_, 6).tolist()}
    # neither stacking nor a fitted calibration beat the cross-encoder's own labels: keep its decisions and
    # calibrate its probabilities with one temperature (the labels cannot change)
    temperature = fit_temperature(cross, gold)
    weights = np.vstack([np.eye(3) / temperature, np.zeros((2, 3))])
    return {"choice": "cross-encoder, temperature-scaled", "temperature": round(temperature, 4), **summary,
            "nll_before": round(_nll(cross, gold), 4), "nll_after": round(_nll(cross / temperature, gold), 4),
            "weights": np.round(weights, 6).tolist(), "bias": [0.0, 0.0, 0.0]}


def _nll(logits: np.ndarray, gold: np.ndarray) -> float:
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(gold)), gold].mean())


def fit_temperature(logits: np.ndarray, gold: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of the gold labels (a grid, then refined)."""
    grid = np.exp(np.linspace(np.log(0.25), np.log(8.0), 200))
    return float(min(grid, key=lambda t: _nll(logits / t, gold)))


def feature_oof_logits(corpora: Path, keys: np.ndarray, c_related: float = 0.1, c_direction: float = 1.0) -> np.ndarray:
    """The feature model's two logits for tuning rows, each from a model trained without its fold (the shipped
    feature model trained on every tuning row, so its own logits there would leak the labels into the
    stacker). Same folds, training pairs and regularisation as ``stance_train``."""
    from training.stance_train import (
        CV_FOLDS, Features, _folds, _stage_models, heldout_claims, read_dev_csv, read_multivers)
    from training.stance_encoder_train import pair_key

    dev = read_dev_csv(corpora / "healthver" / "healthver_dev.csv")
    heldout = heldout_claims(dev)
    tune = [p for p in dev if p.group not in heldout]
    extra = read_multivers(corpora / "healthver" / "multivers", {p.group for p in dev}, "healthver")
    features = Features.of(list(extra) + tune)
    tune_rows = np.arange(len(extra), len(extra) + len(tune))
    tune_keys = np.array([pair_key(p.claim, p.evidence) for p in tune])
    logits = np.full((len(tune), 2), np.nan)
    wanted = set(keys.tolist())
    for in_fold in _folds([p.group for p in tune], CV_FOLDS):
        if not wanted & set(tune_keys[in_fold].tolist()):
            continue
        test = tune_rows[in_fold]
        train = np.setdiff1d(np.arange(features.matrix.shape[0]), test)
        relatedness, direction = _stage_models(features, train, c_related, c_direction)
        logits[in_fold] = np.column_stack([relatedness.decision_function(features.matrix[test]),
                                           direction.decision_function(features.matrix[test])])
    row_of = {k: i for i, k in enumerate(tune_keys)}
    return logits[[row_of[k] for k in keys]]


def probe_pairs(corpora: Path, n: int = 200) -> list[tuple[str, str]]:
    """``n`` HealthVer tuning pairs, never a held-out claim's, the same each run: what the search for products to
    leave fp32 reads (without their labels)."""
    from training.stance_train import heldout_claims, read_dev_csv

    dev = read_dev_csv(corpora / "healthver" / "healthver_dev.csv")
    heldout = heldout_claims(dev)
    tune = [p for p in dev if p.group not in heldout]
    return [(p.claim, p.evidence) for p in random.Random(20261207).sample(tune, min(n, len(tune)))]


def _tuning_rows(corpora: Path, keys: np.ndarray) -> tuple[list[tuple[str, str]], np.ndarray]:
    """The (claim, evidence) texts of the out-of-fold rows, found by their keys in the dev CSV."""
    from training.stance_train import normalise_claim, read_dev_csv
    from training.stance_encoder_train import pair_key

    by_key = {pair_key(p.claim, p.evidence): p for p in read_dev_csv(corpora / "healthver" / "healthver_dev.csv")}
    rows = [by_key[k] for k in keys]
    return [(p.claim, p.evidence) for p in rows], np.array([normalise_claim(p.claim) for p in rows])


def build_package(train_out: Path, out: Path, corpora: Path, oof_prefix: str = "oof",
                  oof_logits: str | None = None) -> dict:
    from pipeline.compare.stance_encoder import EncoderStance, Stacker
    from pipeline.evaluation.stance import scifact_abstract_pairs
    from pipeline.nlp.encoder import OnnxModel, sentence_encoder

    model_dir = train_out / "model"
    _index_if_missing(model_dir)
    arrays = np.load(train_out / "logits.npz", allow_pickle=False)
    results = json.loads((train_out / "results.json").read_text())
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = out / "tokenizer.json"
    if (model_dir / "tokenizer.json").exists():
        shutil.copyfile(model_dir / "tokenizer.json", tokenizer)
    else:
        from pipeline.nlp.encoder import package_dir

        shutil.copyfile(package_dir("exoclaims_minilm") / "tokenizer.json", tokenizer)
    config = json.loads((model_dir / "config.json").read_text())
    max_length = int(config["exoclaims_stance"]["max_length"])
    dev_ids = {int(line.split()[0]) for line in (Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "stance"
                                                  / "scifact_dev_claims.txt").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    scifact = scifact_abstract_pairs(corpora / "scifact", dev_ids)
    with tempfile.TemporaryDirectory() as tmp:
        fp32, int8 = Path(tmp) / "stance.fp32.onnx", Path(tmp) / "stance.int8.onnx"
        export_onnx(logits_module(*load_model(model_dir)), fp32, "logits")
        # a base-sized encoder's word-piece table is a fifth of its graph: int8 too (as the sentence encoder export
        # does for base-sized candidates); the SciFact cost check below still decides int8 against fp32
        quantise(fp32, int8, embeddings=int(config["hidden_size"]) >= 768)
        readers = {name: EncoderStance(OnnxModel.open(path, tokenizer, max_length, 1, "logits"), None,
                                       StanceClassifier.load(), sentence_encoder(), 3, name)
                   for name, path in (("fp32", fp32), ("int8", int8))}
        focused = [(c, readers["fp32"].focus(c, e)) for c, e, _ in scifact]
        gold = [label for _, _, label in scifact]
        logits = {name: r.cross_encoder.run(focused, 16) for name, r in readers.items()}
        f1 = {name: _macro_f1(gold, x) for name, x in logits.items()}
        changed = float(np.mean(logits["fp32"].argmax(1) != logits["int8"].argmax(1)))
        cost = f1["fp32"] - f1["int8"]
        quantisation = {"scifact_dev_macro_f1": f1, "labels_changed": round(changed, 4), "cost": round(cost, 4)}
        shipped, graph = ("int8", int8) if cost < MAX_QUANTISATION_COST else ("fp32", fp32)
        if shipped == "fp32":
            # every product int8 costs too much: leave fp32 the few whose int8 strays furthest (found on tuning rows,
            # without their labels), and ship that graph where it costs under the limit
            probe = probe_pairs(corpora)
            found = outlier_products(fp32, lambda path: OnnxModel.open(path, tokenizer, max_length, 1, "logits").run(
                probe, 16), Path(tmp))
            partial = Path(tmp) / "stance.int8-partial.onnx"
            quantise(fp32, partial, keep_fp32=found["fp32_products"])
            f1["int8_partial"] = _macro_f1(gold, OnnxModel.open(partial, tokenizer, max_length, 1, "logits").run(
                focused, 16))
            quantisation["partial"] = {**found, "cost": round(f1["fp32"] - f1["int8_partial"], 4)}
            if found["fp32_products"] and f1["fp32"] - f1["int8_partial"] < MAX_QUANTISATION_COST:
                shipped, graph = f"int8, {len(found['fp32_products'])} feed-forward output products fp32", partial
        shutil.copyfile(graph, out / "stance.onnx")
    keys, gold_oof = arrays[f"{oof_prefix}_keys"], arrays[f"{oof_prefix}_gold"]
    oof = arrays[oof_logits or f"{oof_prefix}_logits"]
    pairs, groups = _tuning_rows(corpora, keys)
    stacker = choose_stacker(oof.astype(np.float64), feature_oof_logits(corpora, keys), gold_oof, groups)
    stacker["out_of_fold_rows"] = oof_logits or f"{oof_prefix}_logits"
    stack = Stacker(np.asarray(stacker["weights"]), np.asarray(stacker["bias"]))
    reader = EncoderStance(OnnxModel.open(out / "stance.onnx", tokenizer, max_length, 1, "logits"), stack,
                           StanceClassifier.load(), sentence_encoder(), 3, "packaged")
    scifact_scores = score_predictions(gold, [p.label for p in reader.predict_many([(c, e) for c, e, _ in scifact])])
    meta = {
        "name": "exoclaims_stance",
        "base_model": BASES["mpnet" if config.get("model_type") == "mpnet" else "minilm"].description,
        "variant": config["exoclaims_stance"].get("variant"),
        "labels": list(STANCES),
        "output": "logits",
        "max_length": max_length,
        "evidence_sentences": 3,
        "sentence_encoder": "exoclaims_minilm",
        "weights": shipped,
        "quantisation": quantisation,
        "stacker": stacker,
        "scifact_dev_macro_f1_packaged": scifact_scores["macro_f1"],
        "training": {**{k: results[k] for k in ("environment", "choice") if k in results},
                     **final_figures(results.get("final") or {})},
    }
    meta["onnx_sha256"] = sha256(out / "stance.onnx")
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("train_out", type=Path, help="what stance_encoder_train wrote (model/, logits.npz, results.json)")
    parser.add_argument("out", type=Path, help="the package's data folder, e.g. models/exoclaims_stance/exoclaims_stance")
    parser.add_argument("--corpora", type=Path, required=True, help="folder laid out like ../shared/corpora")
    parser.add_argument("--oof", default="oof", help="the logits.npz rows to fit the stacker on: PREFIX_keys, "
                                                     "PREFIX_gold, PREFIX_logits (default 'oof': all tuning folds)")
    parser.add_argument("--oof-logits", help="another logits.npz array for those rows, e.g. "
                                             "sweep_<variant>_fold0_logits with --oof fold0")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    print(json.dumps(build_package(args.train_out, args.out, args.corpora, args.oof, args.oof_logits), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
