"""The learned claim detector: whether a sentence is a checkable assertion, and of which kind.

Whether: all-MiniLM-L6-v2 fine-tuned as a sentence classifier, run as an ONNX graph from the package
``exoclaims_claim_detector`` with the threshold chosen in training; a package whose meta.json says ``"input":
"pair"`` reads each sentence with the sentence before it. Which kind: a linear head over the sentence
encoder's embedding and a few cue features, scored here with numpy. Both are trained by
:mod:`training.claim_detector` (``make models-claims``). The kind weights name the encoder version they were
trained on; a different encoder is refused rather than scored in the wrong space.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.nlp.encoder import OnnxModel, package_dir

KINDS = ("efficacy", "safety", "mechanism", "regulatory", "time_course", "comparison", "evidence_gap", "background")
WEIGHTS_PATH = Path(__file__).with_name("detector_weights.npz")
CLASSIFIER_PACKAGE = "exoclaims_claim_detector"

_CUES = (
    re.compile(r"\b(may|might|could|can|possibly|potential(ly)?|promising|suggests?|appears?)\b", re.I),  # hedges
    re.compile(r"\b(not|no|never|lack(s|ing)?|without|unknown|unclear)\b", re.I),  # negation, gaps
    re.compile(r"\b\d+(\.\d+)?\s*(%|percent|weeks?|months?|years?|sessions?|days?)\b", re.I),  # numbers with units
    re.compile(r"\b(FDA|approved|approval|regulat\w*|licen[sc]ed|legal)\b", re.I),  # regulation
    re.compile(r"\b(than|compared|versus|vs\.?|unlike|better|faster|safer)\b", re.I),  # comparison
    re.compile(r"\b(stud(y|ies)|trials?|research|evidence|data)\b", re.I),  # the evidence
    re.compile(r"[?]\s*$|^\W*(how|what|why|who|when|is|are|can|do|does)\b[^.]*[?]", re.I),  # a question
    re.compile(r"\b(you|your|book|call|contact|schedule|consult)\b", re.I),  # addresses the reader
)


def cue_features(text: str) -> list[float]:
    """Cue features beside the embedding: which cue families the sentence holds, and its length."""
    words = len(text.split())
    return [float(bool(cue.search(text))) for cue in _CUES] + [min(words, 60) / 60.0, float(words < 6)]


@dataclass(frozen=True)
class Detection:
    p_checkable: float
    checkable: bool  # p_checkable at or above the trained threshold
    kind: str  # the most likely kind (meaningful where checkable)
    vetoes_rules: bool = False  # so unlike a checkable assertion that a claim the rules found there is dropped


class ClaimDetector:
    def __init__(self, classifier: OnnxModel, threshold: float, weights: dict[str, np.ndarray],
                 reads_context: bool = False):
        self.classifier = classifier
        self.threshold = threshold
        self.reads_context = reads_context  # the classifier reads (the sentence before, the sentence)
        self.kind_w = weights["kind_w"]
        self.kind_b = weights["kind_b"]
        self.encoder_version = str(weights["encoder"])

    @classmethod
    def load(cls, path: Path | str = WEIGHTS_PATH, package: str = CLASSIFIER_PACKAGE) -> "ClaimDetector":
        directory = package_dir(package)
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        classifier = OnnxModel.open(directory / "detector.onnx", directory / "tokenizer.json", int(meta["max_length"]),
                                    output=meta.get("output"))
        with np.load(path) as data:
            return cls(classifier, float(meta["threshold"]), {key: data[key] for key in data.files},
                       meta.get("input") == "pair")

    def detect(self, texts: list[str], embeddings: np.ndarray, encoder_version: str,
               veto: float = 0.0, threshold: float | None = None) -> list[Detection]:
        """One detection per text, the texts being one article's sentences in order: whether from the text (and
        the one before it, where the classifier reads pairs), the kind from its embedding by the encoder
        ``encoder_version``; below P(checkable) ``veto`` the rules' claim is vetoed (``[nlp] claim_detector_veto``);
        ``threshold`` replaces the trained one (``[nlp] claim_detector_threshold``)."""
        if encoder_version != self.encoder_version:
            raise ValueError(f"the claim detector was trained on {self.encoder_version} embeddings, "
                             f"not {encoder_version}: retrain it (make models-claims)")
        if not texts:
            return []
        read = list(zip([""] + texts[:-1], texts)) if self.reads_context else texts
        p = 1.0 / (1.0 + np.exp(-self.classifier.run(read, 16)[:, 0]))
        x = np.hstack([embeddings, np.array([cue_features(t) for t in texts], dtype=np.float32)])
        kinds = np.argmax(x @ self.kind_w.T + self.kind_b, axis=1)
        cut = self.threshold if threshold is None else threshold
        return [Detection(float(pi), bool(pi >= cut), KINDS[k], bool(pi < veto)) for pi, k in zip(p, kinds)]


def detector_digest() -> str:
    """Names what the detector decides with: its kind weights, its classifier (meta.json holds the graph's hash
    and the threshold) and this module."""
    import hashlib

    meta = package_dir(CLASSIFIER_PACKAGE) / "meta.json"
    return hashlib.sha256(WEIGHTS_PATH.read_bytes() + meta.read_bytes() + Path(__file__).read_bytes()).hexdigest()


@functools.cache
def claim_detector() -> ClaimDetector:
    """The shipped detector, loaded once."""
    return ClaimDetector.load()
