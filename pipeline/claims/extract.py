"""Rule-based claim extraction: which sentences assert something checkable, and what.

For each sentence with at least one domain concept, the cues below decide whether it is a claim,
its type (efficacy, safety, mechanism, evidence, comparative, recommendation, background), polarity
(affirmed/negated), certainty (asserted/hedged), the intervention and outcome concepts, and the
direction of the effect. Cue lists follow the negation and speculation cue inventory of BioScope
(Vincze et al., 2008) trimmed to the words that occur in consumer health writing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Sequence

from pipeline.claims.detector import Detection
from pipeline.records import AnalysedDoc, Claim, Mention, ParsedDoc, Source

INCREASE = {
    "promote", "increase", "stimulate", "enhance", "improve", "boost", "accelerate", "reactivate", "revive",
    "upregulate", "rise", "induce", "encourage", "restore", "regrow", "strengthen", "nourish", "facilitate",
    "activate", "trigger", "support", "thicken", "augment", "elevate", "foster", "rejuvenate", "regenerate",
}
DECREASE = {
    "reduce", "decrease", "inhibit", "suppress", "lower", "prevent", "slow", "diminish", "attenuate",
    "downregulate", "combat", "counter", "reverse", "alleviate", "minimize", "minimise", "mitigate", "halt",
}
CAUSE = {"cause", "lead", "contribute", "result", "transfer", "deliver", "carry", "interfere"}
NEGATION = {"no", "not", "n't", "never", "none", "neither", "nor", "lack", "lacking", "lacks", "absence",
            "cannot", "fail", "failed", "fails", "unable", "nothing"}
HEDGE = {"may", "might", "could", "can", "suggest", "suggests", "suggested", "potential", "potentially",
         "possible", "possibly", "promising", "preliminary", "appear", "appears", "likely", "believed",
         "perhaps", "seem", "seems", "unclear", "uncertain", "hope", "emerging", "anecdotal", "promise",
         "speculate", "hypothesize", "propose", "proposed", "indicate", "indicates", "would", "early"}
EVIDENCE = {"study", "studies", "trial", "trials", "research", "evidence", "data", "demonstrated", "shown",
            "show", "shows", "reported", "found", "published", "researchers", "scientists", "testimonials",
            "reports", "literature", "findings", "experiments", "prove", "proven"}
SAFETY = {"safe", "safety", "safely", "adverse", "risk", "risks", "tolerated", "complications", "toxicity",
          "harmful", "harm", "dangerous", "side", "contaminants", "allergic", "infections", "carcinogenic"}
COMPARATIVE = {"than", "compared", "comparison", "unlike", "versus", "vs", "superior", "outperform",
               "fewer", "alternative", "comparable", "traditional", "edge"}
# "essential to choose a clinic" advises; "essential to how well they work", "important for the results" state a fact
RECOMMEND = re.compile(r"\b(should|must|recommend\w*|advis\w*|consult|ensure|(important|essential|crucial|necessary|"
                       r"vital) (to|for|that)(?! note\b)(?! (how|what|whether|the|their|its|this|these|those|hair|"
                       r"results?|success|outcomes?|efficacy|safety)\b)|needs? to)\b", re.I)
# "more studies are needed", "much remains to be learned": an assertion about the evidence, checkable against
# reviews that say so, even where the sentence names no intervention ("this field is still under research")
EVIDENCE_GAP = re.compile(r"\b(more|further|larger|additional|rigorous|well-designed|high-quality|long-term)\b(\s+[\w-]+){0,3}?"
                          r"\s+(studies|trials|research|investigations?|data)\b[^.]{0,40}?\b(are|is) (still |urgently )?"
                          r"(needed|required|necessary|warranted)\b|\bstill under (research|investigation|study)\b|"
                          r"\bmuch (\w+ ){0,2}to be (learned|learnt|known|understood|discovered)\b|"
                          r"\b(require|need)s? (further|more|additional) (investigation|research|study|studies|trials)\b", re.I)
MECHANISM = {"mechanism", "via", "through", "signaling", "signalling", "pathway", "pathways", "communication",
             "messengers", "carriers", "transfer", "transferring", "delivering", "mediate", "mediated"}
COMPARATIVE_PHRASE = re.compile(r"\b(more|less) (effective|natural|invasive|costly|sustainable|affordable)\b|"
                                r"\bfewer (risks|side effects)\b", re.I)
MECHANISM_PHRASE = re.compile(r"\b(work|works|act|acts)? ?by (delivering|transferring|stimulating|carrying|releasing|"
                              r"signal\w*|activating|modulating)\b|\bmodulate\w*\b", re.I)
META_OPENING = re.compile(r"(understanding|exploring|learning|knowing|discovering) (how|why|what|whether|about)\b",
                          re.I)
FORWARD_LOOKING = re.compile(r"\b(will (continue|be|soon)|may soon|the future|in the future)\b", re.I)
EFFECT_NOUNS = {"improvement": "increase", "improvements": "increase", "increase": "increase", "gains": "increase",
                "reduction": "decrease", "decline": "decrease"}
CONTROL_ARM = re.compile(r"\b(compared (with|to)|versus|vs\.?|than) (the )?(placebo|vehicle|controls?|saline|pbs|"
                         r"baseline|untreated|sham|no treatment)\b", re.I)
CANCER_CONCEPTS = {"MESH:D009369", "MESH:D009362"}
NON_SAFETY_ADVERSE = {"MESH:D007249"}  # inflammation: usually a mechanism target in this domain, not a harm
BACKGROUND_VERBS = {"be", "derive", "secrete", "release", "contain", "involve", "range", "play", "consist",
                    "compose", "affect", "define", "know", "refer", "characterize", "occur", "isolate"}
NO_EFFECT = re.compile(r"\b(no (significant )?(effect|difference|change|improvement|benefit)|did not|does not|do not|"
                       r"failed to|not (significantly )?(improve|increase|change|affect|differ))\b", re.I)
# "increased interest", "growing demand": the market, not an effect of the treatment
NOT_AN_EFFECT = {"interest", "demand", "popularity", "attention", "awareness", "curiosity", "adoption"}
# "a Wnt pathway inhibitor reduced the effects of DPC-Exos": a blocking experiment that undoes the vesicles' effect,
# not an effect of theirs that goes down
BLOCKED_EFFECT = re.compile(r"\b(inhibitors?|antagonists?|blockers?|blockade|knock-?down|knocking down|silencing|"
                            r"neutrali[sz]ing antibod(y|ies)|si-?RNAs?)\b[^.;]{0,60}?\b(?P<verb>reduced|reduces|abolished|"
                            r"blocked|attenuated|reversed|abrogated|diminished|suppressed|inhibited|prevented|eliminated|"
                            r"weakened|decreased)\s+(the\s+|these\s+|their\s+|its\s+)?([\w-]+\s+)?(effects?|actions?|"
                            r"abilit(y|ies)|capacit(y|ies)|benefits?)\b", re.I)
CLAIM_TYPES = ("efficacy", "safety", "mechanism", "evidence", "comparative", "recommendation", "background")

INTERVENTION_LABELS = ("VESICLE", "TREATMENT")
# abstracts state findings in results and conclusions; None: no role known (no sentence-role model)
CLAIM_ROLES = ("RESULTS", "CONCLUSIONS", None)
OUTCOME_PRIORITY = {"HAIR_OUTCOME": 0, "DISEASE": 1, "ADVERSE_EVENT": 1, "PROCESS": 2, "GROWTH_FACTOR": 3,
                    "CELL_TYPE": 4, "ANATOMY": 5}


@dataclass(frozen=True)
class ClaimFacts:
    claim_type: str
    polarity: str
    certainty: str
    intervention: str | None
    outcome: str | None
    direction: str
    cues: tuple[str, ...]


def _lemma(word: str) -> str:
    """A small suffix-stripping lemmatiser for verb cues (promotes/promoted/promoting → promote)."""
    w = word.lower()
    for verb in (INCREASE | DECREASE | CAUSE | BACKGROUND_VERBS):
        if w == verb or (w.startswith(verb[:-1] if verb.endswith("e") else verb) and
                         w[len(verb) - (1 if verb.endswith("e") else 0):] in {"s", "es", "d", "ed", "ing", "ied", "ies"}):
            return verb
    irregular = {"rose": "rise", "risen": "rise", "is": "be", "are": "be", "was": "be", "were": "be",
                 "known": "know", "led": "lead", "regrew": "regrow", "carried": "carry"}
    return irregular.get(w, w)


_WORDS = re.compile(r"[A-Za-z]+(?:'t)?")


# Negation inside these does not negate the claim: "compared to those who do not undergo treatment",
# "patients who have not found success", "little to no downtime", and what is not known ("how exosomes improve hair
# growth is not fully understood" claims the improvement; that its mechanism is unknown is a gap, not a denial), and
# how long or how often ("side effects are mild and don't last long", "reactions don't happen often": they are short
# and rare, which is what is claimed).
OUTSIDE_SCOPE = re.compile(r"\b(who|whom|whose)\b[^,;:.]*|\blittle (to|or) no\b|"
                           r"\bnot (yet |fully |well |completely |entirely |clearly )?(understood|known|clear)\b|"
                           r"\b(do|does|did) ?n[o']t (last|persist|linger|stay) (long|for long)\b|"
                           r"\b(do|does) ?n[o']t (happen|occur|arise) (often|frequently|much)\b", re.I)
# "without" denies the effect only where the effect follows it ("without any improvement"); "a treatment without
# surgery" or "without downtime" denies nothing the claim asserts
WITHOUT_EFFECT = re.compile(r"\bwithout\s+(?:(?:any|a|an|significant|much|noticeable|clear|visible|measurable|"
                            r"real|lasting)\s+)*(?:effects?|benefits?|changes?|improvements?|improving|results?|"
                            r"success|response|gains?|differences?|regrowth|growth)\b", re.I)


DIRECTION_OBJECT_CHARS = 40  # how far after a direction word its object may start


def _outside_negation_scope(text: str, spans: Sequence[tuple[int, int]] = ()) -> str:
    """``text`` with the spans whose negation does not negate the claim blanked out (same length):
    the cue phrases above and the given (start, end) spans."""
    blanked = OUTSIDE_SCOPE.sub(lambda m: " " * len(m.group()), text)
    for start, end in spans:
        blanked = blanked[:start] + " " * (end - start) + blanked[end:]
    return blanked


ANAPHOR = re.compile(r"^(they|these|this|it|such|those)\b", re.I)
# the pronoun may also stand after a run-in heading ("Angiogenesis: they trigger ...") or be the agent or container of
# a passive ("the growth of new vessels is triggered by them", "held inside them is a blend of ..."); "they" and
# "them" only, since there "it" is as often the condition or no referent at all ("caused by it", "Conclusions: it is
# concluded") and "these" a determiner ("Conclusions: these findings", "in these mice")
REFERS_BACK = re.compile(r"^[^.:;]{0,40}[:;]\s*they\b|\b(by|inside|within|from|in) them\b", re.I)


def refers_back(text: str) -> bool:
    """Whether a sentence speaks of something an earlier one named through a pronoun: "They may promote ...",
    "Angiogenesis: they ...", "... is triggered by them"."""
    stripped = text.strip()
    return bool(ANAPHOR.match(stripped) or REFERS_BACK.search(stripped))


def _concepts(mentions: Sequence[Mention]) -> tuple[str | None, list[Mention], str | None]:
    """The intervention a sentence is about, the mentions that could be its outcome (in order) and the likeliest
    of them."""
    ordered = sorted(mentions, key=lambda m: m.start_char)
    # exosomes first: "PRP exosomes" and "exosome therapy versus PRP" are both about exosomes
    intervention = next((m.concept_id for m in ordered if m.label == "VESICLE" or m.concept_id == "EXO:exosome_therapy"),
                        None) or next((m.concept_id for m in ordered if m.label in INTERVENTION_LABELS), None)
    if intervention is None:
        intervention = next((m.concept_id for m in ordered if m.label == "CELL_TYPE"), None)
    candidates = [m for m in ordered if m.concept_id != intervention and m.label in OUTCOME_PRIORITY]
    outcome = min(candidates, key=lambda m: (OUTCOME_PRIORITY[m.label], m.start_char)).concept_id if candidates else None
    return intervention, candidates, outcome


def analyse_sentence(text: str, mentions: list[Mention], antecedent: Mention | None = None,
                     offset: int = 0, relative_clauses: Sequence[tuple[int, int]] = ()) -> ClaimFacts | None:
    """Decide whether ``text`` asserts something checkable; None when it does not.

    ``antecedent`` is the intervention of an earlier sentence, used when this one refers back to it with a
    pronoun (:func:`refers_back`: "They may promote wound healing") and names no intervention itself.
    ``offset`` is where ``text`` starts in the document the mentions' offsets refer to. ``relative_clauses`` are
    (start, end) character spans in ``text`` of relative clauses found by a dependency parser
    ("treatments that do not require surgery"): a negation inside one does not negate the claim,
    unless the clause holds the claim's direction word.
    """
    stripped = text.strip()
    evidence_gap = EVIDENCE_GAP.search(stripped)
    if antecedent is not None and (refers_back(stripped) or evidence_gap) \
            and not any(m.label in INTERVENTION_LABELS for m in mentions):
        mentions = [Mention(-1, antecedent.label, antecedent.concept_id)] + list(mentions)
    if not mentions or len(stripped) < 15 or stripped.endswith("?") or not re.search(r"[.!;:)]\s*$", stripped):
        return None  # headings, questions, fragments
    matches = list(_WORDS.finditer(stripped))
    words = [("n't" if m.group().lower().endswith("n't") else m.group().lower()) for m in matches]
    lemmas = [_lemma(w) for w in words]
    wordset, lemmaset = set(words), set(lemmas)

    if FORWARD_LOOKING.search(stripped) or META_OPENING.match(stripped):
        return None  # predictions about the field, talk about the article itself: not checkable
    lemmas = [EFFECT_NOUNS.get(w, lem) for w, lem in zip(words, lemmas)]
    direction_positions = [i for i, lem in enumerate(lemmas) if (lem in INCREASE or lem in DECREASE)
                           and not (i + 1 < len(words) and words[i + 1] in NOT_AN_EFFECT)]
    first_direction = direction_positions[0] if direction_positions else None
    blocked = BLOCKED_EFFECT.search(stripped) if first_direction is not None else None
    if blocked and blocked.start("verb") <= matches[first_direction].start() < blocked.end("verb"):
        first_direction = None
    cue_at = matches[first_direction].start() if first_direction is not None else -1
    main_clause = _outside_negation_scope(
        stripped, [(start, end) for start, end in relative_clauses if not start <= cue_at < end])
    in_scope = [main_clause[m.start()] != " " for m in matches]
    negation_hits = [i for i, w in enumerate(words) if w in NEGATION and in_scope[i]
                     and not (w == "not" and i + 1 < len(words) and words[i + 1] in {"only", "just"})]
    if "without" in wordset:
        denied_at = {m.start() for m in WITHOUT_EFFECT.finditer(stripped)}
        negation_hits += [i for i, w in enumerate(words) if w == "without" and matches[i].start() in denied_at
                          and (first_direction is None or i < first_direction)]
    no_effect = bool(NO_EFFECT.search(main_clause))
    negated = bool(negation_hits) or no_effect
    hedged = bool(wordset & HEDGE) or "more research" in stripped.lower()

    if first_direction is not None:
        verb = lemmas[first_direction]
        direction = "increase" if verb in INCREASE else "decrease"
        if no_effect or (negation_hits and min(negation_hits) < first_direction):
            direction = "no-effect"
    elif no_effect:
        direction = "no-effect"
    else:
        direction = "none"

    labels = {m.label for m in mentions}
    cues: list[str] = []

    def hit(vocabulary: set[str], name: str) -> bool:
        found = sorted(wordset & vocabulary)
        if found:
            cues.extend(f"{name}:{w}" for w in found)
        return bool(found)

    recommendation = RECOMMEND.search(stripped)
    if recommendation:
        cues.append(f"recommend:{recommendation.group(0).lower()}")
    is_recommendation = bool(recommendation) and not wordset & {"studies", "study", "trials"} and not evidence_gap
    harms = {m.label for m in mentions if m.concept_id not in NON_SAFETY_ADVERSE}
    mentions_cancer = any(m.concept_id in CANCER_CONCEPTS for m in mentions)
    is_safety = hit(SAFETY, "safety") or "ADVERSE_EVENT" in harms and direction != "decrease" or (
        mentions_cancer and bool(lemmaset & (CAUSE | INCREASE) or direction == "no-effect"))
    # "compared with placebo" is a trial's control arm, not a comparison with another treatment
    is_comparative = (hit(COMPARATIVE, "comparative") or bool(COMPARATIVE_PHRASE.search(stripped))) \
        and not CONTROL_ARM.search(stripped)
    is_evidence = hit(EVIDENCE, "evidence")
    has_hair_outcome = bool(labels & {"HAIR_OUTCOME", "DISEASE"}) or "efficacy" in wordset or "effective" in wordset
    mechanism_phrase = MECHANISM_PHRASE.search(stripped)
    is_mechanism = hit(MECHANISM, "mechanism") or bool(mechanism_phrase) or bool(labels & {"PROCESS", "GROWTH_FACTOR", "CELL_TYPE"})
    is_background = bool(lemmaset & BACKGROUND_VERBS) and len(mentions) >= 2
    has_intervention = bool(labels & {"VESICLE", "TREATMENT", "CELL_TYPE"})

    if not has_intervention and not is_safety:
        return None  # nothing is claimed about an intervention
    evidence_nouns = wordset & {"studies", "study", "trials", "trial", "evidence", "data", "research"}
    if evidence_gap:
        claim_type = "evidence"  # what is not yet known: "larger trials are needed", "much remains to be learned"
        cues.append(f"evidence-gap:{evidence_gap.group(0).lower()}")
    elif is_recommendation and direction == "none":
        claim_type = "recommendation"
    elif is_evidence and evidence_nouns and (negated or is_safety):
        # what studies show (or lack) about safety is an evidence claim: "no rigorous human studies
        # support the safety ...", "studies indicate that it is well tolerated"
        claim_type = "evidence"
    elif is_safety:
        claim_type = "safety"
    elif is_comparative and (direction != "none" or "effective" in wordset or COMPARATIVE_PHRASE.search(stripped)
                             or "recovery" in wordset or "downtime" in wordset):
        claim_type = "comparative"
    elif is_evidence and (direction != "none" or negated or has_hair_outcome):
        claim_type = "evidence"
    elif (mechanism_phrase or ("contain" in lemmaset and "GROWTH_FACTOR" in labels)) and direction != "none":
        claim_type = "mechanism"  # "exosomes contain growth factors such as VEGF that support ...": how, not whether
    elif direction != "none" and has_hair_outcome:
        claim_type = "efficacy"
    elif direction != "none" and is_mechanism or mechanism_phrase:
        claim_type = "mechanism"
    elif is_recommendation:
        claim_type = "recommendation"
    elif is_background and "VESICLE" in labels:
        claim_type = "background"
    else:
        return None

    intervention, candidates, outcome = _concepts(mentions)
    if first_direction is not None:
        # the outcome the direction word acts on: "combat hair thinning", "promote hair growth"
        cue_end = offset + matches[first_direction].end()
        governed = [m for m in candidates if 0 <= m.start_char - cue_end <= DIRECTION_OBJECT_CHARS]
        if governed:
            outcome = governed[0].concept_id
    if direction_positions:
        cues.append(f"direction:{words[first_direction]}")
    cues.extend(f"negation:{words[i]}" for i in negation_hits[:3])
    cues.extend(f"hedge:{w}" for w in sorted(wordset & HEDGE))
    return ClaimFacts(
        claim_type=claim_type,
        # "more studies are needed" says the evidence is not there: a negated evidence claim
        polarity="negated" if negated or evidence_gap else "affirmed",
        certainty="hedged" if hedged else "asserted",
        intervention=intervention,
        outcome=outcome,
        direction=direction,
        cues=tuple(cues),
    )


def claim_id(source: Source, doc_id: str, sentence_idx: int, sentence: str) -> str:
    digest = hashlib.sha1(f"{source}\x1f{doc_id}\x1f{sentence_idx}\x1f{sentence}".encode()).hexdigest()
    return digest[:20]


def extract_claim(source: Source, doc_id: str, sentence_idx: int, sentence: str,
                  mentions: list[Mention], antecedent: Mention | None = None, offset: int = 0,
                  relative_clauses: Sequence[tuple[int, int]] = ()) -> Claim | None:
    facts = analyse_sentence(sentence, mentions, antecedent, offset, relative_clauses)
    if facts is None:
        return None
    return Claim(
        claim_id=claim_id(source, doc_id, sentence_idx, sentence),
        source=source,
        doc_id=doc_id,
        sentence_idx=sentence_idx,
        sentence=sentence,
        claim_type=facts.claim_type,
        polarity=facts.polarity,
        certainty=facts.certainty,
        intervention=facts.intervention,
        outcome=facts.outcome,
        direction=facts.direction,
        cues=facts.cues,
    )


# the learned detector's kinds as claim types (regulatory and time-course claims are judged as statements about the
# field: pipeline/compare/statements.py)
DETECTED_TYPES = {"efficacy": "efficacy", "safety": "safety", "mechanism": "mechanism", "evidence_gap": "evidence",
                  "comparison": "comparative", "background": "background", "regulatory": "regulatory",
                  "time_course": "time_course"}


def detected_claim(source: Source, doc_id: str, sentence_idx: int, sentence: str, mentions: list[Mention],
                   detection: Detection, antecedent: Mention | None = None) -> Claim:
    """A claim the rules did not find but the learned detector did: its type from the detector, its concepts
    chosen as the rules choose them (a sentence that refers back, :func:`refers_back`, takes ``antecedent``,
    the intervention named last), its polarity, certainty and direction read from the words alone."""
    words = [w.lower() for w in _WORDS.findall(sentence)]
    lemmas = [_lemma(w) for w in words]
    direction = next(("increase" if lem in INCREASE else "decrease" for lem in lemmas
                      if lem in INCREASE or lem in DECREASE), "none")
    intervention, _, outcome = _concepts(mentions)
    if intervention is None and antecedent is not None and refers_back(sentence):
        intervention = antecedent.concept_id
    return Claim(claim_id(source, doc_id, sentence_idx, sentence), source, doc_id, sentence_idx, sentence,
                 DETECTED_TYPES[detection.kind], "negated" if set(words) & NEGATION else "affirmed",
                 "hedged" if set(words) & HEDGE else "asserted", intervention, outcome, direction,
                 (f"detector:{detection.kind}:{detection.p_checkable:.2f}",))


def doc_claims(doc: ParsedDoc, detections: Sequence[Detection] | None = None) -> tuple[Claim, ...]:
    """The claims of one analysed document: every article sentence, and the result and conclusion sentences
    of an abstract (not its title), read in order so that "they" can take the intervention named last. With
    ``detections`` (one per sentence, by the learned detector), an article sentence the rules leave out that the
    detector finds checkable is a claim too, and one the detector finds far from checkable is no claim although the
    rules took it for one."""
    claims = []
    antecedent: Mention | None = None
    for idx, (sentence, parse) in enumerate(zip(doc.sentences, doc.parses)):
        mentions = list(parse.mentions)
        if doc.source == "article" or (sentence.section != "TITLE" and sentence.role in CLAIM_ROLES):
            claim = extract_claim(doc.source, doc.doc_id, sentence.sentence_idx, sentence.text, mentions, antecedent,
                                  sentence.start_char, parse.relative_clauses)
            if claim is not None and doc.source == "article" and detections and detections[idx].vetoes_rules:
                claim = None
            elif claim is None and doc.source == "article" and detections and detections[idx].checkable:
                claim = detected_claim(doc.source, doc.doc_id, sentence.sentence_idx, sentence.text, mentions,
                                       detections[idx], antecedent)
            if claim is not None:
                claims.append(claim)
        interventions = [m for m in mentions if m.label in INTERVENTION_LABELS]
        if interventions:
            antecedent = interventions[0]
    return tuple(claims)


def with_claims(doc: ParsedDoc, detections: Sequence[Detection] | None = None) -> AnalysedDoc:
    """The document as the store takes it: its sentences, entities and claims."""
    return AnalysedDoc(doc.source, doc.doc_id, doc.sentences, doc.entities, doc_claims(doc, detections))
