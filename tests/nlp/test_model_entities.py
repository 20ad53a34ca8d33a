"""Several NER models in one pipeline: each keeps its own entities, and they are linked to concepts."""

import random

import pytest
import spacy
from spacy.training import Example

from helpers import PROJECT
from pipeline.nlp.loader import build_pipeline
from pipeline.nlp.model_entities import model_entities

LEXICON = PROJECT / "config" / "lexicon" / "concepts.jsonl"
TEXT = "Exosomes from mesenchymal stem cells reached the dermal papilla cells of mice."


def _train_tiny_ner(path, spans):
    """A real spaCy NER model, trained for a few seconds to find ``spans`` in TEXT."""
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    for _, label in spans:
        ner.add_label(label)
    doc = nlp.make_doc(TEXT)
    example = Example.from_dict(doc, {"entities": [(TEXT.index(t), TEXT.index(t) + len(t), label)
                                                   for t, label in spans]})
    random.seed(0)
    optimizer = nlp.initialize(lambda: [example])
    for _ in range(40):
        nlp.update([example], sgd=optimizer, drop=0.0)
    nlp.to_disk(path)
    return str(path)


@pytest.fixture(scope="module")
def two_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("ner")
    cells = _train_tiny_ner(root / "cells", [("mesenchymal stem cells", "Cell"), ("dermal papilla cells", "Cell")])
    # overlaps the first model's "dermal papilla cells": a second ner component would normally be blocked
    anatomy = _train_tiny_ner(root / "anatomy", [("dermal papilla", "Tissue"), ("mice", "Organism")])
    return cells, anatomy


def test_each_model_keeps_its_entities_even_where_they_overlap(two_models):
    nlp = build_pipeline("blank:en", LEXICON, ner_models=two_models)
    found = {(e.text, e.label, e.detector) for e in model_entities(nlp(TEXT))}
    cells, anatomy = two_models
    assert {("dermal papilla cells", "Cell", cells), ("dermal papilla", "Tissue", anatomy),
            ("mice", "Organism", anatomy)} <= found


def test_model_entities_get_the_lexicon_concept_they_name(two_models):
    nlp = build_pipeline("blank:en", LEXICON, ner_models=two_models)
    by_text = {e.text: e for e in model_entities(nlp(TEXT))}
    assert by_text["mesenchymal stem cells"].concept_id == "MESH:D059630"
    assert by_text["dermal papilla cells"].concept_id == "EXO:dermal_papilla_cells"
    assert by_text["mice"].concept_id is None or by_text["mice"].concept_id.startswith(("MESH:", "EXO:"))


def test_entity_records_merge_lexicon_and_model_views_of_a_span(two_models):
    from pipeline.nlp.analyse import analyse_docs
    from pipeline.records import TextUnit

    nlp = build_pipeline("blank:en", LEXICON, ner_models=two_models)
    [analysed] = analyse_docs(nlp, [TextUnit("article", "a1", TEXT)])
    by_text = {e.text: e for e in analysed.entities}
    dpc = by_text["dermal papilla cells"]
    assert dpc.label == "CELL_TYPE" and dpc.model_label == "Cell"  # the lexicon label, and the model's type
    assert dpc.detectors == ("lexicon", two_models[0])
    assert by_text["mice"].detectors == (two_models[1],) and by_text["mice"].label == "Organism"
    assert len({(e.start_char, e.end_char) for e in analysed.entities}) == len(analysed.entities)


def test_a_missing_model_is_one_clear_error():
    from pipeline.nlp.loader import ModelNotFound

    with pytest.raises(ModelNotFound, match="en_exoclaims_ner_nothing.*make install"):
        build_pipeline("blank:en", LEXICON, ner_models=["en_exoclaims_ner_nothing"])


def test_a_model_with_other_word_vectors_runs_as_its_own_pipeline(tmp_path):
    import numpy

    path = _train_tiny_ner(tmp_path / "with_vectors", [("mice", "Organism")])
    model = spacy.load(path)
    model.vocab.set_vector("mice", numpy.ones(8, dtype="float32"))  # vectors the base pipeline lacks
    model.to_disk(path)
    nlp = build_pipeline("blank:en", LEXICON, ner_models=[path])
    assert f"external_{path}" in nlp.pipe_names  # not sourced: its vectors would be missing
    assert ("mice", "Organism", path) in {(e.text, e.label, e.detector) for e in model_entities(nlp(TEXT))}
