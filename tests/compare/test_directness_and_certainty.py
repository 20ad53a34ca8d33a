"""Directness per pair of frames, and verdicts weighed per record with a GRADE-style certainty (issue 17)."""

from dataclasses import replace

import pytest

from pipeline.compare.frames import Frame, RecordFacts, assertion_frame, evidence_frame
from pipeline.compare.directness import directness, outcome_answers
from pipeline.compare.evidence import EvidenceLink
from pipeline.compare.graded import decide_claim
from pipeline.records import Claim

EXOSOMES = "MESH:D055354"


def claim(sentence, claim_type="efficacy", source="article", doc_id="a1", intervention=EXOSOMES, direction="increase",
          polarity="affirmed"):
    return Claim(f"{doc_id}-{abs(hash(sentence)) % 10**8}", source, doc_id, 0, sentence, claim_type, polarity,
                 "asserted", intervention, None, direction)


def assertion(sentence, **facts) -> tuple[Claim, Frame]:
    c = claim(sentence, **facts)
    return c, assertion_frame(c, default_intervention="exosomes")


def study(pmid, design, sentence, title="", abstract="", n=None, **facts) -> tuple[Claim, Frame]:
    c = claim(sentence, source="pubmed", doc_id=pmid, **facts)
    return c, evidence_frame(c, RecordFacts(pmid, design, title, abstract, n))


def link(article: Claim, lit: Claim, stance="supports", design="rct") -> EvidenceLink:
    return EvidenceLink(article.claim_id, lit.claim_id, lit.doc_id, stance, 1.0, 2, design, "test", "facts")


DENSITY = study("39174804", "non_randomised_clinical", "CONCLUSION: Foreskin-derived mesenchymal stromal cells derived "
                "exosome injection increased hair density, with sustained patient satisfaction throughout the study.",
                "Effectiveness of Exosome Treatment in Androgenetic Alopecia: Outcomes of a Prospective Study", n=30)
PILOT = study("90000032", "rct", "Conclusions: These findings suggest that ECPE significantly improves hair regrowth "
              "compared to the placebo, with no notable adverse effects.", "A Pilot Randomized Controlled Trial of an "
              "Exosome-Containing Plant Extract", "Twenty men were randomized to ECPE or placebo.", n=20)
MICE = study("90000036", "animal", "Exosomes accelerated the telogen-to-anagen transition in mice.",
             "Stimulation of mouse hair regrowth by exosomes")
LACKING = study("90000034", "narrative_review", "Clinical trials demonstrate safety of exosome use in medicine, but "
                "data showing efficacy and safety of exosome therapy for alopecia are lacking.", "Exosome therapy in "
                "hair regeneration: A literature review of the evidence", claim_type="evidence", direction="none")
LIMITED = study("90000019", "systematic_review", "Conclusions: Although current clinical evidence supporting the use of "
                "exosome treatment is limited, there is a growing body of evidence suggesting its therapeutic "
                "potential.", "Systematic review of exosome treatment in hair restoration", claim_type="evidence",
                direction="none", n=39)
NECROSIS = study("90000014", "case_series_or_report", "Skin necrosis developed after intradermal injection of "
                 "lyophilized exosome.", "Skin necrosis after intradermal injection of lyophilized exosome: a case "
                 "report", claim_type="safety", direction="none")
SECRETOME = study("90000012", "rct", "Our findings suggest that the application of the ADSC-CE topical solution "
                  "increased hair density compared with vehicle.", "A randomized, double-blind, vehicle-controlled "
                  "clinical study of hair regeneration using adipose-derived stem cell constituent extract", n=38)


def verdict(article, *evidence, stances=None):
    (a, af) = article
    frames = {a.claim_id: af, **{c.claim_id: f for c, f in evidence}}
    stances = stances or ["supports"] * len(evidence)
    return decide_claim(a, [link(a, c, s) for (c, _), s in zip(evidence, stances)], (), frames)


# -- directness ---------------------------------------------------------------------------------

def test_outcome_levels_must_match():
    assert outcome_answers("hair_growth", "hair_growth/density")  # a general claim, a specific study
    assert outcome_answers("hair_growth/regrowth", "hair_cycle/anagen")  # regrowth is answered by anagen studies
    assert not outcome_answers("hair_cycle/telogen_to_anagen", "hair_growth/count")
    assert not outcome_answers("hair_cycle/telogen_to_anagen", "hair_cycle/anagen")
    assert not outcome_answers("growth_factor_content", "hair_growth")


def test_a_hair_count_study_does_not_speak_to_a_telogen_to_anagen_claim():
    _, telogen = assertion("Exosomes can reactivate dormant hair follicles, promoting the transition from the "
                           "telogen (resting) phase to the anagen (growth) phase.")
    fit = directness(telogen, DENSITY[1])
    assert not fit.addresses and "density" in fit.reasons[0]
    assert directness(telogen, MICE[1]).addresses


def test_secretome_trials_comparators_populations_and_time_frames():
    _, exo = assertion("Exosomes increase hair density.")
    fit = directness(exo, SECRETOME[1])
    assert not fit.addresses and "secretome" in fit.reasons[0]
    _, cheaper = assertion("They generally pose a lower risk of adverse reactions compared to synthetic treatments or "
                           "medications.", claim_type="safety", direction="decrease")
    assert "no comparison with medications" in directness(cheaper, NECROSIS[1]).reasons
    _, people = assertion("Clinical studies have shown that patients experience significant hair regrowth.",
                          claim_type="evidence")
    assert not directness(people, MICE[1]).addresses
    _, lasting = assertion("Exosome therapy gives long-term hair growth.")
    assert "no long-term follow-up" in directness(lasting, DENSITY[1]).reasons[0]
    # another vesicle source is indirect, not off topic
    _, msc = assertion("Mesenchymal stem cell exosomes increase hair regrowth.")
    fit = directness(msc, PILOT[1])
    assert fit.addresses and not fit.direct


# -- verdicts and certainty ---------------------------------------------------------------------

def test_asserted_efficacy_against_reviews_that_find_the_human_evidence_lacking_is_mixed():
    article = assertion("Recent studies have demonstrated the efficacy of exosome therapy for hair loss.",
                        claim_type="evidence", direction="none")
    v = verdict(article, DENSITY, PILOT, LACKING, LIMITED)
    assert (v.verdict, v.certainty) == ("mixed", "low")
    assert v.contradicting_pmids == ("90000019", "90000034") and "90000034" in v.key_pmids
    assert "reviews call the human evidence lacking (PMID 90000019, 90000034)" in v.reason
    assert v.reason.endswith("→ mixed, low certainty")


def test_hedged_claims_are_judged_as_hedged():
    article = assertion("Early evidence suggests that it may effectively promote hair regrowth.", intervention=None)
    v = verdict(article, DENSITY, PILOT, LACKING)
    assert v.verdict == "supported" and v.contradicting_pmids == ()
    assert "1 small RCT (PMID 90000032)" in v.reason


def test_a_claim_that_evidence_is_missing_is_supported_by_reviews_saying_so():
    article = assertion("Larger randomized clinical trials are necessary to establish definitive conclusions about "
                        "the effectiveness of exosomes in treating hair loss.", claim_type="evidence", direction="none")
    v = verdict(article, LACKING, LIMITED, PILOT, stances=["contradicts", "contradicts", "contradicts"])
    # a 20-person pilot is not the larger trial the claim asks for
    assert (v.verdict, v.certainty, v.supporting_pmids) == ("supported", "moderate", ("90000019", "90000034"))


def test_safety_claims_against_adverse_event_reports_are_mixed():
    article = assertion("Most patients report minimal side effects, such as mild swelling or discomfort at the "
                        "injection site.", claim_type="safety", intervention=None, direction="none")
    v = verdict(article, PILOT, NECROSIS, stances=["supports", "unrelated"])
    assert (v.verdict, v.supporting_pmids, v.contradicting_pmids) == ("mixed", ("90000032",), ("90000014",))
    assert "case report of adverse events" in v.reason


def test_preclinical_only_and_single_small_studies_are_very_low_certainty():
    telogen = assertion("Exosomes can reactivate dormant hair follicles, promoting the transition from the telogen "
                        "(resting) phase to the anagen (growth) phase.")
    v = verdict(telogen, DENSITY, MICE)
    assert (v.verdict, v.certainty, v.supporting_pmids) == ("supported only by preclinical evidence", "very low",
                                                            ("90000036",))
    density = assertion("Exosomes increase hair density.")
    v = verdict(density, DENSITY)
    assert (v.verdict, v.certainty, v.key_pmids) == ("supported", "very low", ("39174804",))


def test_randomised_evidence_starts_high_and_is_downgraded_for_imprecision_and_indirectness():
    big = study("1", "rct", "Exosomes significantly increased hair density compared with placebo.", n=240)
    density = assertion("Exosomes increase hair density.")
    assert verdict(density, big).certainty == "moderate"  # one study: imprecise
    other = study("2", "rct", "Exosomes significantly increased hair density compared with placebo.", n=200)
    assert verdict(density, big, other).certainty == "high"
    msc = assertion("Mesenchymal stem cell exosomes increase hair density.")
    plant = study("3", "rct", "Plant exosomes significantly increased hair density compared with placebo.", n=200)
    assert verdict(msc, replace_source(big, "plant"), plant).certainty == "moderate"  # indirect: another source


def replace_source(evidence, source):
    c, f = evidence
    return c, replace(f, intervention=f"exosomes/{source}")


def test_comparisons_and_secretome_trials_leave_a_claim_not_addressed_with_the_reason():
    cheaper = assertion("They generally pose a lower risk of adverse reactions compared to synthetic treatments or "
                        "medications.", claim_type="safety", direction="decrease")
    v = verdict(cheaper, NECROSIS, PILOT, stances=["contradicts", "supports"])
    assert (v.verdict, v.certainty) == ("not addressed", "very low") and "no comparison with medications" in v.reason
    clinical = assertion("Exosomes increase hair density.")
    v = verdict(clinical, SECRETOME)
    assert v.verdict == "not addressed" and "PMID 90000012" in v.reason and "secretome" in v.reason


def test_not_checkable_claims_get_that_verdict_without_certainty():
    v = verdict(assertion("Exosome therapy will soon revolutionize hair restoration."), DENSITY)
    assert (v.verdict, v.certainty) == ("not checkable", None) and "future" in v.reason


# -- rules added after scoring the first framed verdicts (issue 17, second round) ----------------------

TELOGEN_MICE = study("29138430", "animal", "Intradermal injection of MSC-EVs into C57BL/6 mice promoted the conversion "
                     "from telogen to anagen and increased expression of wnt3a, wnt5a and versican.",
                     "Extracellular vesicles derived from MSCs activates dermal papilla cell in vitro and promotes hair "
                     "follicle conversion from telogen to anagen in mice")
NO_SIDE_EFFECTS = study("39174804", "non_randomised_clinical", "No side effects or complications were observed after "
                        "exosome injection.", "Effectiveness of Exosome Treatment in Androgenetic Alopecia: Outcomes of "
                        "a Prospective Study", n=30, claim_type="safety", direction="none")
TELOGEN_CLAIM = ("Exosomes can reactivate dormant hair follicles, promoting the transition from the telogen (resting) "
                 "phase to the anagen (growth) phase.")


def read_by_text(article: Claim, lit: Claim, label: str, p: float) -> EvidenceLink:
    """A link the facts left open ('no direction to compare'), with the stance model's reading."""
    return EvidenceLink(article.claim_id, lit.claim_id, lit.doc_id, "unrelated", 0.0, 5, "animal",
                        "no direction to compare", "facts", label, p)


def test_the_stance_models_reading_counts_where_both_frames_ask_the_same_question():
    a, af = assertion(TELOGEN_CLAIM)
    mice, mice_frame = TELOGEN_MICE
    frames = {a.claim_id: af, mice.claim_id: mice_frame}
    v = decide_claim(a, [read_by_text(a, mice, "supports", 0.79)], (), frames)
    assert (v.verdict, v.supporting_pmids) == ("supported only by preclinical evidence", ("29138430",))
    # an unsure reading, or one about another question (a density study), does not count
    assert decide_claim(a, [read_by_text(a, mice, "supports", 0.55)], (), frames).verdict == "not addressed"
    density, density_frame = study("2", "animal", "Exosomes increased hair density in mice.")
    frames[density.claim_id] = density_frame
    assert decide_claim(a, [read_by_text(a, density, "supports", 0.95)], (), frames).verdict == "not addressed"


def test_evidence_gap_claims_about_the_long_term_are_supported_by_reviews_saying_evidence_is_limited():
    for sentence in ("Long-term risks of exosome treatments are currently unclear due to limited studies.",
                     "Challenges in this frontier include the lack of long-term studies, the need for "
                     "standardization in exosome extraction, and more extensive clinical trials.",
                     "In conclusion, while exosomes have shown potential in various clinical applications, including "
                     "hair therapy, there is still much to be learned about their safety and efficacy."):
        article = assertion(sentence, claim_type="evidence", direction="none", polarity="negated")
        assert article[1].asserts == "evidence_lacking", sentence
        v = verdict(article, LACKING, LIMITED)
        assert (v.verdict, v.certainty) == ("supported", "moderate"), sentence


@pytest.mark.parametrize("sentence", [
    "Whether the treatment is safe is not yet known.",
    "The safety of exosome therapy for hair loss has not been established.",
    "It is unclear whether exosomes are safe for the scalp.",
])
def test_safety_that_nobody_has_established_is_a_gap_the_reviews_answer(sentence):
    # not a claim that it is safe, for case reports to contradict, nor one that harms it, for them to support
    article = assertion(sentence, claim_type="safety")
    assert article[1].asserts == "evidence_lacking"
    assert verdict(article, LACKING, LIMITED).verdict == "supported"


def test_a_mechanism_claim_needs_a_record_that_shows_the_mechanism():
    counters = assertion("Exosome therapy counters hair loss by facilitating cell-to-cell communication, and "
                         "stimulating stem-cells in the hair follicle.", direction="decrease")
    assert counters[1].asserts == "mechanism"
    v = verdict(counters, DENSITY)
    assert v.verdict == "not addressed" and "does not show the mechanism" in v.reason
    mouse = study("90000028", "animal", "ADSC-Exos promoted hair growth in mice by activating Wnt signalling.")
    v = verdict(counters, DENSITY, mouse, LACKING)
    # reviews of the human evidence do not speak to how it works either
    assert (v.verdict, v.supporting_pmids, v.contradicting_pmids) == (
        "supported only by preclinical evidence", ("90000028",), ())


def test_a_specific_part_that_only_animal_studies_show_makes_the_verdict_preclinical():
    article = assertion("Preliminary studies suggest that exosomes can promote hair follicle growth and prolong the "
                        "anagen (growth) phase.")
    v = verdict(article, DENSITY, MICE)
    assert v.verdict == "supported only by preclinical evidence" and "only animal or cell studies show" in v.reason
    # without the part only mice show, the people decide
    assert verdict(assertion("Preliminary studies suggest that exosomes can promote hair follicle growth."),
                   DENSITY, MICE).verdict == "supported"
    # a category below what people see (inflammation) is such a part too, named without a level
    calmed = assertion("Exosomes promote hair growth and reduce inflammation.")
    assert "inflammation" in calmed[1].outcomes
    quieter = study("90000036", "animal", "Exosomes reduced inflammation and promoted hair growth in mice.",
                    direction="decrease")
    v = verdict(calmed, DENSITY, quieter)
    assert v.verdict == "supported only by preclinical evidence" and "inflammation" in v.reason
    # hedged, the same parts are read loosely (the seed reviewer: "may help modulate the inflammatory response")
    hedged = assertion("Exosomes may promote hair growth and reduce inflammation.")
    assert hedged[1].strength == "hedged" and verdict(hedged, DENSITY, quieter).verdict == "supported"


def test_mild_side_effect_claims_are_mixed_and_hedged_risks_are_not_refuted_by_studies_that_saw_none():
    mild = assertion("Potential side effects may include temporary redness or swelling, usually disappearing within "
                     "a day or two.", claim_type="safety", intervention=None, direction="none")
    assert mild[1].safety == "safe"
    v = verdict(mild, NO_SIDE_EFFECTS, NECROSIS, stances=["unrelated", "unrelated"])
    assert (v.verdict, v.supporting_pmids, v.contradicting_pmids) == ("mixed", ("39174804",), ("90000014",))
    risk = assertion("One potential risk is the possibility of allergic reactions, infections, or inflammation at the "
                     "injection site.", claim_type="safety", intervention=None, direction="none")
    v = verdict(risk, NO_SIDE_EFFECTS, NECROSIS, stances=["contradicts", "supports"])
    # necrosis is another harm than those named: it speaks to the risk, indirectly
    assert (v.verdict, v.supporting_pmids, v.contradicting_pmids) == ("supported", ("90000014",), ())


def test_an_effect_claim_is_not_judged_by_what_studies_say_of_harm():
    inflammation = assertion("Exosomes also play a crucial role in reducing inflammation by delivering "
                             "anti-inflammatory proteins and microRNAs to the site of injury or infection.",
                             direction="decrease")
    v = verdict(inflammation, NO_SIDE_EFFECTS, stances=["contradicts"])
    assert v.verdict == "not addressed"


def test_an_implied_comparison_needs_a_record_that_compares():
    article = assertion("Exosome treatments appear to be more effective as they address the root cause- inactive hair "
                        "follicles.")
    assert article[1].comparator == "other_treatments"
    v = verdict(article, DENSITY)
    assert v.verdict == "not addressed" and "no comparison with other treatments" in v.reason


def test_definitions_speculation_and_popularity_are_not_checkable():
    for sentence in ("Exosomes are extracellular vesicles, approximately 30-150nm in diameter, secreted by cells.",
                     "Exosomes are naturally occurring nanovesicles that play a crucial role in intercellular "
                     "communication.",
                     "In the future, exosomes may be employed in more personalized treatments tailored to individual "
                     "genetic and health profiles.",
                     "The use of exosomes for hair therapy is gaining popularity as one of the most promising areas of "
                     "regenerative medicine."):
        _, frame = assertion(sentence, direction="none")
        assert not frame.checkable, sentence
    # a sentence that makes a claim about an effect stays checkable
    assert assertion("Exosomes are vesicles that increase hair density.")[1].checkable


def test_outcomes_set_aside_by_besides_are_not_what_is_claimed():
    _, frame = assertion("Besides hair growth, exosomes may have other benefits such as improving skin rejuvenation "
                         "and wound healing.")
    assert frame.outcomes == ("wound_healing",)


def test_safety_claims_are_also_checked_against_human_studies_that_found_little_harm_within_one_bound():
    from pipeline.compare.evidence import LiteratureClaim
    from pipeline.compare.graded import field_evidence, field_pool

    def lit(evidence, level):
        c, _ = evidence
        return LiteratureClaim(c, c.doc_id, "x", level, None, "J", 2024)

    literature = [lit(NO_SIDE_EFFECTS, 3), lit(NECROSIS, 4), lit(LACKING, 7), lit(LIMITED, 1)]
    frames = {e[0].claim_id: e[1] for e in (NO_SIDE_EFFECTS, NECROSIS, LACKING, LIMITED)}
    field = field_evidence(literature, frames)
    assert [x.pmid for x in field["safe"]] == ["39174804"] and [x.pmid for x in field["harm"]] == ["90000014"]
    _, mild = assertion("Most patients report minimal side effects, such as mild swelling.", claim_type="safety",
                        intervention=None, direction="none")
    assert {x.pmid for x in field_pool(mild, field, frames, ())} == {"39174804", "90000014", "90000019", "90000034"}
    # the bound holds for all kinds together: the strongest of each kind first
    assert len(field_pool(mild, field, frames, (), limit=3)) == 3


def test_an_asserted_mechanism_is_also_checked_against_the_findings_about_the_outcome_level_it_names():
    from pipeline.compare.evidence import LiteratureClaim
    from pipeline.compare.graded import field_evidence, field_pool

    def lit(evidence, level):
        c, _ = evidence
        return LiteratureClaim(c, c.doc_id, "x", level, None, "J", 2024)

    literature = [lit(MICE, 5), lit(DENSITY, 3), lit(LIMITED, 1)]
    frames = {e[0].claim_id: e[1] for e in (MICE, DENSITY, LIMITED)}
    field = field_evidence(literature, frames)
    _, woken = assertion("Exosomes wake up follicles that have gone dormant.", claim_type="mechanism",
                         direction="none")
    assert "90000036" in {x.pmid for x in field_pool(woken, field, frames, ())}  # the mice, worded otherwise
    _, hedged = assertion("Exosomes may help wake up follicles that have gone dormant.", claim_type="mechanism",
                          direction="none")
    assert "90000036" not in {x.pmid for x in field_pool(hedged, field, frames, ())}
    # a clinical measure is found by similarity, not by its outcome level
    _, denser = assertion("Exosomes increase hair density.")
    assert "39174804" not in {x.pmid for x in field_pool(denser, field, frames, ())}


def test_a_finding_in_the_direction_an_outcome_level_states_supports_an_assertion_without_direction_words():
    from pipeline.compare.evidence import NO_DIRECTION
    from pipeline.compare.graded import implied_reading

    article, woken = assertion("Exosomes supply biochemical nudges that switch them back into growing.",
                               claim_type="mechanism", direction="none")
    mice, mice_frame = MICE
    open_link = replace(link(article, mice, "unrelated", "animal"), reason=NO_DIRECTION)
    assert implied_reading(open_link, article, woken, mice_frame) == "supports"
    # a link the facts decided keeps their reading; an assertion whose outcome states no direction gets none
    assert implied_reading(replace(open_link, reason="other"), article, woken, mice_frame) == "unrelated"
    calm_claim, calm = assertion("They calm an inflamed scalp.", claim_type="mechanism", direction="none")
    assert implied_reading(open_link, calm_claim, calm, mice_frame) == "unrelated"


def test_popularity_advice_and_what_may_become_are_not_checkable_unless_a_claim_comes_first():
    for sentence in ("In the realm of hair restoration, exosome therapy is gaining traction as a novel approach to "
                     "combat hair thinning and alopecia.",
                     "It's essential to choose a reputable clinic that follows strict protocols to ensure quality and "
                     "minimizes contamination risks.",
                     "As research continues and more clinical trials are conducted, exosomes may become an integral "
                     "part of comprehensive hair loss treatment regimens."):
        assert not assertion(sentence)[1].checkable, sentence
    # the safety claim comes before the popularity: checkable, and mixed against harm reports
    paired = assertion("The non-invasive nature of this therapy, paired with minimal downtime and side effects, has "
                       "made it increasingly popular among those suffering from hair loss.", claim_type="safety",
                       intervention=None, direction="none")
    assert paired[1].checkable and verdict(paired, NO_SIDE_EFFECTS, NECROSIS).verdict == "mixed"


def test_a_claim_about_another_intervention_is_not_judged_by_exosome_evidence():
    laser = assertion("Low-Level Laser Therapy (LLLT), often used in combination with other treatments, stimulates "
                      "cellular activity and promotes hair growth.", intervention="MESH:D028022")
    assert laser[1].intervention == "other"
    v = verdict(laser, DENSITY, LACKING)
    assert v.verdict == "not addressed" and "not about another intervention" in v.reason
    # "this" is the article's topic, whatever else the sentence names
    alternative = assertion("This offers a promising alternative for individuals seeking to regain their hair without "
                            "the risks associated with surgery.", claim_type="safety", intervention="EXO:hair_transplant",
                            direction="none", polarity="negated")
    assert (alternative[1].intervention, alternative[1].comparator) == ("exosomes", "surgery")
    assert verdict(alternative, NO_SIDE_EFFECTS).verdict == "not addressed"


def test_a_sentence_that_claims_nothing_of_the_intervention_is_neither_refuted_by_reviews_nor_read_by_text():
    background = assertion("This type also affects women, though the pattern of hair loss differs.",
                           claim_type="background", direction="none")
    assert verdict(background, LACKING, LIMITED, stances=["unrelated", "unrelated"]).verdict == "not addressed"
    a, af = background
    lit, lit_frame = DENSITY
    frames = {a.claim_id: af, lit.claim_id: lit_frame}
    assert decide_claim(a, [read_by_text(a, lit, "supports", 0.9)], (), frames).verdict == "not addressed"


def test_potential_hedges_as_an_adjective_or_what_is_shown_not_as_the_noun_of_a_topic():
    hedged = ("These tiny vesicles have shown potential in triggering new hair growth and creating thicker hair.",
              "Exosome therapy is emerging as a potential treatment for early aging and hair thinning.")
    for sentence in hedged:
        assert assertion(sentence)[1].strength == "hedged", sentence
    topic = assertion("Currently, research is gravitating towards understanding the full potential and limitations of "
                      "exosomes, with many clinical trials exploring exosome application in hair loss treatments.",
                      claim_type="evidence", direction="none")
    assert topic[1].strength == "asserted"
    # asserted, so reviews that call the human evidence lacking weigh against it
    assert verdict(topic, DENSITY, LACKING).verdict == "mixed"


def test_reviews_calling_the_evidence_lacking_do_not_refute_a_claim_with_nothing_for_it():
    article = assertion("Exosome therapy regrows hair in patients with advanced baldness.")
    alone = verdict(article, LACKING, LIMITED)
    assert (alone.verdict, alone.contradicting_pmids) == ("not addressed", ())
    assert "no record supports it; 2 reviews call the human evidence lacking" in alone.reason
    # with only a mouse study for it, the lacking reviews agree: preclinical, not contradicted
    mice = assertion("Exosomes accelerate the telogen-to-anagen transition.")
    v = verdict(mice, MICE, LACKING, stances=["supports", "supports"])
    assert v.verdict == "supported only by preclinical evidence"


def test_a_mechanism_that_names_no_outcome_is_not_shown_by_a_clinical_study():
    (_, af), (_, ef) = assertion("The needling is thought to work by carrying the exosomes deeper into the skin."), DENSITY
    assert af.asserts == "mechanism" and not af.outcomes
    fit = directness(af, ef)
    assert not fit.addresses and fit.reasons == ("the mechanism claimed names nothing the record measured",)


def test_one_study_named_by_its_year_is_supported_by_its_record_whatever_reviews_say_of_the_field():
    dated = assertion("A 2023 pilot study in people found that exosome injections increased hair density after "
                      "12 weeks.")
    assert dated[1].single_study
    v = verdict(dated, DENSITY, LACKING)
    assert (v.verdict, v.supporting_pmids, v.contradicting_pmids) == ("supported", ("39174804",), ())
    # the same result claimed for the field is weighed against the reviews
    field = assertion("Studies in people found that exosome injections increased hair density.")
    assert not field[1].single_study
    assert verdict(field, DENSITY, LACKING).verdict == "mixed"


def test_a_trial_that_found_no_benefit_is_an_effect_claim_not_missing_evidence():
    null = assertion("A 2021 randomized trial found no benefit of exosomes over placebo for hair density.",
                     claim_type="evidence", direction="no-effect", polarity="negated")
    assert null[1].asserts == "effect"
    # the facts of the links (test_evidence_and_verdicts): the study that found the benefit contradicts, the review
    # has no direction to compare; a review calling the evidence lacking does not weigh for or against one study
    v = verdict(null, DENSITY, LACKING, stances=["contradicts", "unrelated"])
    assert v.verdict == "contradicted" and v.contradicting_pmids == ("39174804",) and not v.supporting_pmids
    gap = assertion("No randomized trial has shown a benefit of exosomes for hair density.", claim_type="evidence",
                    direction="no-effect", polarity="negated")
    assert gap[1].asserts == "evidence_lacking"


AREATA = study("90000040", "case_series_or_report", "The patient regrew hair on the patches after exosome treatment.",
               "Successful Treatment of Hair Loss in Patient with Alopecia Areata Using Exosomes: Case Report")


def test_a_claim_about_alopecia_areata_is_answered_only_by_records_about_it():
    areata = assertion("In a case report, a patient with alopecia areata regrew hair after exosome treatment.")
    assert areata[1].condition == "alopecia_areata" and areata[1].single_study
    assert AREATA[1].condition == "alopecia_areata"  # from the record's title
    assert DENSITY[1].condition == "androgenetic_alopecia"
    fit = directness(areata[1], DENSITY[1])
    assert not fit.addresses and "not about alopecia areata" in fit.reasons[0]
    assert not directness(areata[1], MICE[1]).addresses  # hair growth in general does not answer it either
    v = verdict(areata, AREATA, DENSITY, LACKING)
    assert (v.verdict, v.supporting_pmids) == ("supported", ("90000040",))
    # a claim naming no condition is answered by either; one about pattern hair loss not by alopecia areata
    assert directness(assertion("Exosome injections regrow hair.")[1], AREATA[1]).addresses
    pattern = assertion("Exosomes increase hair density in androgenetic alopecia.")
    assert directness(pattern[1], DENSITY[1]).addresses and not directness(pattern[1], AREATA[1]).addresses


def test_what_was_found_in_mice_or_in_culture_is_not_shown_by_a_study_in_people():
    mice = assertion("Exosomes promoted hair regrowth in mouse models.")
    assert mice[1].population == "animals"
    assert not directness(mice[1], DENSITY[1]).addresses and directness(mice[1], MICE[1]).addresses
    assert verdict(mice, MICE, DENSITY).verdict == "supported only by preclinical evidence"
    culture = assertion("A 2017 study showed that exosomes from human dermal papilla cells boost the growth of hair in "
                        "human follicles kept in culture.")
    assert culture[1].population == "cells"
    assert not directness(culture[1], DENSITY[1]).addresses


def test_shedding_after_childbirth_is_answered_only_by_records_about_it():
    postpartum = assertion("Exosome scalp treatments can shorten postpartum shedding.")
    assert postpartum[1].condition == "telogen_effluvium"
    assert not directness(postpartum[1], DENSITY[1]).addresses and not directness(postpartum[1], MICE[1]).addresses


def test_not_addressed_names_the_records_on_the_topic_it_read_nearest_first():
    a, af = assertion("Exosome treatment restores hair in people with alopecia.")
    evidence = [DENSITY, MICE, PILOT, SECRETOME]
    frames = {a.claim_id: af, **{c.claim_id: f for c, f in evidence}}
    links = [replace(read_by_text(a, c, "unrelated", 0.9), similarity=s)
             for (c, _), s in zip(evidence, [-0.05, 0.77, None, 0.55])]
    v = decide_claim(a, links, (), frames)
    assert v.verdict == "not addressed" and v.key_pmids == ()
    # a reviewer who doubts it knows which records to read first (no similarity: last)
    assert v.reason.startswith("4 records on the same topic (nearest: PMID 90000036, PMID 90000012, PMID 39174804 "
                               "and 1 more), none bears on it")
    one = decide_claim(a, links[1:2], (), frames)
    assert one.reason.startswith("1 record on the same topic (nearest: PMID 90000036), none bears on it")
