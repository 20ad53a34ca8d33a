"""Sentence embeddings from the shipped ONNX encoder, with onnxruntime and tokenizers (no torch).

The encoder is all-MiniLM-L6-v2 exported by :mod:`training.encoder_export` into the package
``exoclaims_minilm`` (``models/exoclaims_minilm``): 384 floats per text, mean-pooled over the tokens and
L2-normalised inside the graph, so the dot product of two embeddings is their cosine similarity. Texts
longer than the model's 256 word pieces are cut there.

One ONNX session per process and model, loaded on first use and kept (:func:`sentence_encoder`); texts
are encoded in batches of similar length so little of each batch is padding.

>>> encoder = sentence_encoder()
>>> encoder.embed(["Exosomes promote hair growth.", "Hair regrowth after vesicle treatment"]).shape
(2, 384)
"""

from __future__ import annotations

import functools
import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence, Union

import numpy as np

from pipeline.config import names_a_folder

MODEL_PACKAGE = "exoclaims_minilm"
DIMENSIONS = 384

Text = Union[str, tuple[str, str]]


class ModelMissing(RuntimeError):
    """An ONNX model package is not installed, or lacks its files."""


def package_dir(package: str) -> Path:
    """The folder of a model package: an installed Python package holding ``meta.json`` and its graph, or, where
    ``package`` is a path (it holds a path separator), a folder laid out like one: a candidate model not installed,
    such as what ``training.stance_encoder_package`` writes."""
    if names_a_folder(package):
        directory = Path(package).expanduser()
        if not (directory / "meta.json").is_file():
            raise ModelMissing(f"{package} is not a model package folder: it has no meta.json")
        return directory
    try:
        module = importlib.import_module(package)
    except ImportError:
        raise ModelMissing(f"the model package {package!r} is not installed: `make install` installs it from "
                           f"models/{package} (pip install models/{package} by hand)") from None
    directory = Path(module.__file__).parent
    if not (directory / "meta.json").is_file():
        raise ModelMissing(f"the model package {package!r} at {directory} has no meta.json: re-install it")
    return directory


@dataclass
class OnnxModel:
    """One ONNX graph with its WordPiece tokenizer; inputs are texts or (text, text) pairs."""

    session: "object"
    tokenizer: "object"
    max_length: int
    output: str

    @classmethod
    def open(cls, onnx_path: Path, tokenizer_path: Path, max_length: int, threads: int = 1,
             output: str | None = None) -> "OnnxModel":
        import onnxruntime
        from tokenizers import Tokenizer

        for path in (onnx_path, tokenizer_path):
            if not Path(path).is_file():
                raise ModelMissing(f"model file missing: {path}")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(tokenizer_path))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length, strategy="longest_first")
        return cls(session, tokenizer, max_length, output or session.get_outputs()[0].name)

    @functools.cached_property
    def inputs(self) -> list[str]:
        """The inputs the graph takes: MPNet-style encoders have no token types."""
        return [i.name for i in self.session.get_inputs()]

    def run(self, texts: Sequence[Text], batch_size: int = 8) -> np.ndarray:
        """The graph's output for each text, in input order; batches group texts of similar length."""
        if not texts:
            width = self.session.get_outputs()[0].shape[-1]
            return np.zeros((0, width if isinstance(width, int) else 0), dtype=np.float32)
        encodings = self.tokenizer.encode_batch([t if isinstance(t, str) else tuple(t) for t in texts])
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        outputs: list[np.ndarray] = [None] * len(encodings)  # type: ignore[list-item]
        for start in range(0, len(order), max(1, batch_size)):
            chunk = order[start:start + batch_size]
            width = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            types = np.zeros_like(ids)
            for row, i in enumerate(chunk):
                e = encodings[i]
                n = len(e.ids)
                ids[row, :n], mask[row, :n], types[row, :n] = e.ids, e.attention_mask, e.type_ids
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            result = self.session.run([self.output], {name: feed[name] for name in self.inputs})[0]
            for row, i in enumerate(chunk):
                outputs[i] = result[row]
        return np.stack(outputs).astype(np.float32, copy=False)


@dataclass
class SentenceEncoder:
    """Texts to 384-float unit vectors (all-MiniLM-L6-v2 as shipped in ``exoclaims_minilm``)."""

    model: OnnxModel
    version: str  # names the weights: stored embeddings carry it, and a new model re-encodes everything
    batch_size: int = 8

    @classmethod
    def load(cls, package: str = MODEL_PACKAGE, threads: int = 1, batch_size: int = 8) -> "SentenceEncoder":
        directory = package_dir(package)
        meta = json.loads((directory / "meta.json").read_text())
        model = OnnxModel.open(directory / "encoder.onnx", directory / "tokenizer.json", int(meta["max_length"]),
                               threads, meta.get("output"))
        return cls(model, f"{meta['name']}-{meta['onnx_sha256'][:12]}", batch_size)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """An (n, 384) float32 array of unit vectors; an empty text gets the model's vector for no words."""
        vectors = self.model.run([t if isinstance(t, str) else "" for t in texts], self.batch_size)
        return vectors.reshape(len(texts), DIMENSIONS)


@functools.cache
def sentence_encoder(package: str = MODEL_PACKAGE, threads: int = 1, batch_size: int = 8) -> SentenceEncoder:
    """The process's encoder for ``package``, loaded once."""
    return SentenceEncoder.load(package, threads, batch_size)
