"""The shipped stance cross-encoder: loads offline from its package without torch, reads plain hair-growth
pairs right, calibrates its probabilities, and cuts whole abstracts to the sentences that bear on the claim."""

import json
import sys

import numpy as np
import pytest

from helpers import colder_stacker, stance_package_copy
from pipeline.compare.stance import STANCES
from pipeline.compare.stance_encoder import EncoderStance, encoder_stance, select_sentences
from pipeline.nlp.encoder import ModelMissing, package_dir

CLAIM = "Exosomes promote hair growth."
SUPPORTING = "Exosomes derived from stem cells promoted hair growth in patients with alopecia."
REFUTING = "Exosomes had no effect on hair growth in the treated patients."
# plain pairs (claim, evidence, gold); the model gets 8 of these 12 right (docs/stance.md lists its misses)
PLAIN = [
    ("Exosome treatment increases hair density.", "Hair density increased significantly after exosome treatment.", "supports"),
    (CLAIM, SUPPORTING, "supports"),
    ("Exosome injections improve hair count in men with androgenetic alopecia.",
     "In men with androgenetic alopecia, exosome injections increased hair count at 12 weeks.", "supports"),
    ("Exosome therapy can reduce hair loss.", "After three sessions of exosome therapy, hair shedding decreased markedly.",
     "supports"),
    ("Exosomes stimulate dermal papilla cell proliferation.",
     "Exosomes significantly enhanced the proliferation of dermal papilla cells.", "supports"),
    ("Exosome therapy is safe.", "No serious adverse events were observed in patients treated with exosomes.", "supports"),
    ("Exosome treatment increases hair density.", "Exosome treatment did not change hair density compared with placebo.",
     "contradicts"),
    (CLAIM, REFUTING, "contradicts"),
    ("Exosome injections improve hair count in men with androgenetic alopecia.",
     "Hair count did not improve after exosome injections in men with androgenetic alopecia.", "contradicts"),
    ("Exosome therapy can reduce hair loss.", "Exosome therapy failed to reduce hair loss.", "contradicts"),
    ("Exosomes stimulate dermal papilla cell proliferation.", "Exosomes inhibited the proliferation of dermal papilla cells.",
     "contradicts"),
    ("Exosome therapy is safe.", "Serious adverse events, including granulomas and skin necrosis, occurred after "
                                 "exosome injections.", "contradicts"),
]


@pytest.fixture(scope="module")
def model() -> EncoderStance:
    return encoder_stance()


def test_loads_offline_without_torch_and_says_how_it_was_calibrated(model):
    assert "torch" not in sys.modules
    meta = json.loads((package_dir("exoclaims_stance") / "meta.json").read_text())
    assert model.version == f"exoclaims_stance-{meta['onnx_sha256'][:12]}"
    assert meta["labels"] == list(STANCES) and meta["stacker"]["choice"]
    assert meta["weights"] == "fp32" or meta["quantisation"]["cost"] < 0.01


def test_a_supporting_and_a_refuting_sentence_for_a_hair_growth_claim(model):
    support, refute = model.predict_many([(CLAIM, SUPPORTING), (CLAIM, REFUTING)])
    assert support.label == "supports" and refute.label == "contradicts"
    assert support.probabilities["supports"] > support.probabilities["contradicts"]


def test_most_plain_pairs_are_read_right(model):
    predicted = [p.label for p in model.predict_many([(c, e) for c, e, _ in PLAIN])]
    assert sum(p == g for p, (_, _, g) in zip(predicted, PLAIN)) >= 8


def test_probabilities_are_a_distribution_and_not_overconfident(model):
    probs = model.probabilities([(c, e) for c, e, _ in PLAIN])
    assert np.allclose(probs.sum(axis=1), 1.0) and (probs > 0).all()
    assert probs.max() < 0.99  # temperature-scaled on dev: no plain pair is near-certain


def test_a_whole_abstract_is_cut_to_the_sentences_about_the_claim(model):
    abstract = ("Hair loss affects many people. We recruited 40 men with androgenetic alopecia. "
                "Patients received monthly scalp injections for six months. "
                "Exosome injections significantly increased hair density compared with placebo. "
                "Mild erythema was the only adverse event. Funding was provided by a national grant.")
    focus = model.focus("Exosome injections increase hair density.", abstract)
    assert "significantly increased hair density" in focus and "Funding" not in focus
    assert len(focus) < len(abstract)
    assert model.focus("a claim", "One sentence only.") == "One sentence only."


def test_select_sentences_keeps_document_order():
    vectors = np.eye(4, dtype=np.float32)
    claim = np.array([0.1, 0.9, 0.0, 0.8], dtype=np.float32)
    assert select_sentences(claim, vectors, 2) == [1, 3]
    assert select_sentences(claim, vectors[:2], 3) == [0, 1]


def test_odd_inputs_get_a_reading_not_a_crash(model):
    pairs = [("", ""), ("hair " * 3000, "growth " * 3000), ("Экзосомы стимулируют рост волос", "毛发生长"), (CLAIM, "?")]
    assert len(model.predict_many(pairs)) == 4
    assert model.predict_many([]) == []


def test_a_missing_package_is_named():
    with pytest.raises(ModelMissing, match="exoclaims_nothing_here"):
        EncoderStance.load("exoclaims_nothing_here")



def test_a_candidate_package_folder_is_read_without_installing_it(model, tmp_path):
    # a colder calibration: the same readings, less sure of them, under the candidate's own name
    folder = stance_package_copy(tmp_path / "candidate", name="candidate", stacker=colder_stacker())
    candidate = EncoderStance.load(str(folder))
    assert candidate.version.startswith("candidate-") and candidate.version != model.version
    mine, shipped = candidate.predict(CLAIM, SUPPORTING), model.predict(CLAIM, SUPPORTING)
    assert mine.label == shipped.label == "supports"
    assert mine.probabilities["supports"] < shipped.probabilities["supports"]


def test_a_folder_without_a_package_is_named(tmp_path):
    with pytest.raises(ModelMissing, match="no meta.json"):
        EncoderStance.load(str(tmp_path))
