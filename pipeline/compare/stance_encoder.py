"""Stance with a fine-tuned cross-encoder, stacked with the feature model and calibrated on dev data.

all-MiniLM-L6-v2 fine-tuned on (claim, evidence) pairs (``training.stance_encoder_train``, docs/stance.md)
reads both texts together and gives three logits (supports, contradicts, unrelated). The package's stacker
turns them into probabilities: a multinomial logistic regression that may also read the two logits of the
feature model of :mod:`pipeline.compare.stance`, fitted on out-of-fold predictions for dev claims neither
model trained on. Stacking did not help on dev, so the shipped stacker is the cross-encoder's logits divided
by one temperature fitted there: its labels, calibrated probabilities (``meta.json`` records the choice).

Evidence longer than ``max_sentences`` sentences (a whole abstract) is cut to the sentences that bear on the
claim: the ``max_sentences`` most similar to it by the sentence encoder, kept in their order, as in training.

The graph, its tokenizer and the stacker's weights ship in the package ``exoclaims_stance``
(``models/exoclaims_stance``) and run on onnxruntime; no torch.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from pipeline.compare.stance import STANCES, StanceClassifier, StancePrediction, predictions_from
from pipeline.nlp.encoder import MODEL_PACKAGE, OnnxModel, SentenceEncoder, package_dir, sentence_encoder

STANCE_PACKAGE = "exoclaims_stance"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])")


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def select_sentences(claim_vec: np.ndarray, sentence_vecs: np.ndarray, k: int = 3) -> list[int]:
    """Indices (in document order) of the ``k`` sentences whose embeddings are closest to the claim's by
    cosine; ties go to the earlier sentence. The evidence passage of a whole abstract is these sentences
    joined, in training (``training.stance_encoder_train``) and at run time."""
    if len(sentence_vecs) == 0:
        return []
    claim = np.asarray(claim_vec, dtype=np.float64).ravel()
    sentence_vecs = np.asarray(sentence_vecs, dtype=np.float64).reshape(len(sentence_vecs), len(claim))
    norms = np.linalg.norm(sentence_vecs, axis=1) * (np.linalg.norm(claim) or 1.0)
    cosine = sentence_vecs @ claim / np.where(norms == 0, 1.0, norms)
    return sorted(np.lexsort((np.arange(len(cosine)), -cosine))[:k].tolist())


@dataclass(frozen=True)
class Stacker:
    """softmax(features @ weights + bias): features are the encoder's 3 logits and the feature model's 2."""

    weights: np.ndarray  # (5, 3)
    bias: np.ndarray  # (3,)

    @property
    def uses_features(self) -> bool:
        """False for a calibration of the cross-encoder alone (its feature-model rows are zero)."""
        return bool(np.any(self.weights[3:]))

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        z = features @ self.weights + self.bias
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


class EncoderStance:
    """P(supports, contradicts, unrelated) of (claim, evidence) pairs; the interface of StanceClassifier."""

    def __init__(self, cross_encoder: OnnxModel, stacker: Stacker | None, features: StanceClassifier,
                 sentences: SentenceEncoder | None, max_sentences: int, version: str) -> None:
        self.cross_encoder = cross_encoder
        self.stacker = stacker
        self.features = features
        self.sentences = sentences
        self.max_sentences = max_sentences
        self.version = version

    @classmethod
    def load(cls, package: str = STANCE_PACKAGE, threads: int = 1) -> "EncoderStance":
        directory = package_dir(package)
        meta = json.loads((directory / "meta.json").read_text())
        model = OnnxModel.open(directory / "stance.onnx", directory / "tokenizer.json", int(meta["max_length"]),
                               threads, "logits")
        stack = meta.get("stacker")
        stacker = Stacker(np.asarray(stack["weights"], dtype=np.float64), np.asarray(stack["bias"], dtype=np.float64)) \
            if stack else None
        selection = meta.get("evidence_sentences", 0)
        encoder = sentence_encoder(meta.get("sentence_encoder", MODEL_PACKAGE), threads) if selection else None
        return cls(model, stacker, StanceClassifier.load(), encoder, int(selection or 0),
                   f"{meta['name']}-{meta['onnx_sha256'][:12]}")

    def focus(self, claim: str, evidence: str) -> str:
        """The evidence as the model reads it: whole when short, else its sentences nearest the claim."""
        if not self.max_sentences or self.sentences is None:
            return evidence
        parts = split_sentences(evidence)
        if len(parts) <= self.max_sentences:
            return evidence
        vectors = self.sentences.embed([claim] + parts)
        return " ".join(parts[i] for i in select_sentences(vectors[0], vectors[1:], self.max_sentences))

    def probabilities(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        if not pairs:
            return np.zeros((0, len(STANCES)))
        focused = [(claim, self.focus(claim, evidence)) for claim, evidence in pairs]
        logits = self.cross_encoder.run(focused, batch_size=16).astype(np.float64)
        stacker = self.stacker or Stacker(np.vstack([np.eye(3), np.zeros((2, 3))]), np.zeros(3))
        features = self.features.logits(focused) if stacker.uses_features else np.zeros((len(pairs), 2))
        return stacker.probabilities(np.hstack([logits, features]))

    def predict(self, claim: str, evidence: str) -> StancePrediction:
        return self.predict_many([(claim, evidence)])[0]

    def predict_many(self, pairs: Sequence[tuple[str, str]]) -> list[StancePrediction]:
        return predictions_from(self.probabilities(pairs))


@functools.cache
def encoder_stance(package: str = STANCE_PACKAGE, threads: int = 1) -> EncoderStance:
    """The process's stance model, loaded once."""
    return EncoderStance.load(package, threads)
