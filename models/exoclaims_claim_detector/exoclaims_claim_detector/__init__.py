"""all-MiniLM-L6-v2 fine-tuned on the labelled sentences of exosome-claims' development web articles and seed
articles to tell a checkable assertion from everything else (one logit; the threshold chosen out of fold is in
meta.json), as an ONNX graph. Trained and packaged by ``training.claim_detector`` (``make models-claims``); load it
with ``pipeline.claims.detector.claim_detector()`` (docs/evaluation.md)."""

from pathlib import Path

MODEL_DIR = Path(__file__).parent
