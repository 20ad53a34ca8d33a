"""The training gazetteer on hand-made docs (no corpus or trained model needed)."""

import spacy
from spacy.tokens import Doc, Span

from training.gazetteer import TrainGazetteer, build_gazetteer, span_key


def _doc(vocab, words, ents=()):
    doc = Doc(vocab, words=words)
    doc.ents = [Span(doc, s, e, label=label) for s, e, label in ents]
    return doc


def _training(vocab):
    return [
        _doc(vocab, "cisplatin caused nephrotoxicity".split(), [(0, 1, "Chemical"), (2, 3, "Disease")]),
        _doc(vocab, "Cisplatin was given".split(), [(0, 1, "Chemical")]),
        _doc(vocab, "the dose was increased".split()),
        _doc(vocab, "the dose of cisplatin".split(), [(3, 4, "Chemical")]),
        _doc(vocab, "dose reduction and dose escalation".split()),
        _doc(vocab, "lithium carbonate ( LC ) toxicity".split(), [(0, 2, "Chemical"), (3, 4, "Chemical")]),
    ]


def test_table_counts_occurrences_and_abbreviation_rates():
    nlp = spacy.blank("en")
    data = build_gazetteer(_training(nlp.vocab), nlp.vocab)
    entries = {(e["mode"], tuple(e["tokens"])): e for e in data["entries"]}
    cisplatin = entries[("lower", ("cisplatin",))]
    assert cisplatin["n"] == 3 and cisplatin["labels"] == {"Chemical": 3} and cisplatin["free"] == 0
    assert ("orth", ("LC",)) in entries  # short capitals keep their case
    assert [["dose"], 4] in data["unannotated_ngrams"]
    assert data["abbreviations"]["Chemical"] == {"pairs": 1, "same": 1}


def test_component_adds_removes_and_labels_short_forms():
    nlp = spacy.blank("en")
    data = build_gazetteer(_training(nlp.vocab), nlp.vocab)
    gaz = TrainGazetteer(nlp, add=True, remove=True, remove_min_count=3, abbreviations=True)
    gaz.set_data(data)
    doc = _doc(nlp.vocab, "CISPLATIN and the dose of lithium carbonate ( LiC ) ; LiC levels".split(),
               [(3, 4, "Chemical"), (5, 7, "Chemical")])
    gaz(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("CISPLATIN", "Chemical"), ("lithium carbonate", "Chemical"), ("LiC", "Chemical"), ("LiC", "Chemical")]


def test_table_survives_the_model_directory(tmp_path):
    nlp = spacy.blank("en")
    gaz = nlp.add_pipe("exoclaims_train_gazetteer", config={"add": False, "abbreviations": True})
    gaz.set_data(build_gazetteer(_training(nlp.vocab), nlp.vocab))
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model").get_pipe("exoclaims_train_gazetteer")
    assert loaded.data == gaz.data and loaded.settings == gaz.settings
    assert span_key(nlp.make_doc("Cisplatin")) == ("lower", ("cisplatin",))
