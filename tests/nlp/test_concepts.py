from helpers import PROJECT
from pipeline.articles.normalize import CONFUSABLES, normalise_text
from pipeline.nlp.analyse import analyse_docs
from pipeline.records import TextUnit


def _entities(nlp, text):
    doc = next(analyse_docs(nlp, [TextUnit("article", "x", text)]))
    return [(e.text, e.label, e.concept_id) for e in doc.entities]


def test_concepts_with_canonical_ids(nlp):
    found = _entities(nlp, "Exosomes from mesenchymal stem cells increased hair density and VEGF in androgenetic alopecia.")
    assert ("Exosomes", "VESICLE", "MESH:D055354") in found
    assert ("mesenchymal stem cells", "CELL_TYPE", "MESH:D059630") in found
    assert ("hair density", "HAIR_OUTCOME", "EXO:hair_density") in found
    assert ("VEGF", "GROWTH_FACTOR", "MESH:D042461") in found
    assert ("androgenetic alopecia", "DISEASE", "EXO:androgenetic_alopecia") in found


def test_abbreviations_are_expanded_and_linked(nlp):
    doc = next(analyse_docs(nlp, [TextUnit("article", "x",
        "Dermal papilla cells (DPCs) regulate the cycle. DPCs were treated with EVs.")]))
    dpcs = [e for e in doc.entities if e.text == "DPCs"]
    assert len(dpcs) == 2 and all(e.concept_id == "EXO:dermal_papilla_cells" for e in dpcs)
    assert dpcs[0].long_form == "Dermal papilla cells"


def test_hyphenated_compounds_hold_two_concepts(nlp):
    found = _entities(nlp, "MSC-EVs and ADSC-Exos were injected.")
    assert ("MSC", "CELL_TYPE", "MESH:D059630") in found and ("EVs", "VESICLE", "MESH:D058953") in found
    assert ("Exos", "VESICLE", "MESH:D055354") in found


def test_homoglyph_article_gives_the_same_entities_as_its_clean_spelling(nlp):
    raw = (PROJECT / "data" / "articles" / "003_0ec3c30e33be0afe.txt").read_text(encoding="utf-8")
    clean = raw.translate(str.maketrans(CONFUSABLES))
    assert clean != raw
    dirty_entities = _entities(nlp, normalise_text(raw).text)
    clean_entities = _entities(nlp, normalise_text(clean).text)
    assert dirty_entities == clean_entities
    assert ("exosomes", "VESICLE", "MESH:D055354") in dirty_entities
    assert len(dirty_entities) > 20


def test_sentences_split_on_lines_and_full_stops_not_abbreviations(nlp):
    doc = next(analyse_docs(nlp, [TextUnit("article", "x",
        "Safety Profile\n\nKim et al. reported exosomes, e.g. from MSCs. They were safe.")]))
    assert [s.text for s in doc.sentences] == [
        "Safety Profile", "Kim et al. reported exosomes, e.g. from MSCs.", "They were safe."]


def test_missing_model_gives_one_clear_error():
    import pytest

    from pipeline.nlp.loader import ModelNotFound, build_pipeline

    with pytest.raises(ModelNotFound, match="en_core_sci_sm"):
        build_pipeline("en_core_sci_sm", PROJECT / "config" / "lexicon" / "concepts.jsonl")


def test_a_model_directory_can_be_named_instead_of_blank(tmp_path):
    import spacy

    from pipeline.nlp.concept_recognizer import concept_mentions
    from pipeline.nlp.loader import build_pipeline

    base = spacy.blank("en")
    base.add_pipe("sentencizer")
    base.to_disk(tmp_path / "my_model")
    nlp = build_pipeline(str(tmp_path / "my_model"), PROJECT / "config" / "lexicon" / "concepts.jsonl")
    assert nlp.pipe_names[-2:] == ["abbreviation_detector", "exoclaims_concepts"]
    doc = nlp("Mesenchymal stem cells (MSCs) release exosomes.")
    assert {m.concept_id for m in concept_mentions(doc)} == {"MESH:D059630", "MESH:D055354"}


def test_two_processes_give_the_same_results_as_one(nlp):
    from pipeline.records import TextUnit

    texts = ["Mesenchymal stem cells (MSCs) release exosomes. MSCs increased hair density in AGA.",
             "Exosome injections may cause granulomas. No serious adverse events were observed."] * 3
    units = [TextUnit("article", str(i), t) for i, t in enumerate(texts)]
    assert list(analyse_docs(nlp, units, n_process=2, batch_size=2)) == list(analyse_docs(nlp, units))


def test_hair_shedding_and_hair_fall_are_hair_loss(nlp):
    """So that "exosomes reduce hair shedding" claims a benefit, as "reduce hair loss" does, instead of a fall in
    hair growth that the trials showing more hair would contradict. Vesicles "shed" from cells are no hair loss."""
    found = _entities(nlp, "Exosome injections reduced hair shedding and hair fall. Microvesicles are shed from cells.")
    assert ("hair shedding", "DISEASE", "MESH:D000505") in found and ("hair fall", "DISEASE", "MESH:D000505") in found
    assert not any(text.startswith("shed") for text, _, _ in found)
