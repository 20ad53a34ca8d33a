"""all-MiniLM-L6-v2 fine-tuned on HealthVer and SciFact as a (claim, evidence) stance cross-encoder, as an
int8 ONNX graph returning logits for supports / contradicts / unrelated, with its calibration in meta.json.
Trained by ``training.stance_encoder_train``, packaged by ``training.stance_encoder_package``;
load it with ``pipeline.compare.stance_encoder.encoder_stance()`` (docs/stance.md)."""

from pathlib import Path

MODEL_DIR = Path(__file__).parent
