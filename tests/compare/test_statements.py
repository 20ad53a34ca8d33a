"""Statements about the field (approval, regulators, product quality, trials under way, time course, cargo, the
condition itself) are judged only by records that state that kind of fact, never by efficacy studies."""

import pytest

from pipeline.compare.comparison import ComparisonInputs, article_topic, compare, is_heading, section_topic
from pipeline.compare.domain import load, parse
from pipeline.compare.evidence import CandidatePolicy, LiteratureClaim
from pipeline.compare.frames import OTHER_INTERVENTION, RecordFacts, assertion_frame
from pipeline.compare.statements import claimed_weeks, effect_weeks, split_sentences, stated_facts
from pipeline.config import PROJECT_ROOT
from pipeline.records import Claim

EXOSOMES, DENSITY = "MESH:D055354", "EXO:hair_density"
POLICY = CandidatePolicy(max_candidates=30, min_similarity=0.55)


def _claim(claim_id, sentence, claim_type="efficacy", source="article", doc_id="001_x", idx=0, direction="none",
           polarity="affirmed", certainty="asserted", intervention=EXOSOMES, outcome=None):
    return Claim(claim_id, source, doc_id, idx, sentence, claim_type, polarity, certainty, intervention, outcome,
                 direction)


TRIAL = _claim("l1", "Exosome treatment significantly increased hair density compared with placebo in 40 patients "
               "after 24 weeks.", source="pubmed", doc_id="90000032", idx=4, direction="increase", outcome=DENSITY)
SAFE_TRIAL = _claim("l2", "No serious adverse events were observed in patients treated with exosomes.",
                    "safety", source="pubmed", doc_id="90000032", idx=5, direction="none",
                    outcome="MESH:D064420")
CASE = _claim("l3", "The patient developed skin necrosis after intradermal injection of exosomes.", "safety",
              source="pubmed", doc_id="90000014", idx=6, direction="increase", outcome="MESH:D064420")
REVIEW = _claim("l4", "Preclinical studies suggest that exosomes may promote hair growth in mice.",
                source="pubmed", doc_id="90000013", idx=5, direction="increase", outcome="EXO:hair_growth",
                certainty="hedged")
RECORDS = {
    "90000032": RecordFacts("90000032", "rct", "A randomized controlled trial of exosomes for androgenetic alopecia",
                            "Forty patients were randomized to exosomes or placebo and followed for 24 weeks. "
                            "Exosome treatment significantly increased hair density compared with placebo.", 40),
    "90000014": RecordFacts("90000014", "case_series_or_report",
                            "Skin necrosis after intradermal injection of lyophilized exosome: a case report",
                            "Most exosome products are available for topical use. Subdermal injection of "
                            "exosomes has not been approved. Standardized protocols for exosome isolation and "
                            "purification are needed."),
    "90000013": RecordFacts("90000013", "narrative_review", "Advances in stem cell-based therapy for hair loss",
                            "Hair loss is a common condition that affects self-esteem. To date there have only been "
                            "2 FDA approved medications, minoxidil and finasteride. Exosomes carry proteins, lipids "
                            "and microRNAs between cells. In preclinical models exosomes had anti-inflammatory "
                            "and regenerative effects."),
}


def judged(*articles, records=RECORDS, headings=None, sentences=None):
    literature = (LiteratureClaim(TRIAL, "90000032", "rct", 2, "humans", "J Cosmet Dermatol", 2024),
                  LiteratureClaim(SAFE_TRIAL, "90000032", "rct", 2, "humans", "J Cosmet Dermatol", 2024),
                  LiteratureClaim(CASE, "90000014", "case_series_or_report", 4, "humans", "J Cosmet Dermatol", 2024),
                  LiteratureClaim(REVIEW, "90000013", "narrative_review", 7, None, "Int J Mol Sci", 2023))
    concepts = {(c.source, c.doc_id, c.sentence_idx): tuple(x for x in (c.intervention, c.outcome) if x)
                for c in (*articles, TRIAL, SAFE_TRIAL, CASE, REVIEW)}
    inputs = ComparisonInputs(articles, literature, (), concepts, records, None, headings or {}, sentences or {})
    decided = compare(inputs, POLICY)
    return {v.claim_id: v for v in decided.verdicts}, decided.frames


def test_approval_is_judged_by_records_that_state_it_not_by_hair_growth_trials():
    denied = _claim("a1", "At present, no exosome product has FDA approval.", "regulatory")
    granted = _claim("a2", "Exosomes are FDA-approved for hair loss.", "regulatory")
    verdicts, frames = judged(denied, granted)
    assert frames["a1"].statement == "approval"
    assert verdicts["a1"].verdict == "supported"
    # the case report says injection is not approved; the review lists the only two approved medications
    assert set(verdicts["a1"].supporting_pmids) == {"90000014", "90000013"}
    assert "has not been approved" in verdicts["a1"].reason and "90000032" not in verdicts["a1"].reason
    assert verdicts["a2"].verdict == "contradicted"
    assert set(verdicts["a2"].contradicting_pmids) == {"90000014", "90000013"}


def test_the_absence_of_approval_is_a_denied_approval():
    verdicts, _ = judged(_claim("a1", "The first concern is the absence of regulatory approval for exosomes.",
                                "regulatory"))
    assert verdicts["a1"].verdict == "supported"


def test_a_negation_in_another_clause_does_not_deny_the_approval():
    # "without a prescription" is no denial of the approval the next clause states; the denial in the first
    # clause of the second sentence is one
    granted = _claim("a1", "It is a foam sold without a prescription, and the FDA has approved it for men and women.",
                     "regulatory", intervention=None)
    denied = _claim("a2", "Finasteride does not have FDA approval for hair loss, yet it is sometimes prescribed.",
                    "regulatory", intervention=None)
    verdicts, frames = judged(granted, denied, sentences={"001_x": ("Minoxidil for hair loss", granted.sentence)})
    assert frames["a1"].family == "minoxidil" and verdicts["a1"].verdict == "supported"
    assert verdicts["a2"].verdict == "contradicted" and verdicts["a2"].contradicting_pmids == ("90000013",)
    records = {"1": RecordFacts("1", "narrative_review", "Hair loss treatments",
                                "Minoxidil is approved, but its effects are not lasting.")}
    assert stated_facts(records)["approval"][0].approved is True


@pytest.mark.parametrize("sentence", [
    "As a rule, exosomes count as drugs that need approval before they can be marketed.",
    "Their only lawful use is inside clinical trials run under an Investigational New Drug authorization.",
    "It is illegal to inject exosomes except within a clinical trial.",
    "Getting a new treatment approved takes years.",
    "Exosome substances without approval are prohibited.",
])
def test_what_approval_requires_is_no_approval_status(sentence):
    # the records state whether exosomes are approved, not what approval takes: such claims are not addressed,
    # never contradicted by a record saying exosomes are unapproved
    verdicts, frames = judged(_claim("a1", sentence, "regulatory"))
    assert frames["a1"].statement == "approval_process"
    assert verdicts["a1"].verdict == "not addressed" and not verdicts["a1"].contradicting_pmids


def test_a_status_denied_in_the_words_of_a_requirement_stays_an_approval_status():
    verdicts, frames = judged(_claim("a1", "Exosomes have not received the required FDA approval.", "regulatory"))
    assert frames["a1"].statement == "approval" and verdicts["a1"].verdict == "supported"


def test_a_named_treatment_in_the_list_of_approved_ones_is_supported():
    verdicts, frames = judged(_claim("a1", "Finasteride is an FDA-approved tablet for hair loss.", "regulatory",
                                     intervention=None))
    assert frames["a1"].family == "finasteride"
    assert verdicts["a1"].verdict == "supported" and verdicts["a1"].supporting_pmids == ("90000013",)


def test_another_countrys_regulator_is_answered_only_by_records_naming_it():
    verdicts, _ = judged(_claim("a1", "Exosomes have not been approved for medical use in Japan either.", "regulatory"))
    assert verdicts["a1"].verdict == "not addressed"


def test_what_no_record_states_is_not_addressed_even_where_efficacy_trials_exist():
    warned = _claim("a1", "The FDA has warned clinics about exosome products that make unproven claims.", "safety")
    verdicts, frames = judged(warned)
    assert frames["a1"].statement == "regulation"
    assert verdicts["a1"].verdict == "not addressed" and not verdicts["a1"].supporting_pmids


def test_product_quality_is_supported_by_records_asking_for_manufacturing_standards():
    varies = _claim("a1", "Numerous companies manufacture exosomes, and what their products contain varies a great "
                    "deal.", "background")
    better = _claim("a2", "Korean exosome products are characterised more thoroughly than European ones.",
                    "background")
    verdicts, frames = judged(varies, better)
    assert frames["a1"].statement == "quality" and verdicts["a1"].verdict == "supported"
    assert verdicts["a1"].supporting_pmids == ("90000014",)
    assert frames["a2"].statement is None  # a comparison needs a record that makes it


@pytest.mark.parametrize("sentence", [
    "Even so, exosomes are not all the same.",
    "There is no way of knowing precisely what you are buying or which source the exosomes were taken from.",
    "Recent systematic reviews show major difficulties in harmonising the protocols used to characterise exosomes.",
    "Nevertheless, not all exosomes are alike.",  # rewordings (tests/fixtures/paraphrases/)
    "Remember, exosomes aren't all alike.",
    "Bear in mind that exosomes vary from one another.",
    "Still, there are differences among exosomes.",
])
def test_product_quality_in_other_words(sentence):
    verdicts, frames = judged(_claim("a1", sentence, "regulatory"))
    assert frames["a1"].statement == "quality" and verdicts["a1"].verdict == "supported"


def test_how_well_a_product_works_with_its_source_is_no_quality_statement():
    # it claims an effect; and a share of studies stays a share, though it names characterisation too
    source = _claim("a1", "Exosomes are not all alike, and where they come from strongly determines how they perform "
                    "on the skin.", "regulatory")
    share = _claim("a2", "Only 17% of primary studies followed the guidelines for characterising exosomes.",
                   "evidence", idx=1)
    _, frames = judged(source, share)
    assert frames["a1"].statement != "quality" and frames["a2"].statement == "study_share"


def test_trials_under_way_are_supported_where_human_studies_exist():
    verdicts, _ = judged(_claim("a1", "Exosome injections are being tested as a way to treat hair loss.",
                                outcome="EXO:hair_growth"))
    assert verdicts["a1"].verdict == "supported" and verdicts["a1"].supporting_pmids == ("90000032",)


def test_a_flat_denial_of_trials_is_contradicted_by_the_trials_a_qualified_one_stays_a_gap():
    none = _claim("a1", "As of 2025, no randomised controlled trial has tested exosome therapy for hair loss.",
                  "evidence", polarity="negated")
    formal = _claim("a2", "Exosomes have not yet been studied in formal clinical trials.", "evidence",
                    polarity="negated", idx=1)
    rigorous = _claim("a3", "No large, rigorous trials of exosomes for hair loss have been done.", "evidence",
                      polarity="negated", idx=2)
    verdicts, frames = judged(none, formal, rigorous)
    assert frames["a1"].statement == frames["a2"].statement == "trials"
    assert verdicts["a1"].verdict == "contradicted" and verdicts["a1"].contradicting_pmids == ("90000032",)
    assert "randomised trials of exosomes or extracellular vesicles in people exist" in verdicts["a1"].reason
    assert verdicts["a2"].verdict == "contradicted"
    assert frames["a3"].statement is None  # "large, rigorous": the reviews calling the evidence limited answer it


def test_a_share_of_studies_is_answered_only_by_a_record_giving_a_share():
    # the review's "human evidence is limited" does not say what share of studies did anything
    share = _claim("a1", "Only 17% of primary studies followed the established guidelines for exosomes.", "evidence")
    verdicts, frames = judged(share)
    assert frames["a1"].statement == "study_share" and verdicts["a1"].verdict == "not addressed"
    records = {**RECORDS, "7": RecordFacts("7", "systematic_review", "Reporting quality of exosome studies",
                                           "Only 17% of primary studies followed the MISEV guidelines.")}
    verdicts, _ = judged(share, records=records)
    assert verdicts["a1"].verdict == "supported" and verdicts["a1"].supporting_pmids == ("7",)


def test_a_flat_denial_of_any_study_is_contradicted_by_the_studies():
    single = _claim("a1", "There is not a single peer-reviewed study of exosomes for hair loss.", "evidence",
                    polarity="negated")
    enough = _claim("a2", "There are not enough studies of exosomes for hair loss.", "evidence", polarity="negated",
                    idx=1)
    verdicts, frames = judged(single, enough)
    assert frames["a1"].statement == "trials" and verdicts["a1"].verdict == "contradicted"
    assert frames["a2"].statement is None


def test_how_common_hair_loss_is_and_what_it_does_to_people_count_in_other_words():
    millions = _claim("a1", "Millions of people around the world lose hair.", "background", intervention=None)
    distress = _claim("a2", "Losing hair is a distressing experience.", "background", intervention=None, idx=1)
    cause = _claim("a3", "Hair loss is mostly caused by stress.", "background", intervention=None, idx=2)
    verdicts, frames = judged(millions, distress, cause)
    assert frames["a1"].statement == frames["a2"].statement == "condition"
    # the review: "Hair loss is a common condition that affects self-esteem"
    assert verdicts["a1"].verdict == verdicts["a2"].verdict == "supported"
    assert verdicts["a3"].verdict == "not addressed"  # a cause must be the same cause


def test_the_advantage_of_being_cell_free_is_preclinical_and_taken_even_as_a_comparison():
    records = {**RECORDS, "33255416": RecordFacts(
        "33255416", "narrative_review", "Extracellular vesicles as a cell-free therapy",
        "An advantage of EVs over MSCs is avoiding the possible immune rejection of cells. Herein we discuss an "
        "acellular product.")}
    safer = _claim("a1", "Exosome therapy is safer than other regenerative treatments because it is acellular.",
                   "comparative")
    rejection = _claim("a2", "Immune rejection is much less likely than with donor cells.", "safety", idx=1)
    verdicts, frames = judged(safer, rejection, records=records)
    assert frames["a1"].statement == frames["a2"].statement == "acellular"
    assert verdicts["a1"].verdict == verdicts["a2"].verdict == "supported only by preclinical evidence"
    assert verdicts["a1"].supporting_pmids == ("33255416",)


def test_a_definition_naming_a_therapeutic_cargo_is_a_checkable_mechanism():
    from pipeline.compare.frames import not_checkable_reason

    plain = _claim("a1", "Exosomes are tiny vesicles that cells release.", "background")
    cargo = _claim("a2", "Exosomes are tiny vesicles that carry growth factors which repair tissue.", "background")
    assert not_checkable_reason(plain, ()) == "a definition"
    assert not_checkable_reason(cargo, ()) is None


def test_a_kind_does_not_take_a_claim_its_unless_pattern_finds():
    assured = _claim("a1", "The brand applies pharmaceutical-grade manufacturing rigour to its exosome products.",
                     "background")
    lacking = _claim("a2", "Quality control in exosome manufacturing is lacking.", "background", idx=1)
    effective = _claim("a3", "It is most effective for patients whose hair is thinning.", "background",
                       intervention=None, idx=2)
    verdicts, frames = judged(assured, lacking, effective)
    assert frames["a1"].statement != "quality" and frames["a2"].statement == "quality"
    assert verdicts["a1"].verdict == "not addressed"  # records call for standards; that they are met, none says
    assert frames["a3"].statement != "condition"


def test_gaps_in_other_words_are_gaps_and_a_regulators_view_is_the_regulators():
    from pipeline.compare.frames import not_checkable_reason

    domain = load()
    for text in ("Human clinical research on exosomes is still very limited today.",
                 "The handful of studies that exist enrol few patients.",
                 "There is little science behind the claims made for it.",
                 "Exosome therapy is an experimental procedure carried out in clinics.",
                 "The results look promising, but the science is still evolving.",
                 "Most of the excitement rests on preclinical work and small pilot studies."):
        assert domain.evidence_absence.search(text), text
    assert not domain.evidence_absence.search("Regenerative medicine is emerging as a leader in hair restoration.")
    experimental = _claim("a1", "Exosome therapy is an experimental procedure carried out in clinics.", "evidence")
    assert not_checkable_reason(experimental, ()) is None  # not a definition: it says how far the evidence goes
    fda = _claim("a2", "In the FDA's view, exosomes are experimental.", "evidence")
    verdicts, frames = judged(fda)
    assert frames["a2"].statement == "regulation" and verdicts["a2"].verdict == "not addressed"


def test_a_report_of_one_cohort_is_a_single_study():
    domain = load()
    assert domain.single_study.search("In this prospective study, 30 patients gained hair density.")
    assert domain.single_study.search("Hair density improved in the 30 patients after treatment.")
    assert not domain.single_study.search("Larger randomised studies are needed.")
    for one in ("The only placebo-controlled exosome trial, with 20 men, reported a median gain of 9.5 hairs.",
                "An eight-man preprint found that hair density rose.", "An open-label study found more hair.",
                "In a case report, a patient regrew hair."):
        assert domain.single_study.search(one), one


def test_what_the_agency_did_is_a_regulators_action():
    agency = _claim("a1", "The agency has also received reports of serious infections in patients given unapproved "
                    "exosome products.", "regulatory")
    verdicts, frames = judged(agency)
    assert frames["a1"].statement == "regulation" and verdicts["a1"].verdict == "not addressed"


def test_cargo_and_repair_in_other_words_are_cell_biology():
    couriers = _claim("a1", "These exosomes serve as couriers that hand growth factors on to other cells.", "mechanism")
    mend = _claim("a2", "They help to find and mend faulty skin cells.", "mechanism", idx=1)
    _, frames = judged(couriers, mend)
    assert frames["a1"].statement == "cargo" and frames["a2"].statement == "biology"


def test_what_stem_cells_release_and_what_research_shows_vesicles_do_are_cell_biology():
    released = _claim("a1", "Stem cells release growth factors.", "mechanism", intervention=None)
    shown = _claim("a2", "Research has shown that exosomes switch on stem cells and boost their capacity to "
                   "regenerate.", "evidence", idx=1)
    calm = _claim("a3", "They calm an inflamed scalp.", "mechanism", idx=2)
    platelets = _claim("a4", "Platelets release growth factors.", "mechanism", intervention=None, idx=3)
    _, frames = judged(released, shown, calm, platelets)
    assert frames["a1"].statement == "cargo" and frames["a2"].statement == "biology"
    assert frames["a3"].statement == "biology"
    assert frames["a4"].statement is None  # what platelets hold is PRP's


def test_such_as_is_no_reference_to_vesicles():
    # "such" stands for vesicles in "such vesicles carry ...", never in "substances such as sugars"
    plasma = _claim("a1", "Besides substances such as sugars, plasma holds cells which carry plenty of growth factors.",
                    "mechanism", intervention=None)
    such = _claim("a2", "Such vesicles carry plenty of growth factors.", "mechanism", intervention=None, idx=1)
    _, frames = judged(plasma, such)
    assert frames["a1"].statement is None and frames["a2"].statement == "cargo"


def test_what_vesicles_were_first_taken_for_is_judged_by_the_records_that_say_so():
    waste = _claim("a1", "Scientists initially supposed that exosomes served as rubbish bags.", "background")
    records = {**RECORDS, "90000025": RecordFacts(
        "90000025", "narrative_review", "The Role of Extracellular Vesicles in Cutaneous Remodeling and Hair Follicle "
        "Dynamics", "Extracellular vesicles are cell-derived membranous structures that were originally catalogued "
        "as a way of releasing cellular waste products.")}
    verdicts, frames = judged(waste, records=records)
    assert frames["a1"].statement == "history"
    assert verdicts["a1"].verdict == "supported" and verdicts["a1"].supporting_pmids == ("90000025",)
    # without a record saying so, it is not addressed
    assert judged(waste)[0]["a1"].verdict == "not addressed"


def test_polynucleotides_and_growth_factor_concentrates_are_treatment_families_of_their_own():
    _, frames = judged(
        _claim("a1", "Polynucleotides repair scalp tissue.", "background", intervention=None),
        _claim("a2", "Growth factor concentrates are a biological therapy that shows promise.", intervention=None,
               idx=1))
    assert frames["a1"].family == "polynucleotides" and frames["a1"].statement is None
    assert frames["a2"].family == "secretome"


def test_a_time_course_is_checked_against_the_follow_up_of_human_studies_that_show_the_effect():
    within = _claim("a1", "Results become visible within six months of treatment.", "time_course")
    late = _claim("a2", "New hair can be expected to begin growing only after 8 months.", "time_course", idx=1)
    untimed = _claim("a3", "A single treatment was all people needed.", "time_course", idx=2)
    verdicts, _ = judged(within, late, untimed)
    assert verdicts["a1"].verdict == "supported" and verdicts["a1"].supporting_pmids == ("90000032",)
    assert verdicts["a2"].verdict == "contradicted"  # the trial saw more hair at 24 weeks
    assert verdicts["a3"].verdict == "not addressed"


def test_how_long_results_last_is_checked_against_how_long_human_studies_followed_people():
    # the trial saw its effect in a 24-week follow-up: results lasting 12-18 months are beyond it, three months not
    long = _claim("a1", "Results typically last 12 to 18 months.", "time_course")
    short = _claim("a2", "The benefits last for at least three months.", "time_course", idx=1)
    verdicts, _ = judged(long, short)
    assert verdicts["a1"].verdict == "not addressed" and "no human study followed people for 52.1 weeks" in \
        verdicts["a1"].reason
    assert verdicts["a2"].verdict == "supported" and verdicts["a2"].supporting_pmids == ("90000032",)


def test_a_time_course_is_checked_against_the_earliest_time_a_study_reports_the_effect():
    onset = _claim("a1", "New hair can be expected to begin growing at about the fourth month.", "time_course")
    stage = _claim("a2", "A second stage of cell reprogramming begins after 6-8 weeks.", "time_course", idx=1)
    verdicts, _ = judged(onset, stage)
    assert verdicts["a1"].verdict == "not addressed"  # the trial reports its effect at 24 weeks only
    trial = RECORDS["90000032"]
    early = {**RECORDS, "90000032": RecordFacts(trial.pmid, trial.design, trial.title, trial.abstract +
                                                " Hair density had already increased significantly by week 4.", 40)}
    verdicts, _ = judged(onset, stage, records=early)
    assert verdicts["a1"].verdict == "contradicted" and "effect reported by week 4" in verdicts["a1"].reason
    assert verdicts["a2"].verdict == "not addressed"  # no result people see is timed


def test_a_study_result_at_a_time_point_is_no_time_course():
    # when the trial measured is not when effects begin: it reports an effect, for the efficacy frames to judge
    result = _claim("a1", "After 6 months the treated group had gained 11.5 extra hairs per cm2 compared with 2.8 in "
                    "the placebo group.", "comparative")
    taken = _claim("a2", "After 6 months of treatment, the patients showed a significant rise in hair density.",
                   "time_course", idx=1)
    onset = _claim("a3", "Results start to show only after 6 months.", "time_course", idx=2)
    verdicts, frames = judged(result, taken, onset)
    assert frames["a1"].statement is None and frames["a2"].statement is None
    assert verdicts["a1"].verdict != "contradicted" and verdicts["a2"].verdict != "contradicted"
    assert frames["a3"].statement == "time_course" and verdicts["a3"].verdict == "contradicted"


@pytest.mark.parametrize("abstract, weeks", [
    ("A statistically significant increase in hair density was observed in the 4th and 12th weeks.", 4.0),
    ("Within one month, vellus hair regrowth appeared. By six months, regrowth was complete.", 4.3),
    ("Improvements were assessed every 2 weeks. Hair count increased significantly after 6 weeks.", 6.0),
    ("The treatment lasted 24 weeks and was well tolerated.", None),
])
def test_when_a_record_reports_the_effect(abstract, weeks):
    assert effect_weeks(abstract) == weeks


def test_what_vesicles_carry_is_cell_biology_and_the_condition_needs_the_same_fact():
    cargo = _claim("a1", "They carry proteins, lipids and microRNA from cell to cell.", "mechanism")
    common = _claim("a2", "Losing hair is a common worry that undermines self-esteem.", "background",
                    intervention=None, idx=1)
    other = _claim("a3", "Telogen effluvium is a temporary hair loss set off by stress.", "background",
                   intervention=None, idx=2)
    verdicts, _ = judged(cargo, common, other)
    assert verdicts["a1"].verdict == "supported only by preclinical evidence"
    assert verdicts["a1"].certainty == "very low"
    assert verdicts["a2"].verdict == "supported" and verdicts["a2"].supporting_pmids == ("90000013",)
    assert verdicts["a3"].verdict == "not addressed"  # no record says anything of stress


def test_how_common_hair_loss_is_and_follicle_shrinkage_are_stated_facts_of_the_condition():
    records = {**RECORDS, "90000029": RecordFacts(
        "90000029", "animal", "Exosomes counteract DHT in mice",
        "Pattern hair loss is thought to affect up to 80% of men by the age of 70. High concentrations of DHT in the "
        "scalp cause progressive shrinkage of the hair follicles in androgenetic alopecia.", None)}
    share = _claim("a1", "Close to 80% of men will have some degree of hair loss by the time they reach 80.",
                   "background", intervention=None)
    shrink = _claim("a2", "In this condition the follicles on the scalp shrink bit by bit.", "background",
                    intervention=None, idx=1)
    teens = _claim("a3", "Hair loss troubles 3% of teenagers, most of them boys.", "background", intervention=None,
                   idx=2)  # a share of no group the records count ("3%" alone is no prevalence fact)
    verdicts, _ = judged(share, shrink, teens, records=records)
    assert verdicts["a1"].verdict == "supported" and "90000029" in verdicts["a1"].supporting_pmids
    assert verdicts["a2"].verdict == "supported" and verdicts["a2"].supporting_pmids == ("90000029",)
    assert verdicts["a3"].verdict == "not addressed"


def test_a_reported_harm_is_supported_by_case_reports_and_not_refuted_by_trials_that_saw_none():
    risk = _claim("a1", "Exosome injections carry serious risks such as skin necrosis.", "safety",
                  outcome="MESH:D064420")
    common = _claim("a2", "Side effects such as skin necrosis are common after exosome injections.", "safety",
                    outcome="MESH:D064420", idx=1)
    verdicts, _ = judged(risk, common)
    assert verdicts["a1"].verdict == "supported" and "90000014" in verdicts["a1"].supporting_pmids
    assert verdicts["a2"].verdict == "mixed"  # a harm said to be common: the trial that saw none speaks to it


def test_a_section_heading_sets_the_topic_of_claims_that_name_no_treatment():
    domain = load()
    assert is_heading("2. Finasteride (Propecia)") and is_heading("PRP (platelet-rich plasma)")
    assert not is_heading("It helps most in early alopecia.") and not is_heading("How well it works: it can slow "
                                                                              "hair loss and encourage regrowth")
    headings = ((0, "Restoring Hair with Medication, PRP and Exosomes"), (3, "PRP (platelet-rich plasma)"),
                (9, "Exosomes"))
    assert section_topic(headings, 1, "exosomes", domain) == "exosomes"
    assert section_topic(headings, 5, "exosomes", domain) == "prp"
    assert section_topic(headings, 10, "exosomes", domain) == "exosomes"
    # a web page's section headings run longer ("PRP explained: what it is and how it acts", nine words)
    assert section_topic(((0, "PRP or Exosomes for Hair Loss"), (1, "PRP explained: what it is and how it acts")),
                         3, "exosomes", domain) == "prp"
    # stem cells and their secretome are among the families that make a page's unnamed claims about exosomes: a
    # heading naming them keeps that reading, as the article's topic does
    assert section_topic(((0, "Exosomes for thinning hair"), (4, "Stem cell therapy")), 6, "exosomes",
                         domain) == "exosomes"
    helps = _claim("a1", "It increases hair density in most patients.", idx=5, intervention=None, outcome=DENSITY,
                   direction="increase")
    _, frames = judged(helps, headings={"001_x": headings})
    assert frames["a1"].family == "prp"
    # without the heading, in an article that names exosomes somewhere: the topic the comparison folds together
    _, frames = judged(helps, sentences={"001_x": ("Exosome therapy for thinning hair", helps.sentence)})
    assert frames["a1"].family == "exosomes"


def test_an_article_that_never_names_the_folded_topic_is_not_read_as_about_it():
    domain = load()
    assert article_topic(["Secretome serums for hair", "It works."], domain) == "exosomes"  # judged with them
    assert article_topic(["PRP: what to expect", "PRP takes three sessions.", "Minoxidil helps too."],
                         domain) == "prp"
    assert article_topic(["Laser combs cleared by the FDA", "They are safe."], domain) == OTHER_INTERVENTION
    unapproved = _claim("a1", "It has no FDA approval.", "regulatory", intervention=None)
    verdicts, frames = judged(unapproved, sentences={"001_x": ("Exosomes at home", unapproved.sentence)})
    assert frames["a1"].family == "exosomes" and verdicts["a1"].verdict == "supported"
    # the same words on a page about laser combs: no record states the approval status of those
    verdicts, frames = judged(unapproved, sentences={"001_x": ("Low-level laser therapy at home", unapproved.sentence)})
    assert frames["a1"].family == OTHER_INTERVENTION and verdicts["a1"].verdict == "not addressed"


def test_a_list_of_the_only_approved_medications_says_nothing_of_a_device():
    cleared = _claim("a1", "Laser combs cleared by the FDA are a safe choice.", "regulatory", intervention=None)
    verdicts, frames = judged(cleared, sentences={"001_x": ("Laser combs for hair loss", cleared.sentence)})
    assert frames["a1"].statement == "approval" and frames["a1"].family == OTHER_INTERVENTION
    assert verdicts["a1"].verdict == "not addressed"


def test_record_sentences_are_split_even_without_a_space_and_ethics_approval_is_no_approval():
    assert split_sentences("Hair loss is common.It affects men.  Results: 24 weeks.") == \
        ["Hair loss is common.", "It affects men.", "Results: 24 weeks."]
    records = {"1": RecordFacts("1", "rct", "Exosomes for alopecia",
                                "The protocol was approved by the ethics committee. Exosomes are not approved.")}
    facts = stated_facts(records)["approval"]
    assert [f.sentence for f in facts] == ["Exosomes are not approved."] and facts[0].approved is False
    assert stated_facts(records, retracted={"1"})["approval"] == []


@pytest.mark.parametrize("text, weeks", [
    ("results within 3 to 6 months", (13.0, 26.1)),
    ("growth starts after two to three months", (8.7, 13.0)),
    ("at about the fourth month", (13.0, 17.4)),
    ("a single treatment", None),
    ("more hair at week 8", (8.0, 8.0)),
    ("by month 3", (13.0, 13.0)),
])
def test_the_time_a_claim_names(text, weeks):
    assert claimed_weeks(text) == weeks


def test_a_statement_kind_with_an_unknown_rule_no_pattern_or_an_unknown_requirement_is_refused():
    text = (PROJECT_ROOT / "config" / "lexicon" / "evidence.toml").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="rule must be one of"):
        parse(text + '\n[statements.rumour]\nassertion = "rumou?r"\nrule = "vibes"\n')
    with pytest.raises(ValueError, match="needs an `assertion` pattern"):
        parse(text + '\n[statements.rumour]\nrule = "states"\n')
    with pytest.raises(ValueError, match="same_fact must be a list"):
        parse(text + '\n[statements.rumour]\nassertion = "rumou?r"\nrule = "states"\nsame_fact = "common"\n')
    with pytest.raises(ValueError, match="requires must be"):
        parse(text + '\n[statements.rumour]\nassertion = "rumou?r"\nrule = "states"\nrequires = "nothing"\n')


def test_a_claim_frames_no_statement_where_it_says_evidence_is_lacking():
    gap = _claim("a1", "The regulatory landscape is still evolving, and long-term safety requires further "
                 "investigation.", "evidence")
    assert assertion_frame(gap, (), "exosomes").statement is None


def test_a_named_harm_that_occurred_is_a_harm_claim_supported_by_the_case_report():
    necrosis = _claim("a1", "Every one of them developed an inflammatory reaction in the skin, with necrosis "
                      "where the injections had gone in.", "safety", outcome="MESH:D064420")
    verdicts, frames = judged(necrosis)
    assert frames["a1"].asserts == "safety" and frames["a1"].safety == "harm"
    assert verdicts["a1"].verdict == "supported" and "90000014" in verdicts["a1"].supporting_pmids


def test_named_harms_no_record_reports_are_not_addressed_by_reports_of_other_harms():
    named = _claim("a1", "The main risks of exosome injections are contamination and allergic reactions.", "safety",
                   outcome="MESH:D064420")
    nodules = _claim("a2", "Patients developed firm red nodules where exosomes had been injected.", "safety",
                     outcome="MESH:D006099", idx=1)
    unnamed = _claim("a3", "Exosome injections carry risks of side effects.", "safety", outcome="MESH:D064420",
                     idx=2)
    verdicts, frames = judged(named, nodules, unnamed)
    assert {"adverse_events/infection", "adverse_events/allergy"} <= set(frames["a1"].outcomes)
    assert verdicts["a1"].verdict == "not addressed" and "no record reports the harm it names" in verdicts["a1"].reason
    assert verdicts["a2"].verdict == "not addressed"  # granulomas: the only case report here is of necrosis
    assert verdicts["a3"].verdict == "supported" and "90000014" in verdicts["a3"].supporting_pmids
    infected = _claim("a4", "Injections into an infected scalp raise the chance of complications.", "safety",
                      outcome="MESH:D064420", idx=3)
    verdicts, frames = judged(infected)
    assert "adverse_events/infection" in frames["a4"].outcomes and verdicts["a4"].verdict == "not addressed"


def test_what_vesicles_do_in_tissue_is_cell_biology_unless_the_claim_is_about_patients():
    repair = _claim("a1", "Because exosomes regenerate tissue and calm inflammation, they suit aesthetic care.",
                    "mechanism")
    patients = _claim("a2", "In patients, exosomes calm inflammation of the scalp.", "mechanism", idx=1)
    verdicts, frames = judged(repair, patients)
    assert frames["a1"].statement == "biology" and verdicts["a1"].supporting_pmids == ("90000013",)
    assert verdicts["a1"].verdict == "supported only by preclinical evidence"
    assert frames["a2"].statement is None  # an effect in people: judged by the studies of people


def test_a_licence_withheld_for_lack_of_evidence_is_an_approval_status():
    uk = _claim("a1", "In the UK, exosome products hold no licence for use in clinics, because large safety studies "
                "are lacking.", "evidence")
    plain = _claim("a2", "Exosome products hold no licence for use in clinics, because large safety studies are "
                   "lacking.", "evidence", idx=1)
    gap = _claim("a3", "Large safety studies of exosome products are lacking.", "evidence", idx=2)
    verdicts, frames = judged(uk, plain, gap)
    assert frames["a1"].statement == frames["a2"].statement == "approval" and frames["a3"].statement is None
    assert verdicts["a1"].verdict == "not addressed"  # no record names the UK's regulator
    assert verdicts["a2"].verdict == "supported"


def test_findings_pooled_by_outcome_level_are_read_by_the_stance_model_and_decide_the_verdict():
    nudges = _claim("a1", "Exosomes supply biochemical nudges that switch them back into growing.", "mechanism",
                    intervention=None)  # no concept in common with the mouse study: no candidate by concept
    mice = _claim("l5", "Intradermal injection of MSC-EVs into mice promoted the conversion from telogen to anagen.",
                  source="pubmed", doc_id="29138430", idx=3, direction="increase", outcome="EXO:anagen")
    records = {"29138430": RecordFacts("29138430", "animal", "Extracellular vesicles derived from MSCs promote hair "
                                       "follicle conversion from telogen to anagen in mice", "")}
    literature = (LiteratureClaim(mice, "29138430", "animal", 5, "animals", "Int J Mol Sci", 2018),)
    concepts = {("pubmed", "29138430", 3): (EXOSOMES, "EXO:anagen")}
    asked = []

    def read(pairs):
        asked.extend(pairs)
        return [("supports", 0.9, (0.9, 0.05, 0.05))] * len(pairs)

    decided = compare(ComparisonInputs((nudges,), literature, (), concepts, records, None, {}), POLICY, read)
    [verdict] = decided.verdicts
    assert (nudges.sentence, mice.sentence) in asked
    assert verdict.verdict == "supported only by preclinical evidence" and verdict.supporting_pmids == ("29138430",)


def test_rewordings_of_a_stated_fact_keep_its_kind():
    """The same facts in other words (the rewordings of tests/fixtures/paraphrases/ that moved verdicts): a passive,
    a cause read with "results from", "more than 80%" (no comparison), "hair loss is a widespread concern" (no
    definition) and "a relatively new method" (how new the field is, not a definition)."""
    cargo = _claim("a1", "A wide range of molecules, such as proteins, lipids and RNAs, is carried by exosomes.",
                   "mechanism")
    cause = _claim("a2", "In men, hair thinning often results from androgenetic alopecia, a hereditary condition.",
                   "background", intervention=None, idx=1)
    share = _claim("a3", "Some studies say more than 80% of men notice hair loss at some stage in their lives.",
                   "background", intervention=None, idx=2)
    common = _claim("a4", "Hair loss is a widespread concern affecting millions of people around the world.",
                    "background", intervention=None, idx=3)
    new = _claim("a5", "Exosome therapy is a relatively new method of hair restoration.", "evidence", idx=4)
    newer = _claim("a6", "Exosomes are newer on the hair loss scene.", "background", idx=5)
    trials = _claim("a7", "They show promise, but they're still in clinical trials.", "background", idx=6)
    buying = _claim("a8", "The term is so vague there is no way to know what you are purchasing.", "regulatory",
                    idx=7)
    sized = _claim("a9", "These tiny cells are 30 to 150 nm in diameter and contain genetic material and growth "
                         "factors.", "background", idx=8)  # the vesicles' size is no hair thickness
    kind = _claim("a10", "One type of cargo is proteins, including growth factors and enzymes.", "mechanism",
                  intervention=None, idx=9)
    made_up = _claim("a11", "Proteins, among them growth factors and enzymes, make up one kind of cargo.", "mechanism",
                     intervention=None, idx=10)
    _, frames = judged(cargo, cause, share, common, new, newer, trials, buying, sized, kind, made_up)
    assert [frames[c].statement for c in ("a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10", "a11")] == [
        "cargo", "condition", "condition", "condition", "novelty", "novelty", "trial_status", "quality", "cargo",
        "cargo", "cargo"]
    assert frames["a4"].checkable and frames["a5"].checkable
    # the kinds take the claim types the rules give the same words as they are worded
    typed = [_claim("t1", "Some studies put the share of people who notice hair loss at over 80% of men.", "evidence",
                    intervention=None, idx=13),
             _claim("t2", "Studies found that they carry proteins, lipids and microRNAs.", "evidence", idx=14),
             _claim("t3", "The initial assumption among scientists was that exosomes acted as rubbish bags.", "safety",
                    idx=15)]
    typed_frames = judged(*typed)[1]
    assert [typed_frames[c].statement for c in ("t1", "t2", "t3")] == ["condition", "cargo", "history"]
    # what hair loss does to people is no definition of it
    affects = _claim("d1", "Hair loss in women is a complicated problem that affects a good share of women.",
                     "background", intervention=None, idx=12)
    assert judged(affects)[1]["d1"].checkable
    # a result of the treatment is still no fact about the condition
    result = _claim("r1", "Results in men with hair loss are better when treatment starts early.", "background",
                    intervention=None, idx=11)
    assert judged(result)[1]["r1"].statement != "condition"


def test_statements_about_approval_and_regulators_in_the_words_of_the_reworded_corpus():
    """Round 24 (the development articles reworded line by line, training/reworded_run.py): an approval status
    stays checkable with sales talk beside it, "against the law" is what approval requires, a regulator that is
    "informing" the public or says clinics are "taking advantage" of patients is a regulator's action, and an
    "entirely new" approach is how new the field is."""
    popular = _claim("a1", "No exosome products have been approved by regulators in the US, the UK or Europe, where "
                           "the treatments are gaining popularity.", "regulatory", polarity="negated")
    law = _claim("a2", "Administering exosomes as injections is against the law unless it takes place within an "
                       "FDA-authorised clinical trial.", "background", idx=1)
    informing = _claim("a3", "The FDA is informing the public that several serious adverse events have recently "
                             "been reported in patients treated with unapproved exosome products.", "safety", idx=2)
    advantage = _claim("a4", "According to the FDA, clinics that offer these products without its review are taking "
                             "advantage of patients.", "regulatory", idx=3)
    new = _claim("a5", "Using exosomes to treat hair loss is an entirely new approach.", "background", idx=4)
    verdicts, frames = judged(popular, law, informing, advantage, new)
    assert frames["a1"].checkable and frames["a1"].statement == "approval"
    assert verdicts["a1"].verdict == "supported"  # the records say exosomes are unapproved
    assert [frames[c].statement for c in ("a2", "a3", "a4", "a5")] == [
        "approval_process", "regulation", "regulation", "novelty"]
    assert verdicts["a2"].verdict == verdicts["a3"].verdict == "not addressed"
    # sales talk with no approval status stays promotion
    _, plain = judged(_claim("p1", "Exosome therapy is gaining popularity among our patients.", "background"))
    assert not plain["p1"].checkable
    # the warning named before the regulator is still the regulator's action, not an approval status
    warned = _claim("w1", "Patients who received an unapproved exosome intervention in 2019 became seriously ill with "
                          "sepsis, prompting warnings from the FDA.", "safety")
    verdicts, frames = judged(warned)
    assert frames["w1"].statement == "regulation" and verdicts["w1"].verdict == "not addressed"
    # what a product's quality does for how well it works is about its effect, not a quality statement
    effect = _claim("q1", "She believes that the quality, formulation and stability of exosomes are all crucial to "
                          "their effectiveness.", "regulatory")
    assert judged(effect)[1]["q1"].statement != "quality"


def test_stated_facts_in_the_words_of_the_reworded_corpus():
    """Round 24, facts the originals' words found and their rewordings did not: cargo "carried by" vesicles before
    it is named, research "into" something that is ongoing, a denial of trials the rules type as background, what
    hair loss does to people after "is a concern", and concerns a practice "gives rise to"."""
    carried = _claim("a1", "A broad array of molecules is carried by exosomes, among them cytokines, lipids, proteins "
                           "and RNAs.", "background")
    ongoing = _claim("a2", "Research into biological products is ongoing to determine whether they offer benefits "
                           "for hair growth.", "evidence", idx=1, direction="increase")
    untried = _claim("a3", "However, exosomes have yet to be examined in formal clinical trials.", "background", idx=2)
    toll = _claim("a4", "Hair loss is a concern for both men and women, and it can take a heavy toll on self-esteem.",
                  "background", intervention=None, idx=3)
    verdicts, frames = judged(carried, ongoing, untried, toll)
    assert [frames[c].statement for c in ("a1", "a2", "a3", "a4")] == ["cargo", "trial_status", "trials", "condition"]
    assert frames["a4"].checkable  # no definition of hair loss: what it does to people
    assert verdicts["a3"].verdict == "contradicted"  # the collection holds trials of exosomes in people
    domain = load()
    assert domain.harm.search("This gives rise to serious safety and ethical concerns.")
    # a definition stays a definition
    from pipeline.compare.frames import not_checkable_reason
    assert not_checkable_reason(_claim("d1", "Exosomes are tiny vesicles released by cells.", "background"),
                                ()) == "a definition"


def test_a_study_without_a_placebo_arm_denies_no_trials():
    """Round 24: "there was no placebo or control arm in the study" says what one study lacked (a gap), not that no
    trial exists."""
    lacked = _claim("a1", "Since there was no placebo or control arm in the study, it is impossible to tell whether "
                          "the treatment caused the gain.", "evidence", polarity="negated")
    flat = _claim("a2", "No randomised controlled trial has tested exosome therapy for hair loss.", "evidence",
                  polarity="negated", idx=1)
    verdicts, frames = judged(lacked, flat)
    assert frames["a1"].statement is None and verdicts["a1"].verdict != "contradicted"
    assert frames["a2"].statement == "trials"


def test_a_danger_warns_of_harm_as_a_risk_does():
    """Round 24: the heading "The risk behind the hype" reworded as "The danger behind the hype" still warns of
    harm, which the case reports of adverse events support."""
    from pipeline.compare.evidence import safety_view

    for heading in ("The risk behind the hype", "The danger behind the hype", "The dangers nobody mentions"):
        assert safety_view(_claim("h1", heading, "safety")) == "harm", heading


def test_how_common_hair_loss_is_and_how_it_upsets_in_the_words_of_the_originals():
    """Round 24, found where a rewording was right and its original not: "losing hair is an upsetting problem" says
    what hair loss does to people, and "among men, 40% have visible hair loss" how common it is, the fact the
    records state as "affects up to 80% of men"."""
    upsetting = _claim("a1", "For many women, losing hair is an intimate and upsetting problem.", "background",
                       intervention=None)
    share = _claim("a2", "Among men, 40% have visible hair loss at 35, 65% at 60, and 80% at 75.", "background",
                   intervention=None, idx=1)
    verdicts, frames = judged(upsetting, share)
    assert frames["a1"].statement == frames["a2"].statement == "condition"
    assert verdicts["a2"].verdict == "supported"
