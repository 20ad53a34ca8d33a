"""Each stance and verdict rule, pinned with small hand-made claims."""

import pytest

from pipeline.compare.evidence import (
    LiteratureClaim, benefit, candidates, cited_journal, fact_stance, link_claim, link_evidence, safety_view,
)
from pipeline.compare.study_design import DESIGN_PHRASES, EVIDENCE_LEVELS
from pipeline.compare.verdicts import conflict_reason, decide_verdict, decide_verdicts, find_conflicts
from pipeline.records import Claim

EXOSOMES, EVS, THERAPY = "MESH:D055354", "MESH:D058953", "EXO:exosome_therapy"
GROWTH, DENSITY, ALOPECIA, ADVERSE = "EXO:hair_growth", "EXO:hair_density", "MESH:D000505", "MESH:D064420"


def claim(sentence, claim_type="efficacy", polarity="affirmed", certainty="asserted", intervention=EXOSOMES,
          outcome=GROWTH, direction="increase", source="article", doc_id="a1", idx=0):
    return Claim(f"{doc_id}-{idx}-{abs(hash(sentence)) % 10**8}", source, doc_id, idx, sentence, claim_type, polarity,
                 certainty, intervention, outcome, direction)


def lit(sentence, design, pmid="1", journal="Journal of Cosmetic Dermatology", retracted=False, **facts):
    return LiteratureClaim(claim(sentence, source="pubmed", doc_id=pmid, **facts), pmid, design,
                           EVIDENCE_LEVELS[design], None, journal, 2023, retracted)


RCT_GROWTH = lit("Exosomes significantly increased hair density compared with placebo.", "rct", pmid="11",
                 outcome=DENSITY)
MOUSE_GROWTH = lit("Exosomes accelerated hair regrowth in mice.", "animal", pmid="12")
RCT_NO_EFFECT = lit("Extracellular vesicles did not improve hair growth compared with vehicle.", "rct", pmid="13",
                    intervention=EVS, polarity="negated", direction="no-effect")
RCT_SAFE = lit("No serious adverse events were observed.", "rct", pmid="14", claim_type="safety",
               polarity="negated", outcome=ADVERSE, direction="none")
CASE_HARM = lit("Exosome injections can cause serious inflammatory reactions.", "case_series_or_report", pmid="15",
                claim_type="safety", outcome="MESH:D007249", direction="none")
REVIEW_LACKING = lit("Rigorous clinical evidence in humans is lacking.", "systematic_review", pmid="16",
                     claim_type="evidence", polarity="negated", direction="none")


# -- what a claim asserts ----------------------------------------------------------------------

def test_reducing_hair_loss_and_promoting_hair_growth_are_the_same_benefit():
    assert benefit(claim("Exosomes promote hair growth.")) == 1
    assert benefit(claim("Exosome therapy reduces hair loss.", outcome=ALOPECIA, direction="decrease")) == 1
    assert benefit(claim("Exosomes did not promote hair growth.", polarity="negated", direction="no-effect")) == 0
    # absence of evidence is not evidence of no effect
    assert benefit(claim("No studies show that exosomes regrow hair.", "evidence", "negated")) is None


def test_safety_view_reads_safe_harm_and_uncertainty():
    assert safety_view(claim("Exosome therapy is well tolerated.", "safety", direction="none")) == "safe"
    assert safety_view(claim("They present fewer risks than surgery.", "safety", direction="none")) == "safe"
    assert safety_view(CASE_HARM.claim) == "harm"
    assert safety_view(claim("Long-term risks are unclear due to limited studies.", "evidence",
                             direction="none")) is None


def test_cited_journal_prefers_a_stored_title():
    sentence = "One pivotal study published in the Journal of Cosmetic Dermatology demonstrated regrowth."
    assert cited_journal(sentence, ["Journal of cosmetic dermatology", "Cells"]) == "Journal of cosmetic dermatology"
    assert cited_journal("A trial in the International Journal of Molecular Sciences showed it.") == \
        "International Journal of Molecular Sciences"
    assert cited_journal("Exosomes promote hair growth.", ["Cells"]) is None


# -- stance -------------------------------------------------------------------------------------

def test_same_direction_supports_and_no_effect_contradicts():
    article = claim("Exosomes promote hair growth.")
    assert fact_stance(article, MOUSE_GROWTH).stance == "supports"
    assert fact_stance(article, RCT_NO_EFFECT).stance == "contradicts"


def test_a_trial_that_found_no_benefit_is_contradicted_by_one_that_found_it_not_supported_by_missing_evidence():
    null = claim("A 2021 randomized trial found no benefit of exosomes over placebo for hair density.", "evidence",
                 polarity="negated", outcome=DENSITY, direction="no-effect")
    assert benefit(null) == 0
    assert fact_stance(null, RCT_GROWTH).stance == "contradicts"
    assert fact_stance(null, REVIEW_LACKING).stance is None
    # absence of evidence stays what it was
    absent = claim("No randomized trial has shown that exosomes increase hair density.", "evidence",
                   polarity="negated", outcome=DENSITY, direction="no-effect")
    assert benefit(absent) is None and fact_stance(absent, REVIEW_LACKING).stance == "supports"


def test_less_greying_is_a_benefit_that_hair_growth_studies_do_not_speak_to():
    greying = claim("Exosomes can also reduce hair greying.", outcome="EXO:hair_greying", direction="decrease")
    assert benefit(greying) == 1
    assert candidates(greying, [RCT_GROWTH, MOUSE_GROWTH]) == []


def test_clinical_evidence_claims_are_not_supported_by_mouse_studies():
    article = claim("Clinical studies have shown that exosomes trigger new hair growth.", "evidence")
    assert fact_stance(article, MOUSE_GROWTH).stance == "unrelated"
    assert fact_stance(article, RCT_GROWTH).stance == "supports"


def test_no_rigorous_human_studies_is_contradicted_by_a_human_rct_not_by_a_mouse_study():
    article = claim("There are no rigorous human studies to support the efficacy of exosomes for hair growth.",
                    "evidence", "negated", direction="no-effect")
    assert fact_stance(article, RCT_GROWTH).stance == "contradicts"
    assert fact_stance(article, MOUSE_GROWTH).stance == "unrelated"
    assert fact_stance(article, CASE_HARM).stance == "unrelated"  # a case report is not a rigorous study
    assert fact_stance(article, REVIEW_LACKING).stance == "supports"


def test_long_term_evidence_claims_are_not_decided_by_short_trials():
    article = claim("Challenges include the lack of long-term clinical studies of exosomes for hair loss.",
                    "evidence", "negated", direction="none", outcome=None)
    assert fact_stance(article, RCT_GROWTH).stance == "unrelated"


def test_well_tolerated_is_contradicted_by_an_adverse_event_case_report():
    article = claim("Exosome therapy is safe and well tolerated.", "safety", outcome=None, direction="none")
    assert fact_stance(article, CASE_HARM).stance == "contradicts"
    assert fact_stance(article, RCT_SAFE).stance == "supports"


def test_hedged_literature_supports_at_half_strength():
    article = claim("Exosomes promote hair growth.")
    hedged = lit("Exosomes may promote hair growth.", "animal", pmid="17", certainty="hedged")
    asserted, half = link_claim(article, [MOUSE_GROWTH, hedged])
    assert asserted.stance == half.stance == "supports"
    assert half.score == pytest.approx(asserted.score / 2)
    assert "hedged" in half.reason


def test_retracted_records_and_other_interventions_are_not_evidence():
    article = claim("Exosomes promote hair growth.")
    retracted = lit("Exosomes restored hair in humans.", "rct", pmid="18", retracted=True)
    minoxidil = lit("Minoxidil increased hair growth.", "rct", pmid="19", intervention="MESH:D008916")
    assert link_evidence([article], [retracted, minoxidil]) == []


def test_synonymous_interventions_and_related_outcomes_are_matched():
    article = claim("Exosome therapy reduces hair loss.", intervention=THERAPY, outcome=ALOPECIA, direction="decrease")
    [link] = link_claim(article, [RCT_NO_EFFECT])  # extracellular vesicles, hair growth
    assert link.stance == "contradicts"


def test_text_classifier_decides_only_when_the_facts_do_not_and_only_when_confident():
    article = claim("Exosomes are a promising treatment for hair loss.", outcome=ALOPECIA, direction="none")
    undirected = lit("Exosomes were evaluated for androgenetic alopecia.", "rct", pmid="20", direction="none",
                     outcome=ALOPECIA)
    [confident] = link_claim(article, [undirected], text_stance=lambda pairs: [("supports", 0.9)] * len(pairs))
    assert (confident.stance, confident.method, confident.text_probability) == ("supports", "text", 0.9)
    [unsure] = link_claim(article, [undirected], text_stance=lambda pairs: [("supports", 0.6)] * len(pairs))
    assert (unsure.stance, unsure.text_stance) == ("unrelated", "supports")
    # where the facts decide, the classifier is not even asked (it is the costly part of a comparison)
    asked = []
    [decided] = link_claim(claim("Exosomes promote hair growth."), [RCT_NO_EFFECT],
                           text_stance=lambda pairs: asked.extend(pairs) or [("supports", 0.99)] * len(pairs))
    assert (decided.stance, decided.method, decided.text_stance) == ("contradicts", "facts", None) and not asked


def test_an_assertion_citing_a_journal_is_checked_against_that_journal_only():
    article = claim("A study in the Journal of Investigative Dermatology showed exosomes promote hair growth.")
    assert [k.stance for k in link_claim(article, [MOUSE_GROWTH])] == []
    verdict = decide_verdict(article, [], ["Journal of Investigative Dermatology"])
    assert verdict.verdict == "not addressed" and "Journal of Investigative Dermatology" in verdict.reason


# -- verdicts -----------------------------------------------------------------------------------

def _verdict(article, literature):
    return decide_verdict(article, link_claim(article, literature))


def test_verdict_supported_by_a_human_study():
    v = _verdict(claim("Exosomes increase hair density.", outcome=DENSITY), [RCT_GROWTH, MOUSE_GROWTH])
    assert (v.verdict, v.best_design, v.best_evidence_level) == ("supported", "rct", EVIDENCE_LEVELS["rct"])
    assert v.supporting_pmids == ("11", "12") and "PMID 11" in v.reason


def test_verdict_supported_only_by_preclinical_evidence():
    v = _verdict(claim("Exosomes promote hair growth."), [MOUSE_GROWTH])
    assert v.verdict == "supported only by preclinical evidence" and "no human study" in v.reason


def test_verdict_contradicted_when_only_contradicting_evidence():
    v = _verdict(claim("Exosomes promote hair growth."), [RCT_NO_EFFECT])
    assert v.verdict == "contradicted" and v.contradicting_pmids == ("13",)


def test_stronger_design_wins_and_equal_designs_are_mixed():
    article = claim("Exosomes promote hair growth.")
    assert _verdict(article, [RCT_NO_EFFECT, MOUSE_GROWTH]).verdict == "contradicted"
    rct_growth = lit("Exosomes increased hair growth versus placebo.", "rct", pmid="21")
    mixed = _verdict(article, [RCT_NO_EFFECT, rct_growth])
    assert (mixed.verdict, mixed.n_supports, mixed.n_contradicts) == ("mixed", 1, 1)
    # the reason names the tier that tied and each side's strongest design, so differing levels read right
    review_growth = lit("Exosomes increased hair growth across the included trials.", "systematic_review", pmid="22")
    tied = _verdict(article, [RCT_NO_EFFECT, review_growth])
    assert tied.verdict == "mixed" and tied.best_design == "systematic_review"
    assert "both sides have human studies" in tied.reason
    assert DESIGN_PHRASES["systematic_review"] in tied.reason and DESIGN_PHRASES["rct"] in tied.reason


def test_verdict_not_addressed_says_why():
    article = claim("Clinical studies have shown that exosomes trigger new hair growth.", "evidence")
    v = _verdict(article, [MOUSE_GROWTH])
    assert v.verdict == "not addressed" and v.n_unrelated == 1 and "human" in v.reason
    assert _verdict(article, []).reason == "no literature claim about the same intervention and outcome"


def test_recommendations_get_no_verdict():
    advice = claim("Patients should consult a dermatologist before exosome treatment.", "recommendation",
                   direction="none", outcome=None)
    assert decide_verdicts([advice], []) == []


# -- articles against each other ----------------------------------------------------------------

def test_clinical_studies_showed_regrowth_conflicts_with_no_rigorous_human_studies():
    shown = claim("Clinical studies have shown that exosomal hair restoration triggers new hair growth.", "evidence",
                  doc_id="a1")
    none = claim("There are currently no rigorous human studies to support the efficacy of exosomes for hair growth.",
                 "evidence", "negated", direction="no-effect", doc_id="a2")
    [conflict] = find_conflicts([shown, none])
    assert {conflict.doc_id_a, conflict.doc_id_b} == {"a1", "a2"} and "human studies" in conflict.reason


def test_hedged_claims_and_claims_of_one_article_do_not_conflict():
    safe = claim("Exosome therapy is well tolerated.", "safety", outcome=None, direction="none", doc_id="a1")
    may_harm = claim("Exosome treatment may involve risks and side effects.", "safety", certainty="hedged",
                     outcome=None, direction="none", doc_id="a2")
    harm = claim("Exosome injections cause granulomas.", "safety", outcome=None, direction="none", doc_id="a1", idx=1)
    assert conflict_reason(safe, may_harm) is None
    assert find_conflicts([safe, harm]) == []  # same article
    assert conflict_reason(safe, harm) == "one says it is safe, the other that it causes harm"


# -- bounded candidates: concept rules or semantic neighbours, at most K, most similar first ---------------

def _similarities(article, literature, cosines):
    """Embeddings whose cosines with the article claim are ``cosines`` (one per literature claim)."""
    import numpy as np

    from pipeline.compare.evidence import Similarities

    vectors = np.array([[c, (1 - c * c) ** 0.5, 0.0] for c in cosines], dtype=np.float32)
    return Similarities({article.claim_id: 0}, np.array([[1.0, 0.0, 0.0]], dtype=np.float32),
                        {lit.claim.claim_id: i for i, lit in enumerate(literature)}, vectors)


def test_each_assertion_keeps_at_most_k_candidates_the_most_similar_first():
    from pipeline.compare.evidence import CandidatePolicy, iter_claim_links

    article = claim("Exosomes promote hair growth.")
    literature = [lit(f"Exosomes increased hair growth in cohort {i}.", "rct", pmid=str(100 + i)) for i in range(6)]
    cosines = [0.30, 0.90, 0.50, 0.80, 0.20, 0.70]
    [(_, links)] = iter_claim_links([article], literature, None, _similarities(article, literature, cosines),
                                    CandidatePolicy(max_candidates=3, min_similarity=0.95))
    assert [k.pmid for k in links] == ["101", "103", "105"]  # cosines 0.9, 0.8, 0.7
    assert [k.similarity for k in links] == pytest.approx([0.9, 0.8, 0.7], abs=1e-3)
    # without a policy every concept candidate is linked, as before
    [(_, every)] = iter_claim_links([article], literature, None, _similarities(article, literature, cosines))
    assert len(every) == 6


def test_a_semantic_neighbour_sharing_no_concept_counts_only_by_a_confident_text_reading():
    from pipeline.compare.evidence import CandidatePolicy, iter_claim_links

    article = claim("Exosomes promote hair growth.")
    neighbour = lit("Vesicle-treated scalps grew fuller.", "rct", pmid="201", intervention=None, outcome=None)
    far = lit("Vesicles change the gut microbiome.", "rct", pmid="202", intervention=None, outcome=None)
    retracted = lit("Vesicle-treated scalps grew thicker.", "rct", pmid="203", retracted=True, intervention=None,
                    outcome=None)
    literature = [neighbour, far, retracted]
    similarities = _similarities(article, literature, [0.8, 0.2, 0.9])
    policy = CandidatePolicy(max_candidates=30, min_similarity=0.55)
    asked = []

    def reads(label, p):
        return lambda pairs: asked.extend(pairs) or [(label, p, (p, 0.0, 1 - p))] * len(pairs)

    [(_, [confident])] = iter_claim_links([article], literature, reads("supports", 0.9), similarities, policy)
    assert (confident.pmid, confident.stance, confident.method) == ("201", "supports", "text")
    assert confident.text_probabilities == (0.9, 0.0, pytest.approx(0.1))
    assert confident.reason.startswith("found by meaning") and asked
    [(_, [unsure])] = iter_claim_links([article], literature, reads("supports", 0.6), similarities, policy)
    assert (unsure.stance, unsure.text_stance) == ("unrelated", "supports")


def test_a_cited_journal_narrows_semantic_neighbours_too():
    from pipeline.compare.evidence import CandidatePolicy, iter_claim_links

    article = claim("A study in the Journal of Cosmetic Dermatology showed exosomes promote hair growth.")
    same = lit("Exosomes increased hair density.", "rct", pmid="301", outcome=DENSITY)
    other = lit("Exosomes increased hair density.", "rct", pmid="302", journal="Cells", outcome=DENSITY)
    neighbour = lit("Vesicles made hair fuller.", "rct", pmid="303", journal="Cells", intervention=None, outcome=None)
    literature = [same, other, neighbour]
    [(_, links)] = iter_claim_links([article], literature, None, _similarities(article, literature, [0.6, 0.9, 0.9]),
                                    CandidatePolicy())
    assert [k.pmid for k in links] == ["301"]
