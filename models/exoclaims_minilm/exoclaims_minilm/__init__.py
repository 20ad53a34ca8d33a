"""all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0) as an ONNX graph that returns mean-pooled,
L2-normalised 384-float sentence embeddings. Load it with ``pipeline.nlp.encoder.sentence_encoder()``;
``meta.json`` says how it was exported and what int8 quantisation cost."""

from pathlib import Path

MODEL_DIR = Path(__file__).parent
