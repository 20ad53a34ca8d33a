"""Assertion and evidence frames on real sentences (seed article 001, the realistic literature set)."""

import pytest

from pipeline.compare.frames import RecordFacts, assertion_frame, evidence_frame
from pipeline.records import Claim

EXOSOMES = "MESH:D055354"


def claim(sentence, claim_type="efficacy", source="article", intervention=EXOSOMES, outcome=None, direction="increase",
          polarity="affirmed"):
    return Claim(f"c{abs(hash(sentence)) % 10**8}", source, "a1", 0, sentence, claim_type, polarity, "asserted",
                 intervention, outcome, direction)


def frame(sentence, **facts):
    return assertion_frame(claim(sentence, **facts), default_intervention="exosomes")


@pytest.mark.parametrize("sentence, outcomes", [
    ("Exosomes can reactivate dormant hair follicles, promoting the transition from the telogen (resting) phase to "
     "the anagen (growth) phase.", ("hair_cycle/telogen_to_anagen",)),
    ("When applied to the scalp, the exosomes derived from these stem cells can stimulate dormant hair follicles, "
     "leading to increased hair density and thickness.",
     ("hair_cycle/telogen_to_anagen", "hair_growth/density", "hair_growth/thickness")),
    # the purpose named after "which are known to support" is not what is claimed
    ("Exosomes contain a myriad of growth factors such as vascular endothelial growth factor (VEGF), fibroblast "
     "growth factor (FGF), and epidermal growth factor (EGF), all of which are known to support hair growth.",
     ("growth_factor_content",)),
    ("Research indicates that exosomes can promote angiogenesis (formation of new blood vessels), enhance cell "
     "proliferation, and reduce inflammation—all essential factors in hair regrowth.",
     ("angiogenesis", "cellular/proliferation", "inflammation")),
    ("The study found that exosomes not only facilitated the proliferation of dermal papilla cells.",
     ("cellular/dermal_papilla_proliferation",)),
    # the same outcomes in other words
    ("They calm an inflamed scalp.", ("inflammation",)),
    ("They restart the hair growth cycle.", ("hair_cycle", "hair_growth")),
    # "stem cell growth factors" are no cell growth
    ("Stem cell growth factors wake up follicles that have gone dormant.", ("hair_cycle/telogen_to_anagen",)),
    ("Exosomes supply biochemical nudges that switch them back into growing.", ("hair_cycle/telogen_to_anagen",)),
    ("Exosomes taken from stem cells make cells multiply and migrate.",
     ("cellular/proliferation", "cellular/migration")),
    ("Follicles then regenerate and once again grow strong, healthy hair.", ("hair_growth",)),
    # a size in nanometres is the vesicles', not the hair's; the hair's diameter is its thickness
    ("Exosomes are 30 to 150 nm in diameter.", ()),
    ("The hair shaft diameter increased after treatment.", ("hair_growth/thickness",)),
    # hair follicles multiplied for a transplant are not cells proliferating
    ("The harvested follicles are multiplied in a laboratory and placed back into the scalp.", ()),
])
def test_outcomes_sit_on_the_hierarchy_at_the_most_specific_level(sentence, outcomes):
    assert frame(sentence).outcomes == outcomes


def test_what_an_assertion_asserts_and_how_strongly():
    safety = frame("Most patients report minimal side effects, such as mild swelling or discomfort at the injection "
                   "site.", claim_type="safety", intervention=None, direction="none")
    assert (safety.asserts, safety.safety, safety.population, safety.intervention) == \
        ("safety", "safe", "people", "exosomes")  # the article's topic where the sentence names no intervention
    absence = frame("Additionally, while case reports and small-scale studies show favorably, larger randomized "
                    "clinical trials are necessary to establish definitive conclusions about the effectiveness of "
                    "exosomes in treating hair loss.", claim_type="evidence", direction="none")
    assert absence.asserts == "evidence_lacking"
    hedged = frame("Early evidence suggests that it may effectively promote hair regrowth and improve scalp health "
                   "with a favorable safety profile.", claim_type="evidence", intervention=None)
    assert (hedged.strength, hedged.asserts, hedged.outcome) == ("hedged", "effect", "hair_growth/regrowth")
    # a hedge after what is claimed does not hedge it
    assert frame("With multiple studies demonstrating both efficacy and safety, exosome therapy presents a novel "
                 "approach that could change the landscape of treatment.", claim_type="evidence").strength == "asserted"
    assert frame("Exosomes can promote hair growth.").strength == "asserted"  # "can" is no hedge


def test_comparators_time_frames_and_checkability():
    lower = frame("Since exosomes are naturally occurring components derived from the body's cells, they generally "
                  "pose a lower risk of adverse reactions compared to synthetic treatments or medications.",
                  claim_type="safety", direction="decrease")
    assert lower.comparator == "medications"
    assert frame("Unlike traditional hair transplant procedures, exosome treatments need no downtime.",
                 claim_type="comparative").comparator == "surgery"
    assert frame("Exosome therapy offers long-term natural hair growth.").long_term
    future = frame("Exosome therapy will soon revolutionize hair restoration.")
    assert not future.checkable and future.not_checkable_reason == "speculation about the future"
    advice = frame("Choose a reputable clinic.", claim_type="recommendation", direction="none")
    assert (advice.checkable, advice.not_checkable_reason) == (False, "a recommendation")


def test_intervention_families_and_sources():
    assert frame("Exosomes derived from human umbilical cord mesenchymal stem cells stimulated hair regrowth."
                 ).intervention == "exosomes/msc"
    assert frame("The ADSC-CE topical solution increased hair density.", intervention=None).intervention == "secretome"
    assert frame("Adipose-derived stem cell conditioned media improved hair regrowth.",
                 intervention=None).intervention == "secretome"
    assert frame("ECPE, an exosome-containing plant extract, improved hair regrowth.").intervention == "exosomes/plant"


def test_evidence_frames_carry_design_size_control_follow_up_and_doubt():
    record = RecordFacts("90000032", "rct", "A Pilot Randomized Controlled Trial (RCT) Evaluating the Efficacy of an "
                         "Exosome-Containing Plant Extract Formulation for Treating Male Pattern Hair Loss",
                         "Twenty men were randomized to ECPE or placebo for 24 weeks.", 20)
    rct = evidence_frame(claim("Conclusions: These findings suggest that ECPE significantly improves hair regrowth "
                               "compared to the placebo, with no notable adverse effects.", source="pubmed"), record)
    assert (rct.design, rct.sample_size, rct.controlled, rct.follow_up_weeks, rct.population) == \
        ("rct", 20, True, 24.0, "people")
    assert rct.intervention == "exosomes/plant" and rct.finding and rct.comparator == "placebo"
    review = RecordFacts("90000034", "narrative_review", "Exosome therapy in hair regeneration: A literature review")
    doubt = evidence_frame(claim("Clinical trials demonstrate safety of exosome use in medicine, but data showing "
                                 "efficacy and safety of exosome therapy for alopecia are lacking.", "evidence",
                                 source="pubmed"), review)
    assert doubt.lacking and doubt.population == "people"
    # a hedged background sentence of a case series is not what the series found in its patients
    series = RecordFacts("90000041", "case_series_or_report", "Evaluation of the effectiveness of exosome therapy in "
                         "patients with androgenetic alopecia: case series", "", 2)
    background = evidence_frame(claim("They can carry proteins, lipids, RNA, and growth factors that may promote "
                                      "prolongation of the anagen phase.", source="pubmed"), series)
    assert not background.finding
    # a laboratory arm of a clinical study reports cells, not people
    lab = evidence_frame(claim("Results: ASC-Exosomes impact hDPCs, increasing proliferation and the upregulation of "
                               "hair growth-related genes.", source="pubmed"),
                         RecordFacts("39155501", "non_randomised_clinical"))
    assert lab.population == "cells"


@pytest.mark.parametrize("sentence, reason", [
    ("Lower contamination risk: reputable clinics such as ours use sterile, commercially manufactured products.",
     "the clinic's own policy"),
    ("We only use exosomes from certified laboratories that screen every batch.", "the clinic's own policy"),
    ("This piece sets exosomes against PRP for hair growth and looks at the evidence supporting each.",
     "what the article covers"),
    ("Exosomes are promoted as a wonder treatment for acne, eczema and hair loss.", "how popular it is"),
    ("Clinics often say that exosomes act at the level of the cell to improve skin texture.", "how popular it is"),
    # a claim that names clinics in passing is still a claim
    ("Exosome treatment is broadly regarded as safe, especially at reputable clinics like ours.", None),
    ("Experts say exosomes could eventually become a useful treatment for hair loss.", "speculation about the future"),
    ("Exosomes may one day replace hair transplants.", "speculation about the future"),
])
def test_a_clinics_own_practice_the_article_itself_and_what_others_promote_are_not_checkable(sentence, reason):
    assert frame(sentence, direction="none").not_checkable_reason == reason


def test_a_sentence_framed_as_an_idea_is_hedged_wherever_the_hedge_stands():
    assert frame("For hair loss, the thinking is that supplying these signals to the follicle creates better "
                 "conditions for hair growth.").strength == "hedged"
    assert frame("Exosomes increase hair density in patients.").strength == "asserted"


def test_ages_are_not_follow_up():
    from pipeline.compare.frames import follow_up_weeks

    assert follow_up_weeks("Eight women aged 26 to 52 years were followed for 24 weeks.") == 24.0
    assert follow_up_weeks("Patients 26 to 52 years old developed nodules 2 weeks to 3 months after treatment.") == 13.0


def test_naming_anagen_induction_asserts_its_direction_unless_negated():
    assert frame("Exosomes supply biochemical nudges that switch them back into growing.",
                 direction="none").direction == "increase"
    assert frame("Exosomes do not wake up dormant follicles.", direction="none", polarity="negated").direction == "none"
    assert frame("Exosomes calm an inflamed scalp.", direction="none").direction == "none"  # no level states one


def test_a_claim_typed_safety_that_names_no_harm_or_safety_asserts_an_effect():
    # the learned detector's kind can be wrong: the words decide whether a claim is about safety
    denial = frame("Exosomes do not treat, cure or prevent any disease or condition.", claim_type="safety",
                   direction="none", polarity="negated")
    assert denial.asserts == "effect"
    assert frame("Exosome injections are safe, with minimal side effects.", claim_type="safety",
                 direction="none").asserts == "safety"


def test_an_efficacy_claim_that_says_the_treatment_works_claims_the_topics_main_outcome():
    works = frame("Point one: exosomes applied to the skin surface can work.", direction="none")
    assert works.outcomes == ("hair_growth",) and works.direction == "increase"  # it works: the outcome improves
    # typed safety by the detector, the same words claim the same
    assert frame("Point one: exosomes applied to the skin surface can work.", claim_type="safety",
                 direction="none").direction == "increase"
    assert frame("Our page lists treatments that work, exosome therapy among them, for hair loss.",
                 direction="none").direction == "increase"
    # a named outcome is what is claimed; a denial and a claim of another kind take no outcome by default
    assert frame("Exosomes work by increasing hair density.").outcomes == ("hair_growth/density",)
    assert frame("Exosomes do not work.", direction="none", polarity="negated").outcomes == ()
    assert frame("The evidence that they work is thin.", claim_type="evidence", direction="none").outcomes == ()


def test_a_treatment_used_with_another_needs_a_record_of_that_combination():
    grafts = frame("Furthermore, when used alongside hair transplantation, exosomes help grafts survive, lower "
                   "inflammation and speed up healing after the operation.", claim_type="mechanism", direction="none")
    assert grafts.comparator == "surgery" and grafts.statement is None  # not cell biology: a combination
    assert frame("Exosomes combined with microneedling increased hair density.").comparator == "microneedling"
    # "together with" joining the cargo is no combination of treatments
    assert frame("Exosomes carry proteins together with RNA.", claim_type="mechanism").comparator is None


@pytest.mark.parametrize("sentence, claim_type, asserts, safety", [
    # evidence gaps and harms in other words (rewordings of development lines, tests/fixtures/paraphrases/)
    ("There's still very little clinical research on exosomes in people today, and what there is is weak.",
     "evidence", "evidence_lacking", None),
    ("There haven't been rigorous trials, so we don't know how safe it is to inject these particles.",
     "safety", "evidence_lacking", "any"),
    ("But the clinical evidence really is still in its early days.", "evidence", "evidence_lacking", None),
    ("The results look promising, but the science is still a work in progress.", "evidence", "evidence_lacking",
     None),
    ("Most of the buzz right now comes from preclinical work and small pilot studies.", "evidence",
     "evidence_lacking", None),
    ("There is a scarcity of clinical data on exosome treatment.", "evidence", "evidence_lacking", None),
    ("The laboratory evidence is large; the human evidence is small and mostly uncontrolled.", "evidence",
     "evidence_lacking", None),
    ("A 2023 systematic review found just one clinical study among the 16 it included.", "evidence",
     "evidence_lacking", None),
    ("In a study of just 30 patients, hair density increased.", "efficacy", "effect", None),
    # harm in other words
    ("This prompts serious safety and ethical concerns.", "safety", "safety", "harm"),
    ("However, there is considerable dispute over their safety.", "safety", "safety", "harm"),
    ("Their safety, however, is highly contested.", "safety", "safety", "harm"),
    ("Serious concerns, both safety-related and ethical, are raised by this.", "safety", "safety", "harm"),
    # harms patients reported
    ("Several patients have reported lumps and redness at the injection sites.", "safety", "safety", "harm"),
])
def test_the_same_gap_or_harm_in_other_words(sentence, claim_type, asserts, safety):
    f = frame(sentence, claim_type=claim_type, direction="none")
    assert f.asserts == asserts and safety in ("any", f.safety)


def test_a_denied_report_of_harm_is_no_harm():
    denied = frame("No patients reported swelling or redness after the injections.", claim_type="safety",
                   direction="none", polarity="negated")
    assert denied.safety == "safe"


def test_greying_is_an_outcome_of_its_own_not_hair_growth():
    greying = frame("Exosomes can also reduce hair greying.", claim_type="efficacy", direction="decrease")
    assert greying.outcomes and all(o.split("/")[0] == "hair_colour" for o in greying.outcomes)


def test_grafts_and_what_follows_a_transplant_are_a_combination_with_surgery():
    assert frame("Studies have shown that exosomes increase graft survival rates to over 95 percent.").comparator \
        == "surgery"
    assert frame("Exosomes applied after a hair transplant speed up healing.").comparator == "surgery"

