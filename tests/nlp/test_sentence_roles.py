"""Sentence roles: heading stripping in the training data, the priors and decoding, and the shipped
model (``en_exoclaims_sentence_roles``, installed by the project's install step)."""

import numpy
import pytest
import spacy

from training.sentence_roles_data import label_abstract, split_heading, split_inline_headings
from pipeline.nlp.sentence_roles import LABELS, PRIORS_FILE, RolePriors, decode_roles, relative_position

MODEL = "en_exoclaims_sentence_roles"

ABSTRACT = (
    "Hair loss affects millions of adults and few treatments are effective. "
    "The aim of this study was to determine whether topical exosomes improve hair density in androgenetic alopecia. "
    "Sixty patients were randomised to receive exosome or placebo injections every four weeks for six months. "
    "Hair density increased by 24% in the exosome group compared with 3% in the placebo group (p < 0.001). "
    "In conclusion, exosome injections are a promising treatment for androgenetic alopecia."
)
EXPECTED = ["BACKGROUND", "OBJECTIVE", "METHODS", "RESULTS", "CONCLUSIONS"]


# -- training data: headings found, mapped and stripped ------------------------------------------

def test_headings_are_stripped_and_mapped():
    assert split_heading("CONCLUSIONS A drug was safe.") == ("CONCLUSIONS", "A drug was safe.")
    assert split_heading("METHODS AND FINDINGS We enrolled 20 men.") == ("METHODS AND FINDINGS", "We enrolled 20 men.")
    assert split_heading("BACKGROUND & AIMS HBV is common.") == ("BACKGROUND AND AIMS", "HBV is common.")
    assert split_heading("DESIGN, SETTING, AND PARTICIPANTS Cohort study.")[0] == "DESIGN, SETTING, AND PARTICIPANTS"
    assert split_heading("Results: we found more.", mixed_case=True) == ("RESULTS", "we found more.")
    assert split_heading("Design of the trial was open.") == (None, "Design of the trial was open.")
    assert split_heading("DNA was extracted.") == (None, "DNA was extracted.")


def test_inline_heading_cuts_the_sentence():
    assert split_inline_headings("It was done in SpA.   METHODS Twenty patients took it.") == [
        "It was done in SpA.", "METHODS Twenty patients took it."]


def test_abstract_sentences_take_their_section_role():
    abstract = label_abstract(1, ["OBJECTIVE To test it.", "RESEARCH DESIGN AND METHODS", "We enrolled 20 men.",
                                  "RESULTS It worked in most men.", "FUNDING The NIH paid for it.",
                                  "CONCLUSIONS It works well."])
    assert abstract.skip_reason is None
    assert [(s.text, s.label, s.index, s.n_sentences) for s in abstract.sentences] == [
        ("To test it.", "OBJECTIVE", 0, 5), ("We enrolled 20 men.", "METHODS", 1, 5),
        ("It worked in most men.", "RESULTS", 2, 5), ("It works well.", "CONCLUSIONS", 4, 5)]


def test_abstracts_with_mixed_or_too_few_sections_are_skipped():
    assert label_abstract(1, ["BACKGROUND It is common.", "METHODS AND RESULTS We saw it.",
                              "CONCLUSIONS It is real."]).skip_reason.startswith("mixed")
    assert label_abstract(2, ["OBJECTIVE To test it.", "CONCLUSION It works."]).skip_reason.startswith("fewer")
    assert label_abstract(3, ["It is common.", "RESULTS We saw it."]).skip_reason == "no heading at the start"


# -- priors and decoding -----------------------------------------------------------------------

def _priors():
    abstracts = [[(relative_position(i, 5), label) for i, label in enumerate(EXPECTED)]] * 20
    return RolePriors.estimate(abstracts, n_bins=5)


def test_priors_are_distributions_and_round_trip(tmp_path):
    priors = _priors()
    assert all(abs(sum(row) - 1) < 1e-9 for row in priors.by_bin + priors.transitions)
    assert abs(sum(priors.overall) - 1) < 1e-9
    priors.to_disk(tmp_path / PRIORS_FILE)
    loaded = RolePriors.from_disk(tmp_path / PRIORS_FILE)
    assert loaded.labels == LABELS and numpy.allclose(loaded.by_bin, priors.by_bin, atol=1e-6)


def test_position_and_sequence_overrule_a_weak_text_guess():
    priors = _priors()
    probs = numpy.full((5, 5), 0.2)
    probs[4] = [0.05, 0.05, 0.05, 0.45, 0.40]  # the text alone leans to RESULTS for the last sentence
    positions = [relative_position(i, 5) for i in range(5)]
    assert decode_roles(probs, positions, priors, "text")[4] == LABELS.index("RESULTS")
    for mode in ("position", "sequence"):
        assert [LABELS[i] for i in decode_roles(probs, positions, priors, mode)] == EXPECTED
    assert decode_roles(numpy.zeros((0, 5)), [], priors) == []


# -- the trained component ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def model_dir():
    assert spacy.util.is_package(MODEL), f"{MODEL} is not installed: run `make install`"
    return MODEL


def _pipeline(model_dir, **config):
    from pipeline.nlp.loader import load_base_model

    nlp = load_base_model("blank:en")
    nlp.add_pipe("exoclaims_sentences")
    nlp.add_pipe("exoclaims_sentence_roles", config={"model": str(model_dir), **config})
    return nlp


@pytest.fixture(scope="module")
def nlp(model_dir):
    return _pipeline(model_dir)


@pytest.mark.parametrize("text, role", [
    ("Sixty patients were randomised to receive minoxidil or placebo twice daily for 24 weeks.", "METHODS"),
    ("In conclusion, these findings suggest that exosomes may be a useful treatment for hair loss.", "CONCLUSIONS"),
    ("Mean hair count increased from 102 to 131 hairs/cm2 (p < 0.001), whereas it did not change in the "
     "placebo group.", "RESULTS"),
    ("The aim of this study was to evaluate the efficacy of platelet-rich plasma in androgenetic alopecia.",
     "OBJECTIVE"),
])
def test_clear_sentences_get_their_role_from_the_text(model_dir, text, role):
    assert _pipeline(model_dir, decode="text")(text)._.sentence_roles == [role]


def test_roles_follow_an_unstructured_abstract(nlp):
    doc = nlp(ABSTRACT)
    assert len(list(doc.sents)) == 5
    assert doc._.sentence_roles == EXPECTED


def test_one_role_per_sentence_in_pipe(nlp):
    texts = [ABSTRACT, "", "A single sentence about hair.", "Background: hair.\nMethods: we counted hairs.\n\n"]
    for doc in nlp.pipe(texts, batch_size=2):
        roles = doc._.sentence_roles
        assert isinstance(roles, list) and all(isinstance(r, str) and r in LABELS for r in roles)
        assert len(roles) == len(list(doc.sents)) if len(doc) else roles == []


def test_roles_survive_doc_serialisation(nlp):
    from spacy.tokens import DocBin

    doc = nlp(ABSTRACT)
    restored = next(DocBin(docs=[doc], store_user_data=True).from_bytes(
        DocBin(docs=[doc], store_user_data=True).to_bytes()).get_docs(nlp.vocab))
    assert list(restored._.sentence_roles) == doc._.sentence_roles  # msgpack may hand back a tuple


def test_weights_and_priors_travel_with_the_pipeline(nlp, tmp_path):
    nlp.to_disk(tmp_path / "pipeline")
    assert (tmp_path / "pipeline" / "exoclaims_sentence_roles" / PRIORS_FILE).exists()
    # the original model path no longer matters: everything comes from the saved pipeline
    loaded = spacy.load(tmp_path / "pipeline", config={
        "components": {"exoclaims_sentence_roles": {"model": str(tmp_path / "nowhere")}}})
    assert loaded(ABSTRACT)._.sentence_roles == nlp(ABSTRACT)._.sentence_roles
    roles = loaded.get_pipe("exoclaims_sentence_roles")
    from pipeline.nlp.sentence_roles import SentenceRoles

    copy = SentenceRoles("copy", None).from_bytes(roles.to_bytes())
    doc = nlp(ABSTRACT)
    assert numpy.allclose(copy.sentence_probabilities(list(doc.sents)),
                          roles.sentence_probabilities(list(doc.sents)))


def test_needs_sentence_boundaries(model_dir):
    from pipeline.nlp.loader import load_base_model

    bare = load_base_model("blank:en")
    bare.add_pipe("exoclaims_sentence_roles", config={"model": str(model_dir)})
    with pytest.raises(ValueError, match="sentence boundaries"):
        bare("Two sentences here. And another one.")
