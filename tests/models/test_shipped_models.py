"""The models the project ships: installed by the install step, loadable by name, finding what they should."""

import json
import subprocess
import sys
import warnings

import pytest
import spacy

from helpers import FIXTURES, PROJECT
from training.catalog import CORE_MODEL, NER_MODELS

SENTENCE = ("VEGF and IGF-1 secreted by mesenchymal stem cells promote the proliferation of dermal papilla cells "
            "and keratinocytes in the hair follicle.")


def _load(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return spacy.load(name)


def _ents(nlp, text):
    return {(e.text, e.label_) for e in nlp(text).ents}


@pytest.mark.parametrize("name", [m.name for m in NER_MODELS] + [CORE_MODEL.name])
def test_installed_and_loadable_by_name(name):
    nlp = _load(name)
    assert nlp.meta["name"] == name.split("_", 1)[1]
    assert nlp("Exosomes, e.g. MSC-EVs, were used.")[0].text == "Exosomes"  # scispaCy tokenizer rules


def test_bc5cdr_finds_chemicals_and_diseases():
    found = _ents(_load("en_exoclaims_ner_bc5cdr"), "Oral minoxidil caused hypertrichosis and hypotension in "
                                                      "several women treated for alopecia.")
    assert {("minoxidil", "Chemical"), ("hypertrichosis", "Disease"), ("hypotension", "Disease")} <= found


def test_ncbi_finds_diseases():
    found = _ents(_load("en_exoclaims_ner_ncbi"), "Women with breast cancer or alopecia areata were excluded.")
    assert ("breast cancer", "Disease") in found


def test_bionlp13cg_finds_growth_factors_cells_and_anatomy():
    found = _ents(_load("en_exoclaims_ner_bionlp13cg"), SENTENCE)
    labels = {text: label for text, label in found}
    assert labels.get("VEGF") == "Gene_or_gene_product"
    assert labels.get("dermal papilla cells") == "Cell"
    assert labels.get("keratinocytes") == "Cell"
    assert "hair follicle" in labels


def test_core_tags_and_parses():
    doc = _load("en_exoclaims_core")("Exosomes did not increase hair density in mice.")
    assert [t.tag_ for t in doc][:4] == ["NNS", "VBD", "RB", "VB"]
    root = next(t for t in doc if t.dep_ == "ROOT")
    assert root.text == "increase"
    assert {c.text for c in root.children if c.dep_ in ("nsubj", "advmod", "obj")} >= {"Exosomes", "not", "density"}


def test_pipeline_keeps_model_entities_and_links_them_to_concepts(nlp):
    from pipeline.nlp.model_entities import model_entities

    doc = nlp(SENTENCE)
    by_text = {e.text: e for e in model_entities(doc)}
    assert by_text["dermal papilla cells"].concept_id == "EXO:dermal_papilla_cells"
    assert by_text["VEGF"].concept_id == "MESH:D042461"
    assert by_text["VEGF"].detector == "en_exoclaims_ner_bionlp13cg"


def test_spacy_evaluate_cli_works_on_a_shipped_model(tmp_path):
    from spacy.tokens import DocBin

    from pipeline.evaluation.corpora import ner_doc, read_iob

    nlp = _load("en_exoclaims_ner_bc5cdr")
    bin_ = DocBin(docs=[ner_doc(nlp, s) for s in read_iob(FIXTURES / "models" / "chemicals_diseases.tsv")])
    bin_.to_disk(tmp_path / "sample.spacy")
    out = subprocess.run([sys.executable, "-m", "spacy", "evaluate", "en_exoclaims_ner_bc5cdr",
                          str(tmp_path / "sample.spacy"), "--output", str(tmp_path / "scores.json")],
                         capture_output=True, text=True, cwd=PROJECT)
    assert out.returncode == 0, out.stderr
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert scores["ents_f"] > 0.5


def test_models_eval_command_prints_per_label_scores():
    out = subprocess.run([sys.executable, "-m", "pipeline.cli", "models", "eval",
                          str(FIXTURES / "models" / "chemicals_diseases.tsv")],
                         capture_output=True, text=True, cwd=PROJECT)
    assert out.returncode == 0, out.stderr
    scores = json.loads(out.stdout)
    assert scores["model"] == "en_exoclaims_ner_bc5cdr"  # the configured model whose labels match the file
    assert set(scores["per_label"]) == {"chemical", "disease"}
    assert scores["support"] == 11 and 0.5 < scores["f1"] <= 1.0


def test_models_eval_picks_the_disease_only_model_for_a_disease_only_file(tmp_path):
    from pipeline.evaluation.models import choose_model

    names = [m.name for m in NER_MODELS]
    assert choose_model(names, {"disease"}) == "en_exoclaims_ner_ncbi"
    assert choose_model(names, {"chemical", "disease"}) == "en_exoclaims_ner_bc5cdr"
    assert choose_model(names, {"cell", "gene_or_gene_product"}) == "en_exoclaims_ner_bionlp13cg"


def test_a_short_form_defined_once_is_found_again_later_in_the_abstract(nlp):
    """The training gazetteer shipped after each NER model: a chemical's abbreviation, defined in one sentence,
    is labelled where the abstract uses it again, in the package and in the project's pipeline."""
    abstract = ("Rats were given streptozotocin (STZ) to induce diabetes. Four weeks after STZ, the animals lost "
                "weight.")
    package = _load("en_exoclaims_ner_bc5cdr")
    assert package.pipe_names == ["ner", "exoclaims_train_gazetteer"]
    assert [(e.text, e.label_) for e in package(abstract).ents if e.text == "STZ"] == [("STZ", "Chemical")] * 2
    names = nlp.pipe_names
    for spec in NER_MODELS:
        ner = names.index(f"ner_{spec.name}")
        assert names[ner + 1:ner + 3] == [f"exoclaims_train_gazetteer_{spec.name}", f"keep_ner_{spec.name}"]
    from pipeline.nlp.model_entities import model_entities

    found = [e.label for e in model_entities(nlp(abstract)) if e.text == "STZ" and e.detector == "en_exoclaims_ner_bc5cdr"]
    assert found == ["Chemical", "Chemical"]
