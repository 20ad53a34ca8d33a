"""The domain knowledge of config/lexicon/evidence.toml: today's retrieval sets, and widening it by config alone."""

import pytest

from pipeline.compare.comparison import article_topic
from pipeline.compare.frames import RecordFacts, assertion_frame, evidence_frame, intervention_of, comparator_of
from pipeline.compare import domain, evidence
from pipeline.compare.directness import directness
from pipeline.records import Claim


def claim(sentence, claim_type="efficacy", source="article", intervention=None, outcome=None, direction="increase"):
    return Claim(f"c{abs(hash(sentence)) % 10**8}", source, "a1", 0, sentence, claim_type, "affirmed", "asserted",
                 intervention, outcome, direction)


def test_the_comparison_reads_its_concept_sets_from_config():
    # the sets evidence.py held as literals before they moved to config/lexicon/evidence.toml
    assert evidence.EXOSOME_FAMILY == {"MESH:D055354", "MESH:D058953", "EXO:exosome_therapy"}
    assert evidence.HAIR_OUTCOMES == {"EXO:hair_growth", "EXO:hair_density", "EXO:anagen", "EXO:telogen",
                                      "MESH:D006197", "MESH:D018859", "MESH:D000505", "EXO:androgenetic_alopecia",
                                      "MESH:D000506"}
    assert evidence.HARMFUL_OUTCOMES == {"MESH:D000505", "EXO:androgenetic_alopecia", "MESH:D000506", "EXO:telogen",
                                         "MESH:D009369", "MESH:D009362", "EXO:hair_greying"}
    assert evidence.HUMAN_DESIGNS == {"systematic_review", "rct", "non_randomised_clinical", "case_series_or_report"}
    assert evidence.PRECLINICAL_DESIGNS == {"animal", "in_vitro"}


def _without_prp() -> str:
    text = domain.DEFAULT_PATH.read_text(encoding="utf-8")
    start = text.index("[interventions.prp]")
    return text[:start] + text[text.index("[interventions.minoxidil]"):]


def test_an_analyst_adds_an_intervention_family_through_config_alone(tmp_path):
    sentence = "Platelet-rich plasma injections increased hair density at 6 months."
    narrow = domain.parse(_without_prp())
    assert intervention_of(sentence, (), narrow) is None
    path = tmp_path / "evidence.toml"
    path.write_text(_without_prp() + '\n[interventions.prp]\nname = "platelet-rich plasma"\n'
                    "patterns = ['\\bplatelet[- ]rich plasma\\b', '(?-i:\\bPRP\\b)']\n", encoding="utf-8")
    wider = domain.load(path)
    assert intervention_of(sentence, (), wider) == "prp"
    assert intervention_of("PRP was injected monthly.", (), wider) == "prp"
    assert intervention_of("prp", (), wider) is None  # the abbreviation is matched case-sensitively
    # and it takes effect downstream: a PRP trial is not evidence about exosomes
    exo = assertion_frame(claim("Exosomes increase hair density."), domain=wider)
    prp = evidence_frame(claim(sentence, source="pubmed"), RecordFacts("1", "rct"), domain=wider)
    fit = directness(exo, prp, wider)
    assert not fit.addresses and "platelet-rich plasma" in fit.reasons[0]


def test_an_analyst_adds_a_comparator_through_config_alone(tmp_path):
    sentence = "Exosomes work better than laser caps."
    assert comparator_of(sentence) is None
    path = tmp_path / "evidence.toml"
    path.write_text(domain.DEFAULT_PATH.read_text(encoding="utf-8")
                    + "\n[comparators.laser]\npatterns = ['\\blaser( caps?| therapy)?\\b']\n", encoding="utf-8")
    assert comparator_of(sentence, domain.load(path)) == "laser"


def test_the_environment_points_the_loader_at_another_file(tmp_path, monkeypatch):
    path = tmp_path / "evidence.toml"
    path.write_text(_without_prp(), encoding="utf-8")
    monkeypatch.setenv("EXOCLAIMS_DOMAIN", str(path))
    assert domain.load().version != domain.load(domain.DEFAULT_PATH).version


def test_the_families_that_set_an_articles_topic_come_from_config_and_must_be_families():
    text = domain.DEFAULT_PATH.read_text(encoding="utf-8")
    assert domain.parse(text).topic_families == ("exosomes", "secretome", "stem_cells")
    page = ["Secretome serums for thinning hair", "It works."]
    assert article_topic(page, domain.parse(text)) == "exosomes"
    narrow = text.replace('topic_families = ["exosomes", "secretome", "stem_cells"]', 'topic_families = ["exosomes"]')
    assert article_topic(page, domain.parse(narrow)) == "secretome"  # then a secretome page is its own topic
    with pytest.raises(ValueError, match="topic_families: laser not among"):
        domain.parse(text.replace('topic_families = ["exosomes", "secretome", "stem_cells"]',
                                  'topic_families = ["exosomes", "laser"]'))


def test_a_text_is_about_the_one_form_of_hair_loss_it_names():
    d = domain.load()
    assert d.condition_of("Exosomes calm the immune attack in alopecia areata.") == "alopecia_areata"
    assert d.condition_of("Outcomes in AGA patients after exosome injections") == "androgenetic_alopecia"
    assert d.condition_of("Male pattern baldness affects half of men.") == "androgenetic_alopecia"
    assert d.condition_of("Unlike pattern hair loss, alopecia areata is autoimmune.") is None  # several
    assert d.condition_of("Exosomes promote hair growth; aa is lower case.") is None  # AA only as capitals
    # a new condition is a table of the domain file
    extra = domain.DEFAULT_PATH.read_text(encoding="utf-8") + (
        "\n[conditions.traction_alopecia]\nname = \"traction alopecia\"\npattern = '\\btraction alopecia\\b'\n")
    assert domain.parse(extra).condition_of("Tight braids can cause traction alopecia.") == "traction_alopecia"
    assert d.condition_of("Exosomes can shorten postpartum shedding.") == "telogen_effluvium"
