"""The comparison as a pure decision: typed inputs in, links, verdicts, conflicts and frames out, no database."""

import dataclasses

from pipeline.compare.comparison import Comparison, ComparisonInputs, compare
from pipeline.compare.evidence import CandidatePolicy, LiteratureClaim
from pipeline.compare.frames import RecordFacts
from pipeline.records import Claim

EXOSOMES, DENSITY = "MESH:D055354", "EXO:hair_density"
POLICY = CandidatePolicy(max_candidates=30, min_similarity=0.55)


def _claim(claim_id, source, doc_id, idx, sentence, claim_type="efficacy", direction="increase", polarity="affirmed",
           certainty="asserted", intervention=EXOSOMES, outcome=DENSITY):
    return Claim(claim_id, source, doc_id, idx, sentence, claim_type, polarity, certainty, intervention, outcome,
                 direction)


ASSERTION = _claim("a1", "article", "001_x", 0, "Exosome injections increase hair density in patients.")
ADVICE = _claim("a2", "article", "001_x", 1, "You should consult a dermatologist first.", "recommendation", "none")
DENIAL = _claim("a3", "article", "002_y", 0, "Exosome injections do not increase hair density in patients.",
                direction="no-effect", polarity="negated")
TRIAL = _claim("l1", "pubmed", "90000032", 4, "Exosome treatment significantly increased hair density compared with "
               "placebo in 20 men.")
MICE = _claim("l2", "pubmed", "90000036", 3, "Exosomes increased hair density in mice.")
RECORDS = {
    "90000032": RecordFacts("90000032", "rct", "A pilot randomized controlled trial of exosomes for hair loss",
                            "Twenty men were randomized to exosomes or placebo.", 20),
    "90000036": RecordFacts("90000036", "animal", "Exosomes stimulate hair regrowth in mice"),
}


def inputs(*articles: Claim) -> ComparisonInputs:
    literature = (LiteratureClaim(TRIAL, "90000032", "rct", 2, "humans", "Journal of Cosmetic Dermatology", 2024),
                  LiteratureClaim(MICE, "90000036", "animal", 5, "animals", "Stem Cell Research", 2021))
    concepts = {(c.source, c.doc_id, c.sentence_idx): (EXOSOMES, DENSITY) for c in (*articles, TRIAL, MICE)}
    return ComparisonInputs(articles, literature, ("Journal of Cosmetic Dermatology",), concepts, RECORDS)


def test_an_assertion_is_linked_weighed_and_judged_without_a_database():
    decided = compare(inputs(ASSERTION, ADVICE), POLICY)
    [verdict] = decided.verdicts  # advice gets no verdict
    assert verdict.claim_id == "a1" and verdict.verdict == "supported" and verdict.key_pmids[0] == "90000032"
    linked = {(k.literature_claim_id, k.stance) for k in decided.links if k.article_claim_id == "a1"}
    assert linked == {("l1", "supports"), ("l2", "supports")}
    assert set(decided.frames) == {"a1", "a2", "l1", "l2"} and decided.frames["l1"].design == "rct"
    assert decided.verdict_counts() == {"supported": 1} and decided.conflicts == ()


def test_articles_that_contradict_each_other_are_found_and_the_denial_is_contradicted():
    decided = compare(inputs(ASSERTION, DENIAL), POLICY)
    assert {v.claim_id: v.verdict for v in decided.verdicts} == {"a1": "supported", "a3": "contradicted"}
    [conflict] = decided.conflicts
    assert {conflict.claim_id_a, conflict.claim_id_b} == {"a1", "a3"}


def test_the_stance_model_is_asked_only_about_pairs_the_facts_leave_open():
    asked = []

    def read(pairs):
        asked.extend(pairs)
        return [("unrelated", 0.9)] * len(pairs)

    undirected = _claim("a4", "article", "001_x", 2, "Exosomes are being studied for hair density.",
                        direction="none", certainty="hedged")
    decided = compare(inputs(ASSERTION, undirected), POLICY, read)
    assert asked and all(claim == undirected.sentence for claim, _ in asked)  # a1's links are settled by the facts
    assert {k.article_claim_id for k in decided.links if k.text_stance == "unrelated"} == {"a4"}


def test_each_distinct_pair_of_sentences_is_read_once_and_every_link_of_it_gets_that_reading():
    asked = []

    def read(pairs):
        asked.extend(pairs)
        return [("supports", 0.7 + 0.01 * len(asked))] * len(pairs)

    sentence = "Exosomes are being studied for hair density."
    # one article sentence that yields two claims (as "X and Y" often does), both left open by the facts
    twins = [_claim(f"a{i}", "article", "001_x", 2, sentence, direction="none", certainty="hedged") for i in (4, 5)]
    decided = compare(inputs(*twins), POLICY, read)
    assert len(asked) == len(set(asked)) == 2  # (sentence, trial) and (sentence, mice), each once
    readings = {(k.article_claim_id, k.literature_claim_id): k.text_probability for k in decided.links}
    assert readings[("a4", "l1")] == readings[("a5", "l1")] and readings[("a4", "l2")] == readings[("a5", "l2")]


def test_the_same_inputs_give_the_same_comparison_and_the_fingerprint_follows_them():
    first, second = compare(inputs(ASSERTION, DENIAL), POLICY), compare(inputs(ASSERTION, DENIAL), POLICY)
    assert isinstance(first, Comparison) and first == second
    assert inputs(ASSERTION).fingerprint("v1") == inputs(ASSERTION).fingerprint("v1")
    assert inputs(ASSERTION).fingerprint("v1") != inputs(ASSERTION).fingerprint("v2")  # the method changed
    assert inputs(ASSERTION).fingerprint("v1") != inputs(ASSERTION, DENIAL).fingerprint("v1")  # a new claim
    # a line without a claim can change what the article is about ("this therapy" on a page about laser combs)
    on_exosomes = dataclasses.replace(inputs(ASSERTION), sentences={"001_x": ("Exosomes for hair", "It works.")})
    on_lasers = dataclasses.replace(inputs(ASSERTION), sentences={"001_x": ("Laser combs for hair", "It works.")})
    assert on_exosomes.fingerprint("v1") != on_lasers.fingerprint("v1")
