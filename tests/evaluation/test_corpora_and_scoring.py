"""Corpus conversion and NER scoring, on hand-written IOB text (no corpus needed)."""

import pytest

from helpers import FIXTURES, shared_path
from pipeline.evaluation.corpora import IobSentence, UD1_TO_UD2, ner_doc, read_conll, read_iob
from pipeline.evaluation.models import score_spans
from pipeline.nlp.loader import load_base_model

IOB = FIXTURES / "models" / "chemicals_diseases.tsv"


@pytest.fixture(scope="module")
def tokenizer_nlp():
    return load_base_model("blank:en")


def test_iob_entities_become_character_spans():
    first = next(read_iob(IOB))
    assert first.text.startswith("Minoxidil - induced hypertrichosis")
    assert [(first.text[s:e], label) for s, e, label in first.entity_offsets()] == [
        ("Minoxidil", "Chemical"), ("hypertrichosis", "Disease")]


def test_stray_inside_tag_opens_an_entity_and_label_change_closes_one():
    sentence = IobSentence(("a", "b", "c", "d"), ("I-Disease", "I-Disease", "I-Chemical", "O"))
    assert sentence.entity_offsets() == [(0, 3, "Disease"), (4, 5, "Chemical")]


def test_conversion_keeps_every_entity_when_scispacy_splits_tokens(tokenizer_nlp):
    sentence = IobSentence(("99mTc", "80mg", "caused", "hair", "loss"),
                           ("B-Chemical", "I-Chemical", "O", "B-Disease", "I-Disease"))
    doc = ner_doc(tokenizer_nlp, sentence)
    assert len(doc) > len(sentence.tokens)  # the scispaCy tokenizer split "80mg" into "80" "mg"
    assert [(e.text, e.label_) for e in doc.ents] == [("99mTc 80mg", "Chemical"), ("hair loss", "Disease")]


def test_every_fixture_entity_survives_conversion(tokenizer_nlp):
    sentences = list(read_iob(IOB))
    gold = sum(len(s.entity_offsets()) for s in sentences)
    assert sum(len(ner_doc(tokenizer_nlp, s).ents) for s in sentences) == gold == 11


def test_scores_are_exact_span_micro_averages():
    gold = [(0, 0, 9, "chemical"), (0, 20, 34, "disease"), (1, 5, 9, "disease")]
    predicted = [(0, 0, 9, "chemical"), (0, 20, 30, "disease"), (1, 5, 9, "disease"), (1, 0, 3, "chemical")]
    scores = score_spans(gold, predicted)
    assert (scores["precision"], scores["recall"]) == (0.5, 0.6667)
    assert scores["per_label"]["disease"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2,
                                              "predicted": 2}


def test_genia_treebank_labels_map_to_ud2():
    path = shared_path("corpora", "genia-dep-scibert", "dev.txt")
    sentence = next(read_conll(path, UD1_TO_UD2))
    assert sentence.words[:3] == ("Generation", "of", "CD1+RelB+")
    assert sentence.deps.count("ROOT") == 1 and "dobj" not in sentence.deps
    assert sentence.heads[0] == 0  # the root points at itself


def test_sentences_scored_as_whole_abstracts_keep_their_entities_in_place(tmp_path):
    from pipeline.evaluation.models import _join

    iob = tmp_path / "dev.tsv"
    iob.write_text("Aspirin\tB-Chemical\nhelps\tO\n\nHeadache\tB-Disease\nstops\tO\n\nNaproxen\tB-Chemical\n\n")
    sentences = list(read_iob(iob))
    units = _join(sentences, [2, 1])
    assert units[0] == ("Aspirin helps Headache stops", [(0, 7, "Chemical"), (14, 22, "Disease")])
    assert units[1] == ("Naproxen", [(0, 8, "Chemical")])
    text, entities = units[0]
    assert [text[s:e] for s, e, _ in entities] == ["Aspirin", "Headache"]
    with pytest.raises(ValueError, match="cover 2 sentences, the file has 3"):
        _join(sentences, [2])
