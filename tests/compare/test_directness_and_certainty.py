"""Directness per pair of frames, and verdicts weighed per record with a GRADE-style certainty (issue 17)."""

from dataclasses import replace

from pipeline.claims.frames import Frame, RecordFacts, assertion_frame, evidence_frame
from pipeline.compare.directness import directness, outcome_answers
from pipeline.compare.evidence import EvidenceLink
from pipeline.compare.verdicts import decide_claim
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
