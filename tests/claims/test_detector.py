"""The shipped claim detector (pipeline/claims/detector.py): it loads, fits the installed encoder, and tells a
checkable assertion from a question or a call to action."""

import numpy as np
import pytest

from pipeline.claims.detector import KINDS, claim_detector, cue_features
from pipeline.nlp.encoder import sentence_encoder


@pytest.fixture(scope="module")
def scored():
    encoder = sentence_encoder()

    def detect(*texts):
        return claim_detector().detect(list(texts), encoder.embed(list(texts)), encoder.version)

    return detect


def test_the_shipped_weights_were_trained_on_the_installed_encoder():
    detector = claim_detector()
    assert detector.encoder_version == sentence_encoder().version
    assert 0.05 <= detector.threshold <= 0.95 and detector.kind_w.shape[0] == len(KINDS)


def test_assertions_are_told_from_questions_and_calls_to_action(scored):
    fda, book, question, mechanism = scored(
        "No exosome product has been approved by the FDA for hair loss.",
        "Book your free consultation with our team today.",
        "What are exosomes?",
        "Exosomes deliver growth factors that activate dormant follicles.")
    assert fda.checkable and fda.kind == "regulatory"
    assert mechanism.checkable and mechanism.kind == "mechanism"
    assert not book.checkable and not question.checkable and question.p_checkable < 0.1


def test_the_veto_marks_sentences_far_from_checkable_only_when_asked():
    encoder = sentence_encoder()
    texts = ["Book your free consultation with our team today.",
             "No exosome product has been approved by the FDA for hair loss."]
    book, fda = claim_detector().detect(texts, encoder.embed(texts), encoder.version, veto=0.05)
    assert book.vetoes_rules and not fda.vetoes_rules
    assert not any(d.vetoes_rules for d in claim_detector().detect(texts, encoder.embed(texts), encoder.version))


def test_a_threshold_given_replaces_the_trained_one():
    encoder = sentence_encoder()
    texts = ["What are exosomes?"]
    [trained] = claim_detector().detect(texts, encoder.embed(texts), encoder.version)
    assert not trained.checkable
    [lowered] = claim_detector().detect(texts, encoder.embed(texts), encoder.version,
                                        threshold=trained.p_checkable * 0.99)
    assert lowered.checkable and lowered.p_checkable == trained.p_checkable


def test_embeddings_from_another_encoder_are_refused():
    with pytest.raises(ValueError, match="retrain it"):
        claim_detector().detect(["x"], np.zeros((1, 384), dtype=np.float32), "another-encoder")


def test_cue_features_mark_hedges_numbers_regulation_comparisons_and_questions():
    hedged, numbers, fda, than, question = (cue_features(t) for t in (
        "Exosomes may help.", "Results show in 12 weeks.", "It is not FDA approved.", "Faster than PRP.",
        "Is it safe?"))
    assert hedged[0] == 1 and numbers[2] == 1 and fda[3] == 1 and fda[1] == 1 and than[4] == 1 and question[6] == 1


def test_the_claim_stage_runs_the_detector_on_articles_only_when_configured():
    import dataclasses

    from pipeline.config import load_settings
    from pipeline.records import Article
    from pipeline.stages import current_nlp_version, run_nlp

    text = ("No exosome product has been approved by the FDA for hair loss.\n\n"
            "Exosomes promote hair growth in patients.")
    article = Article("w99_test", "w99.txt", "t", text, text, 0)
    on = load_settings(env={})
    assert on.nlp.claim_detector  # on by default
    off = dataclasses.replace(on, nlp=dataclasses.replace(on.nlp, claim_detector=False))
    [without] = run_nlp(off, [article], [])
    [with_detector] = run_nlp(on, [article], [])
    assert not any(c.cues and c.cues[0].startswith("detector:") for c in without.claims)
    found = [c for c in with_detector.claims if c.cues and c.cues[0].startswith("detector:")]
    assert [(c.sentence_idx, c.claim_type) for c in found] == [(0, "regulatory")]
    assert {c.claim_id for c in without.claims} < {c.claim_id for c in with_detector.claims}  # the rules' are kept
    # stored documents are read again when the detector is switched on
    assert "+detector:" in current_nlp_version(on) and "+detector:" not in current_nlp_version(off)
    lenient = dataclasses.replace(on, nlp=dataclasses.replace(on.nlp, claim_detector_veto=0.0))
    assert current_nlp_version(lenient) != current_nlp_version(on)  # a new veto reads the articles again
    chosen = dataclasses.replace(on, nlp=dataclasses.replace(on.nlp, claim_detector_threshold=0.5))
    assert current_nlp_version(chosen) != current_nlp_version(on)  # and so does a threshold set in the config


def test_a_detected_claim_opening_with_it_takes_the_treatment_named_before():
    from pipeline.claims.detector import Detection
    from pipeline.claims.extract import detected_claim
    from pipeline.records import Mention

    prp = Mention(0, "TREATMENT", "MESH:D053657")
    found = Detection(0.9, True, "efficacy")
    it = detected_claim("article", "w99", 5, "It helps most in early thinning.", [], found, antecedent=prp)
    named = detected_claim("article", "w99", 6, "Results vary between people.", [], found, antecedent=prp)
    assert it.intervention == "MESH:D053657" and named.intervention is None
