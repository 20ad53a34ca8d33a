import pytest

from helpers import FIXTURES, PROJECT
from pipeline.articles.ingest import read_article_directory
from pipeline.evaluation.claims import read_gold, score_claim_detection
from pipeline.claims.extract import analyse_sentence, with_claims
from pipeline.records import Mention
from pipeline.nlp.analyse import analyse_docs, unit_from_article

EXO = Mention(0, "VESICLE", "MESH:D055354")
DENSITY = Mention(40, "HAIR_OUTCOME", "EXO:hair_density")
GROWTH = Mention(40, "HAIR_OUTCOME", "EXO:hair_growth")
AE = Mention(50, "ADVERSE_EVENT", "MESH:D064420")


def test_affirmed_asserted_efficacy():
    facts = analyse_sentence("ADSC exosomes significantly increased hair density compared with placebo.", [EXO, DENSITY])
    assert (facts.polarity, facts.certainty, facts.direction) == ("affirmed", "asserted", "increase")
    assert facts.intervention == "MESH:D055354" and facts.outcome == "EXO:hair_density"


def test_hedged_claim():
    facts = analyse_sentence("Exosomes may promote hair growth in some patients.", [EXO, GROWTH])
    assert facts.claim_type == "efficacy" and facts.certainty == "hedged" and facts.direction == "increase"


def test_negated_effect_is_no_effect():
    facts = analyse_sentence("Extracellular vesicles did not increase hair growth compared with vehicle.", [EXO, GROWTH])
    assert facts.polarity == "negated" and facts.direction == "no-effect"


def test_a_blocking_experiment_undoing_the_effect_is_no_decrease_by_the_intervention():
    dpc = Mention(70, "CELL_TYPE", "EXO:dermal_papilla_cells")
    blocked = analyse_sentence("The application of a Wnt pathway inhibitor reduced the effects of DPC-Exos on "
                               "fibroblasts and wound healing.", [EXO, dpc])
    assert blocked is None or blocked.direction == "none"
    # the vesicles' own effect, and a decrease they cause, keep their direction
    promoted = analyse_sentence("Exosomes promoted hair growth, and a Wnt inhibitor reduced the effects of the "
                                "exosomes.", [EXO, GROWTH])
    assert promoted.direction == "increase"
    lowered = analyse_sentence("Exosomes reduced the inflammation that blockers of androgen could not.", [EXO, GROWTH])
    assert lowered.direction == "decrease"


def test_not_only_is_not_a_negation():
    facts = analyse_sentence("Exosomes not only promote hair growth but also thicken hair.", [EXO, GROWTH])
    assert facts.polarity == "affirmed"


@pytest.mark.parametrize("sentence", [
    "Exosome therapy, a treatment without surgery, uses vesicles to stimulate hair growth.",
    "How exosomes improve hair growth is not fully understood, but they act on follicle cells.",
])
def test_what_the_negation_denies_is_not_the_effect(sentence):
    facts = analyse_sentence(sentence, [EXO, GROWTH])
    assert facts.polarity == "affirmed" and facts.direction == "increase"


def test_without_the_effect_is_no_effect():
    facts = analyse_sentence("Exosomes were applied for months without any improvement in hair growth.", [EXO, GROWTH])
    assert facts.polarity == "negated" and facts.direction == "no-effect"


def test_statements_that_more_research_is_needed_are_evidence_claims_about_the_article_topic():
    # real sentences of seed articles 002 and 004: neither names an intervention, one opens as advice
    for sentence in ("However, this field is still under research, and more studies are needed to confirm these "
                     "findings.",
                     "However, it is important to note that the regulatory landscape surrounding exosome therapy is "
                     "still evolving, and the long-term safety and efficacy of these treatments require further "
                     "investigation."):
        facts = analyse_sentence(sentence, [], antecedent=EXO)
        assert (facts.claim_type, facts.polarity, facts.intervention) == ("evidence", "negated", "MESH:D055354")
    # without an earlier intervention there is nothing to attach it to; real advice stays advice
    assert analyse_sentence("More studies are needed to confirm these findings.", []) is None
    assert analyse_sentence("It is important to consult a dermatologist before exosome treatment.",
                            [EXO]).claim_type == "recommendation"


def test_lack_of_studies_is_a_negated_evidence_claim():
    facts = analyse_sentence("There are currently no rigorous human studies to support the safety or efficacy of "
                             "using exosomes for hair growth.", [EXO, GROWTH])
    assert (facts.claim_type, facts.polarity) == ("evidence", "negated")


def test_safety_claim():
    facts = analyse_sentence("Most patients report minimal side effects after exosome injections.", [EXO, AE])
    assert facts.claim_type == "safety"


def test_recommendation_and_comparative():
    rec = analyse_sentence("Patients should consult a dermatologist before exosome treatment.", [EXO])
    assert rec.claim_type == "recommendation"
    comp = analyse_sentence("Exosome treatments promise faster recovery compared to hair transplants.",
                            [EXO, Mention(60, "TREATMENT", "EXO:hair_transplant")])
    assert comp.claim_type == "comparative"


@pytest.mark.parametrize("sentence", [
    "What Are Exosomes?", "The Future of Exosome Hair Therapy", "Exosomes will continue to be studied in the future.",
])
def test_headings_questions_and_predictions_are_not_claims(sentence):
    assert analyse_sentence(sentence, [EXO]) is None


def test_pronoun_takes_the_previous_intervention(nlp):
    doc = with_claims(next(analyse_docs(nlp, [unit_from_article_text("Exosomes are vesicles. They may promote wound healing.")])))
    claim = [c for c in doc.claims if c.sentence.startswith("They")][0]
    assert claim.intervention == "MESH:D055354"


def test_pronoun_takes_the_treatment_named_last_not_the_exosomes_before_it(nlp):
    # a comparison page: "they" in the polynucleotides section is about polynucleotides
    text = ("Polynucleotides and exosomes are both new. Polynucleotides (PDRN) help in three ways. "
            "They increase collagen production in the skin.")
    doc = with_claims(next(analyse_docs(nlp, [unit_from_article_text(text)])))
    claim = [c for c in doc.claims if c.sentence.startswith("They")][0]
    assert claim.intervention == "EXO:polynucleotides"


def unit_from_article_text(text):
    from pipeline.records import TextUnit
    return TextUnit("article", "t", text)


@pytest.mark.parametrize("name, floor", [("article_claims_dev.tsv", 0.78), ("article_claims_heldout.tsv", 0.8)])
def test_claim_detection_on_hand_labelled_seed_sentences(nlp, name, floor):
    units = [unit_from_article(a) for a in read_article_directory(PROJECT / "data" / "articles")]
    docs = [with_claims(d) for d in analyse_docs(nlp, units)]
    scores = score_claim_detection(read_gold(FIXTURES / "claims" / name), docs)
    assert scores["gold_claims"] == 34
    assert scores["detection"]["precision"] >= floor and scores["detection"]["recall"] >= floor, scores["detection"]


def test_placebo_control_is_not_a_comparative_claim():
    facts = analyse_sentence("ADSC-Exos significantly increased hair density compared with placebo.", [EXO, DENSITY])
    assert facts.claim_type == "efficacy"


def test_no_effect_on_tumour_growth_is_a_safety_claim():
    tumour = Mention(50, "DISEASE", "MESH:D009369")
    facts = analyse_sentence("Exosomes from mesenchymal stem cells did not increase tumor growth in this model.", [EXO, tumour])
    assert (facts.claim_type, facts.direction, facts.outcome) == ("safety", "no-effect", "MESH:D009369")


def test_exosomes_are_the_intervention_before_their_source_treatment():
    prp = Mention(0, "TREATMENT", "MESH:D053657")
    facts = analyse_sentence("Platelet-rich plasma exosomes reversed alopecia areata in all treated patients.",
                             [prp, Mention(25, "VESICLE", "MESH:D055354"), Mention(40, "DISEASE", "MESH:D000506")])
    assert facts.intervention == "MESH:D055354"


def test_negation_in_a_relative_clause_does_not_negate_the_claim():
    text = "Clinical studies show that exosomes increase hair density compared to those who do not undergo treatment."
    assert analyse_sentence(text, [Mention(27, "VESICLE", "MESH:D055354"), Mention(46, "HAIR_OUTCOME",
                                                                             "EXO:hair_density")]).polarity == "affirmed"
    # a parser's relative clause, here one that "who" cue phrases do not cover
    text = "Treatments that do not require surgery, such as exosomes, promote hair growth."
    mentions = [Mention(48, "VESICLE", "MESH:D055354"), Mention(66, "HAIR_OUTCOME", "EXO:hair_growth")]
    assert analyse_sentence(text, mentions).polarity == "negated"
    assert analyse_sentence(text, mentions, relative_clauses=[(11, 38)]).polarity == "affirmed"
    # ... unless the clause holds the claim's direction: "vesicles that do not promote hair growth"
    text = "Exosomes are vesicles that do not promote hair growth."
    mentions = [Mention(0, "VESICLE", "MESH:D055354"), Mention(42, "HAIR_OUTCOME", "EXO:hair_growth")]
    facts = analyse_sentence(text, mentions, relative_clauses=[(22, 53)])
    assert (facts.polarity, facts.direction) == ("negated", "no-effect")


def test_the_parser_finds_the_relative_clause(nlp):
    [doc] = map(with_claims, analyse_docs(nlp, [unit_from_article_text("Exosomes promote hair growth in patients "
                                                                       "that did not respond to minoxidil.")]))
    [claim] = doc.claims
    assert claim.polarity == "affirmed" and claim.direction == "increase"


def test_talk_about_the_article_is_not_a_claim():
    assert analyse_sentence("Understanding how exosomes work to combat hair loss can offer insights.",
                            [Mention(19, "VESICLE", "MESH:D055354"), Mention(44, "DISEASE", "MESH:D000505")]) is None


def test_growth_factors_exosomes_contain_are_a_mechanism():
    text = "Exosomes contain growth factors such as VEGF that support hair growth."
    facts = analyse_sentence(text, [Mention(0, "VESICLE", "MESH:D055354"), Mention(17, "GROWTH_FACTOR",
                                    "EXO:growth_factors"), Mention(40, "GROWTH_FACTOR", "MESH:D042461"),
                                    Mention(58, "HAIR_OUTCOME", "EXO:hair_growth")])
    assert facts.claim_type == "mechanism" and facts.direction == "increase"


def test_the_detector_adds_article_claims_the_rules_miss_typed_by_its_kind():
    from pipeline.claims.detector import Detection
    from pipeline.claims.extract import doc_claims
    from pipeline.records import ParsedDoc, Sentence, SentenceParse

    texts = ["No exosome product has been approved by the FDA for hair loss.",  # the rules see no claim here
             "Exosomes promote hair growth in patients.",
             "Book a consultation today."]
    starts = [0, 64, 106]
    sentences = tuple(Sentence("article", "w", i, s, s + len(t), t) for i, (s, t) in enumerate(zip(starts, texts)))
    parses = (SentenceParse(), SentenceParse((Mention(64, "VESICLE", "MESH:D055354"),
                                              Mention(81, "HAIR_OUTCOME", "EXO:hair_growth"))), SentenceParse())
    doc = ParsedDoc("article", "w", sentences, (), parses)
    detections = [Detection(0.92, True, "regulatory"), Detection(0.9, True, "efficacy"), Detection(0.02, False, "background")]
    assert [c.claim_type for c in doc_claims(doc)] == ["efficacy"]
    regulatory, efficacy = doc_claims(doc, detections)
    assert (regulatory.sentence_idx, regulatory.claim_type, regulatory.polarity) == (0, "regulatory", "negated")
    assert regulatory.cues == ("detector:regulatory:0.92",)
    assert efficacy.cues != regulatory.cues and efficacy.claim_type == "efficacy"  # the rules' claim is kept
    pubmed = ParsedDoc("pubmed", "1", sentences, (), parses)
    assert [c.claim_type for c in doc_claims(pubmed, detections)] == ["efficacy"]  # abstracts: the rules alone


def test_a_sentence_the_detector_finds_far_from_checkable_is_no_claim_although_the_rules_took_it():
    from pipeline.claims.detector import Detection
    from pipeline.claims.extract import doc_claims
    from pipeline.records import ParsedDoc, Sentence, SentenceParse

    text = "Our exosome sessions promote hair growth and leave you feeling renewed."
    parse = SentenceParse((Mention(4, "VESICLE", "MESH:D055354"), Mention(29, "HAIR_OUTCOME", "EXO:hair_growth")))
    article = ParsedDoc("article", "w", (Sentence("article", "w", 0, 0, len(text), text),), (), (parse,))
    assert [c.claim_type for c in doc_claims(article)] == ["efficacy"]  # the rules' cue words fire
    unlike = Detection(0.02, False, "background", vetoes_rules=True)
    doubtful = Detection(0.2, False, "background")  # not checkable by the detector, yet above the veto
    assert doc_claims(article, [unlike]) == ()
    assert [c.claim_type for c in doc_claims(article, [doubtful])] == ["efficacy"]
    abstract = ParsedDoc("pubmed", "1", article.sentences, (), (parse,))
    assert len(doc_claims(abstract, [unlike])) == 1  # abstracts: the rules alone


def test_essential_to_how_it_works_states_a_fact_essential_to_choose_advises():
    from pipeline.claims.extract import RECOMMEND

    assert RECOMMEND.search("It is essential to choose a reputable clinic.")
    assert not RECOMMEND.search("Quality and stability are essential to how well exosomes work.")
    assert not RECOMMEND.search("The source is important for the results.")


@pytest.mark.parametrize("sentence", [
    "Angiogenesis: they trigger the growth of new blood vessels.",  # after a run-in heading
    "The growth of new blood vessels is triggered by them.",  # the agent of a passive
    "Held inside them is a blend of growth factors that promote the growth of new blood vessels.",
])
def test_a_pronoun_refers_back_wherever_it_stands(sentence):
    vessels = Mention(sentence.index("growth of new"), "PROCESS", "MESH:D018919")
    assert analyse_sentence(sentence, [vessels], antecedent=EXO).intervention == "MESH:D055354"


def test_a_later_it_is_not_taken_for_the_treatment_named_before():
    # "it" inside a sentence as often means the condition: only plural pronouns refer back there
    loss = Mention(0, "DISEASE", "MESH:D000505")
    facts = analyse_sentence("Hair loss can deeply alter self-image, and anxiety is often caused by it.", [loss],
                             antecedent=EXO)
    assert facts is None or facts.intervention is None


def test_a_section_label_before_a_determiner_refers_to_nothing():
    # "These findings" after an abstract's label is no pronoun: the claim keeps the intervention it names (none)
    growth = Mention(60, "HAIR_OUTCOME", "EXO:hair_growth")
    facts = analyse_sentence("Conclusions: These findings suggest that ECPE significantly improves hair regrowth.",
                             [growth], antecedent=EXO)
    assert facts is None or facts.intervention is None


@pytest.mark.parametrize("sentence", [
    "Mostly, the side effects of exosome treatment for hair are mild and don't last long.",
    "Serious reactions like allergic responses don't happen often, but they can happen.",
])
def test_how_long_or_how_often_a_harm_lasts_is_no_negation_of_the_claim(sentence):
    harm = Mention(sentence.index("side effects") if "side effects" in sentence else 0, "ADVERSE_EVENT",
                   "MESH:D064420")
    facts = analyse_sentence(sentence, [harm], antecedent=EXO)
    assert (facts.claim_type, facts.polarity) == ("safety", "affirmed")


def test_less_hair_shedding_is_a_benefit_as_less_hair_loss_is(nlp):
    from pipeline.compare.evidence import benefit

    for sentence in ("Exosomes reduce hair shedding in patients with androgenetic alopecia.",
                     "Exosomes decrease hair fall in the patients who were treated.",
                     "Exosomes reduce hair loss in patients with androgenetic alopecia."):
        [claim] = with_claims(next(analyse_docs(nlp, [unit_from_article_text(sentence)]))).claims
        assert claim.outcome == "MESH:D000505" and benefit(claim) == 1, sentence
