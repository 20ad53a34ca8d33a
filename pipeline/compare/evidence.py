"""Link each article claim to the literature claims about the same thing, with a stance.

Retrieval is by concept, not by words: a literature claim is a candidate when its intervention is the
article claim's (exosome concepts fold together: exosomes, extracellular vesicles, "exosome therapy")
and its outcome is the same or related (every hair outcome and hair-loss disease is one outcome,
seen from opposite sides: "reduces hair loss" and "promotes hair growth" say the same thing). Concept
ids already fold synonyms and expanded abbreviations (the NLP stage links "EVs" and "extracellular
vesicles" to one id).

The stance follows from the facts both claims carry (polarity, certainty, direction, type) and from the
study behind the literature claim:

- effect claims compare the *benefit* each claim asserts: direction × the outcome's valence (more hair
  growth is good, more hair loss is bad); same benefit supports, opposite or no effect contradicts;
- claims about what human studies show ("clinical studies have shown ...", "no rigorous human studies")
  are only addressed by human studies: a mouse study neither supports nor contradicts them;
- safety claims ("well tolerated", "no side effects") are contradicted by reports of adverse events and
  supported by records that looked for harm and found none;
- a hedged literature claim supports at half strength.

Where the facts do not decide (a literature claim with no direction), the text stance classifier
(:mod:`pipeline.compare.stance`) is asked, and only a confident answer counts.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Literal, Sequence

from pipeline.compare import domain
from pipeline.records import Claim

Stance = Literal["supports", "contradicts", "unrelated"]

# domain knowledge from config/lexicon/evidence.toml (pipeline/compare/domain.py), not written here
EXOSOME_FAMILY = domain.exosome_family()
HAIR_OUTCOMES = domain.related_hair_outcomes()
# outcomes where "more" is bad: an increase in them is a harm, a decrease a benefit
HARMFUL_OUTCOMES = domain.load().harmful_outcomes
HUMAN_DESIGNS = domain.load().human_designs
PRECLINICAL_DESIGNS = domain.load().preclinical_designs
HUMAN_EVIDENCE = re.compile(r"\b(clinical(ly)?|human|humans|patients?|trials?|participants|people|volunteers|men|women|"
                            r"dermatologists?|real[- ]world)\b", re.I)
SAFE_WORDS = re.compile(r"\b(safe|safely|safety profile|well[- ]tolerated|tolerated|no (serious |significant |major )?"
                        r"(adverse|side)|without (any )?(serious |significant )?(adverse|side)|minimal (risks?|side)|"
                        r"low risk|non-?toxic|biocompatib\w*|no (complications|toxicity))\b", re.I)
HARM_WORDS = re.compile(r"\b(adverse (events?|reactions?|effects?)|side effects?|complications?|risks?|dangers?|toxicity|"
                        r"granulom\w*|infections?|allergic|hypersensitivity|contaminat\w*|unsafe|harm\w*|dangerous|"
                        r"reactions?|nodules?|erythema|swelling|edema|necrosis)\b", re.I)
LOWER_RISK = re.compile(r"\b(fewer|lower|less|reduced|minimal|minimi[sz]es?|little|low) (\w+ ){0,2}(risks?|side effects?|"
                        r"complications|adverse)\b", re.I)
UNCERTAIN = re.compile(r"\b(unclear|unknown|uncertain|not (yet )?(fully )?(known|established|confirmed|understood)|"
                       r"cannot be (fully )?confirmed)\b", re.I)
DOUBTED_EVIDENCE = re.compile(r"\b(limited|lack(ing|s)?|insufficient|scarce|few|sparse|no|not enough|absence of)\b"
                              r"(\s+[\w-]+){0,4}?\s+(data|studies|study|evidence|trials?|research)\b|"
                              r"\b(evidence|data|studies|trials)\b(\s+[\w-]+){0,6}?\s+(is|are|remains?) "
                              r"(still )?(lacking|limited|insufficient|scarce|needed)\b", re.I)
# a study's null result ("a 2021 trial found no benefit over placebo"): an effect claim of no effect, not a claim
# that evidence is missing
NULL_RESULT = re.compile(r"\b(found|finds?|showed|shows?|reported|reports?|observed|saw|demonstrated)\b(\s+[\w-]+){0,2}?"
                         r"\s+(no|little|not any)\s+(significant\s+|meaningful\s+|measurable\s+|clear\s+|real\s+)?"
                         r"(benefits?|effects?|differences?|improvements?|changes?|gains?|advantages?)\b", re.I)
LONG_TERM = re.compile(r"\blong[- ]term\b", re.I)
RIGOROUS = re.compile(r"\b(rigorous|large|randomi[sz]ed|controlled|well-designed|high-quality|definitive)\b", re.I)
NOT_SAFE = re.compile(r"\b(not|never|no longer) (be )?(safe|well[- ]tolerated|tolerated)\b|\bunsafe\b", re.I)
# calibrated probability the stance model (docs/stance.md) must give before its reading decides a link the facts
# leave open. On the reviewer's dev labels of article 001: 0.85 gives 15/18 right and no over-claim, 0.65 17/18
# with one; on the second labeller's labels 0.65 doubled the over-claims (5 -> 10), so over-claims decide:
# docs/evaluation.md
CLAIM_TEXT_CLASSIFIER_MIN = 0.85


@dataclass(frozen=True)
class LiteratureClaim:
    """A claim from an abstract's results or conclusions, with the record it comes from."""

    claim: Claim
    pmid: str
    design: str
    evidence_level: int
    population: str | None
    journal: str
    pub_year: int | None = None
    is_retracted: bool = False


@dataclass(frozen=True)
class EvidenceLink:
    article_claim_id: str
    literature_claim_id: str
    pmid: str
    stance: Stance
    score: float
    evidence_level: int
    design: str
    reason: str
    method: Literal["facts", "text"]
    text_stance: str | None = None  # what the text classifier reads, for every pair (None: not run)
    text_probability: float | None = None
    similarity: float | None = None  # cosine of the two sentences' embeddings (None: no embeddings)
    text_probabilities: tuple[float, float, float] | None = None  # supports, contradicts, unrelated


# (claim, evidence) pairs → (label, probability) or (label, probability, (p_supports, p_contradicts, p_unrelated))
TextStance = Callable[[Sequence[tuple[str, str]]], list[tuple]]


def read_once(read_text: TextStance) -> TextStance:
    """``read_text`` that reads each distinct (claim, evidence) pair of sentences once and gives its first reading
    again after that. One sentence often yields several claims, on both sides, so a comparison meets the same pair
    of sentences many times (on the 10k-record benchmark, 3,684 pairs held 355 distinct ones); the stance model is
    the costly part of a comparison, and a pair read twice could differ in its last digits with its batch-mates.
    The readings live as long as the returned function."""
    readings: dict[tuple[str, str], tuple] = {}

    def read(pairs: Sequence[tuple[str, str]]) -> list[tuple]:
        new = list(dict.fromkeys(pair for pair in pairs if pair not in readings))
        if new:
            readings.update(zip(new, read_text(new)))
        return [readings[pair] for pair in pairs]

    return read


@dataclass(frozen=True)
class CandidatePolicy:
    """At most ``max_candidates`` literature claims per assertion, the most similar first; a literature claim
    that shares no concept with the assertion is a candidate from ``min_similarity`` up."""

    max_candidates: int = 30
    min_similarity: float = 0.55


@dataclass(frozen=True)
class Similarities:
    """Cosine similarities of article claims to literature claims, from stored sentence embeddings."""

    article_ids: dict[str, int]
    article_vectors: "object"  # (n_article, d) float32 array
    literature_ids: dict[str, int]
    literature_vectors: "object"  # (n_literature, d) float32 array

    def pair(self, article_claim_id: str, literature_claim_id: str) -> float | None:
        """Cosine of one article claim and one literature claim; None when either has no vector."""
        a, b = self.article_ids.get(article_claim_id), self.literature_ids.get(literature_claim_id)
        if a is None or b is None:
            return None
        return float(self.literature_vectors[b] @ self.article_vectors[a])

    def aligned(self, literature: Sequence[LiteratureClaim]) -> "AlignedSimilarities":
        """The literature vectors in the order of ``literature`` (once per comparison, not per assertion)."""
        import numpy as np

        rows = np.array([self.literature_ids.get(lit.claim.claim_id, -1) for lit in literature], dtype=np.int64)
        matrix = np.zeros((len(literature), self.literature_vectors.shape[1]), dtype=np.float32)
        matrix[rows >= 0] = self.literature_vectors[rows[rows >= 0]]
        return AlignedSimilarities(self, matrix, rows < 0)


@dataclass(frozen=True)
class AlignedSimilarities:
    similarities: Similarities
    matrix: "object"  # (n_literature, d), zero rows where a literature claim has no vector
    missing: "object"  # bool per literature claim

    def of(self, article_claim_id: str):
        """Cosine with each literature claim (NaN where it has no vector); None when the article claim has none."""
        row = self.similarities.article_ids.get(article_claim_id)
        if row is None:
            return None
        sims = self.matrix @ self.similarities.article_vectors[row]
        sims[self.missing] = float("nan")
        return sims


# -- what a claim asserts ----------------------------------------------------------------------

def benefit(claim: Claim) -> int | None:
    """+1 when the claim says the intervention helps its outcome, -1 when it harms it, 0 for "no
    effect", None when it asserts no direction."""
    if claim.claim_type == "evidence" and claim.polarity == "negated" and not reports_null_result(claim):
        return None  # "no rigorous studies show ...": absence of evidence, not evidence of no effect
    if claim.direction == "no-effect":
        return 0
    if claim.direction not in ("increase", "decrease"):
        return None
    sign = 1 if claim.direction == "increase" else -1
    if claim.outcome in HARMFUL_OUTCOMES:
        if sign > 0:
            # "increased interest in solutions for hair loss": an increase word near a hair-loss mention
            # is almost never a claim that the treatment causes hair loss; do not read one into it
            return None
        sign = -sign
    if claim.polarity == "negated":
        return 0  # "does not promote hair growth": no effect claimed
    return sign


# asked for every candidate pair; claims are frozen. Unbounded for the reason given in stance.py; emptied by
# iter_claim_links when a comparison ends.
@functools.lru_cache(maxsize=None)
def safety_view(claim: Claim) -> Literal["safe", "harm"] | None:
    """Whether a claim says the intervention is safe or that it causes harm (None: neither)."""
    text = claim.sentence
    if UNCERTAIN.search(text) or DOUBTED_EVIDENCE.search(text) and claim.claim_type == "evidence":
        return None  # "long-term risks are unclear": neither safe nor harmful
    if NOT_SAFE.search(text):
        return "harm"
    if SAFE_WORDS.search(text) or LOWER_RISK.search(text):
        return "safe"
    if claim.claim_type != "background" and HARM_WORDS.search(text):
        return "safe" if claim.polarity == "negated" else "harm"
    return None


@functools.lru_cache(maxsize=None)  # per pair, on the same article claim each time; emptied with safety_view
def doubts_evidence(claim: Claim) -> bool:
    """Claims that evidence is missing or thin: "no rigorous human studies", "limited long-term data"; not a study's
    null result ("the trial found no benefit")."""
    return claim.claim_type == "evidence" and not reports_null_result(claim) \
        and (claim.polarity == "negated" or bool(DOUBTED_EVIDENCE.search(claim.sentence)))


def reports_null_result(claim: Claim) -> bool:
    """Whether a claim reports that a study found no effect (:data:`NULL_RESULT`)."""
    return claim.direction == "no-effect" and bool(NULL_RESULT.search(claim.sentence))


@functools.lru_cache(maxsize=None)
def requires_human_evidence(claim: Claim) -> bool:
    """Claims about what studies in people show; animal and cell studies do not bear on them."""
    return claim.claim_type in ("evidence", "comparative") and bool(HUMAN_EVIDENCE.search(claim.sentence))


def same_intervention(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return False
    return a == b or (a in EXOSOME_FAMILY and b in EXOSOME_FAMILY)


def related_outcome(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return False
    return a == b or (a in HAIR_OUTCOMES and b in HAIR_OUTCOMES)


# -- stance -------------------------------------------------------------------------------------

NO_DIRECTION = "no direction to compare"


@dataclass(frozen=True)
class FactStance:
    stance: Stance | None  # None: the facts do not decide
    reason: str


def _evidence_existence_stance(article: Claim, lit: LiteratureClaim) -> FactStance:
    """ "No (rigorous) human studies ...", "limited long-term data" against one literature record:
    supported by a review that also finds the evidence lacking, contradicted by a study of the kind
    the claim says is missing."""
    design = lit.design.replace("_", " ")
    if doubts_evidence(lit.claim):
        return FactStance("supports", f"the {design} also finds the evidence lacking")
    if LONG_TERM.search(article.sentence):
        return FactStance("unrelated", "the claim is about long-term evidence; no record reports long-term follow-up")
    if lit.design not in HUMAN_DESIGNS:
        return FactStance("unrelated", f"{design} evidence does not bear on a claim about human studies")
    if RIGOROUS.search(article.sentence) and lit.design not in ("rct", "systematic_review"):
        return FactStance("unrelated", f"a {design} is not the rigorous study the claim says is missing")
    return FactStance("contradicts", f"a human study of that kind exists ({design})")


def fact_stance(article: Claim, lit: LiteratureClaim) -> FactStance:
    """The stance the structured facts of both claims give, with a reason an analyst can read."""
    claim = lit.claim
    human_needed = requires_human_evidence(article)
    if doubts_evidence(article):
        return _evidence_existence_stance(article, lit)
    if human_needed and doubts_evidence(claim) and lit.design in ("systematic_review", "narrative_review") \
            and not reports_null_result(article):
        return FactStance("contradicts", f"the {lit.design.replace('_', ' ')} finds human evidence lacking")
    if human_needed and lit.design not in HUMAN_DESIGNS:
        return FactStance("unrelated", f"{lit.design.replace('_', ' ')} evidence cannot support a claim about "
                                       "human or clinical studies")
    article_safety, lit_safety = safety_view(article), safety_view(claim)
    if article_safety and lit_safety:
        if article_safety == lit_safety:
            return FactStance("supports", f"both say {'it is safe' if lit_safety == 'safe' else 'it causes harm'}")
        return FactStance("contradicts", "the study reports adverse events" if lit_safety == "harm"
                          else "the study found it safe")
    if article_safety:
        return FactStance(None, "the literature claim says nothing about safety")
    article_benefit, lit_benefit = benefit(article), benefit(claim)
    if article_benefit is None and article.claim_type == "evidence" and article.polarity == "affirmed" \
            and (article.outcome is None or article.outcome in HAIR_OUTCOMES):
        article_benefit = 1  # "studies support exosomes for hair loss": a benefit, direction unstated
    if article_benefit is None or lit_benefit is None:
        return FactStance(None, NO_DIRECTION)
    if article_benefit == lit_benefit:
        if lit_benefit == 0:
            return FactStance("supports", "both report no effect")
        return FactStance("supports", "same direction of effect")
    if lit_benefit == 0:
        return FactStance("contradicts", "the study found no effect")
    if article_benefit == 0:
        return FactStance("contradicts", "the study found an effect")
    return FactStance("contradicts", "opposite direction of effect")


def _strength(article: Claim, lit: LiteratureClaim, stance: Stance) -> float:
    score = 1.0 if (article.intervention == lit.claim.intervention and article.outcome == lit.claim.outcome) else 0.8
    if stance == "supports" and lit.claim.certainty == "hedged":
        score *= 0.5
    return round(score, 3)


def candidates(article: Claim, literature: Iterable[LiteratureClaim]) -> list[LiteratureClaim]:
    """Literature claims about the same intervention and a related outcome (any hair outcome when the
    article claim is about human evidence in general), retracted records left out."""
    found = []
    for lit in literature:
        if lit.is_retracted or not same_intervention(article.intervention, lit.claim.intervention):
            continue
        if article.outcome is None or requires_human_evidence(article) and article.claim_type == "evidence":
            outcome_ok = article.outcome is None or lit.claim.outcome is None or \
                related_outcome(article.outcome, lit.claim.outcome) or lit.claim.outcome in HAIR_OUTCOMES
        else:
            outcome_ok = related_outcome(article.outcome, lit.claim.outcome)
        if outcome_ok or (safety_view(article) and safety_view(lit.claim)):
            found.append(lit)
    return found


# capitalised words after "Journal of": the name of a cited journal ("the Journal of Cosmetic Dermatology")
_JOURNAL_NAME = re.compile(r"((?:International |American |British |European )?(?:Journal|Annals|Archives) of (?:the )?"
                           r"[A-Z][\w-]*(?: (?:and |of |& )?[A-Z][\w-]*){0,4})")


@functools.lru_cache(maxsize=65536)  # journal titles, folded again for every assertion otherwise
def _fold(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.lower()).strip()


def cited_journal(sentence: str, known_journals: Iterable[str] = ()) -> str | None:
    """The journal an assertion cites ("a study in the Journal of Cosmetic Dermatology showed ..."):
    a stored journal title found in the sentence, else a "Journal of ..." name; None if none."""
    folded = f" {_fold(sentence)} "
    for journal in sorted(known_journals, key=len, reverse=True):
        if len(journal) >= 8 and f" {_fold(journal)} " in folded:
            return journal
    match = _JOURNAL_NAME.search(sentence)
    return match.group(1) if match else None


def link_claim(article: Claim, literature: Iterable[LiteratureClaim],
               text_stance: TextStance | None = None, journals: Iterable[str] | None = None) -> list[EvidenceLink]:
    """Every candidate literature claim with its stance; 'unrelated' links are kept so an analyst
    sees what was considered and why it did not count. An assertion that cites a journal is checked
    against that journal's records only (``journals``: the journal titles to look for, by default
    those of ``literature``)."""
    literature = list(literature)
    pool = candidates(article, literature)
    if journals is None:
        journals = {lit.journal for lit in literature if lit.journal}
    return link_pool(article, _cited_journal_only(article, pool, journals), text_stance)


def _cited_journal_only(article: Claim, pool: list[LiteratureClaim], journals: Iterable[str]) -> list[LiteratureClaim]:
    journal = cited_journal(article.sentence, journals)
    if journal:
        return [lit for lit in pool if _fold(lit.journal) == _fold(journal)]
    return pool


def _reading(reading: tuple) -> tuple[str | None, float | None, tuple[float, float, float] | None]:
    if len(reading) == 3 and reading[2] is not None:
        return reading[0], reading[1], tuple(round(float(p), 4) for p in reading[2])
    return reading[0], reading[1], None


def link_pool(article: Claim, pool: Sequence[LiteratureClaim], text_stance: TextStance | None = None,
              similarities: Sequence[float | None] | None = None,
              by_concept: Sequence[bool] | None = None) -> list[EvidenceLink]:
    """Links for an already chosen pool. ``by_concept[i]`` False marks a semantic neighbour that shares no
    concept with the assertion: the facts of two claims about different things do not compare, so only a
    confident text-stance reading makes it count."""
    facts = []
    for i, lit in enumerate(pool):
        similarity = None if similarities is None or similarities[i] is None else round(float(similarities[i]), 4)
        if by_concept is None or by_concept[i]:
            facts.append((similarity, True, fact_stance(article, lit)))
        else:
            reason = f"{NEIGHBOUR} (cosine {similarity:.2f})" if similarity is not None else NEIGHBOUR
            facts.append((similarity, False, FactStance(None, reason)))
    # the text model reads only the pairs the facts leave open: it is the costly part of a comparison
    readings: list[tuple] = [(None, None)] * len(pool)
    open_pairs = [i for i, (_, _, fs) in enumerate(facts) if fs.stance is None]
    if text_stance is not None and open_pairs:
        for i, reading in zip(open_pairs, text_stance([(article.sentence, pool[i].claim.sentence) for i in open_pairs])):
            readings[i] = reading
    links = []
    for lit, reading, (similarity, concept, fs) in zip(pool, readings, facts):
        text_label, probability, probabilities = _reading(reading)
        method: Literal["facts", "text"] = "facts"
        stance, reason = fs.stance, fs.reason
        if stance is None:
            stance = "unrelated"
            # the text decides only where the facts cannot: both claims about the same outcome but without
            # a direction, or a neighbour found by meaning rather than by concept
            if (fs.reason == NO_DIRECTION or not concept) and text_label in ("supports", "contradicts") \
                    and probability >= CLAIM_TEXT_CLASSIFIER_MIN:
                stance, method = text_label, "text"
                reason = f"{fs.reason}; the text classifier reads it as {text_label} (p={probability:.2f})"
        score = _strength(article, lit, stance) if stance != "unrelated" else 0.0
        if method == "text":
            score = round(score * probability, 3)
        if stance == "supports" and lit.claim.certainty == "hedged":
            reason += " (hedged)"
        links.append(EvidenceLink(article.claim_id, lit.claim.claim_id, lit.pmid, stance, score, lit.evidence_level,
                                  lit.design, reason, method, text_label,
                                  None if probability is None else round(float(probability), 3),
                                  similarity, probabilities))
    return links


NEIGHBOUR = "found by meaning, sharing no concept with the assertion"


def _signature(lit: LiteratureClaim) -> tuple:
    """What ``candidates`` looks at in a literature claim: claims alike in it are candidates together."""
    return (lit.claim.intervention, lit.claim.outcome, safety_view(lit.claim) is not None, lit.is_retracted)


def choose_pool(article: Claim, literature: Sequence[LiteratureClaim], groups: dict[tuple, list[int]],
                journals: Iterable[str], policy: CandidatePolicy, similarities: Sequence[float] | None
                ) -> tuple[list[int], list[bool]]:
    """Indices into ``literature`` of the assertion's candidates, best first, at most
    ``policy.max_candidates``, and whether each shares a concept with it. The concept rules are checked
    once per group of alike literature claims (``groups``), so the cost grows with the groups, not the
    claims; ranking is by similarity, else by strength of design."""
    import numpy as np

    concept = set()
    for members in groups.values():
        if candidates(article, [literature[members[0]]]):
            concept.update(members)
    chosen = set(concept)
    sims = None
    if similarities is not None:
        sims = np.nan_to_num(np.asarray(similarities, dtype=np.float32), nan=-2.0)
        chosen.update(int(i) for i in np.flatnonzero(sims >= policy.min_similarity) if not literature[i].is_retracted)
    cited = cited_journal(article.sentence, journals)
    if cited:
        chosen = {i for i in chosen if _fold(literature[i].journal) == _fold(cited)}
    ordered = sorted(chosen, key=lambda i: (0.0 if sims is None else -float(sims[i]), literature[i].evidence_level, i))
    ordered = ordered[:policy.max_candidates]
    return ordered, [i in concept for i in ordered]


def iter_claim_links(article_claims: Iterable[Claim], literature: Sequence[LiteratureClaim],
                     text_stance: TextStance | None = None, similarities: Similarities | None = None,
                     policy: CandidatePolicy | None = None) -> Iterator[tuple[Claim, list[EvidenceLink]]]:
    """Each article claim with its links, one claim at a time: at most ``policy.max_candidates`` per claim
    (the concept candidates and, with ``similarities``, the semantic neighbours, most similar first), so the
    comparison grows with assertions × K. Without a policy every concept candidate is linked (unbounded)."""
    journals = {lit.journal for lit in literature if lit.journal}  # once, not per article claim
    groups: dict[tuple, list[int]] = {}
    for i, lit in enumerate(literature):
        if lit.claim.intervention or similarities is not None:
            groups.setdefault(_signature(lit), []).append(i)
    unbounded = CandidatePolicy(max_candidates=len(literature) or 1, min_similarity=2.0)
    aligned = similarities.aligned(literature) if similarities is not None else None
    try:
        for article in article_claims:
            if article.intervention is None and similarities is None:
                yield article, []
                continue
            sims = aligned.of(article.claim_id) if aligned is not None else None
            chosen, by_concept = choose_pool(article, literature, groups, journals, policy or unbounded, sims)
            pool = [literature[i] for i in chosen]
            yield article, link_pool(article, pool, text_stance,
                                     None if sims is None else [None if sims[i] != sims[i] else float(sims[i])
                                                                for i in chosen], by_concept)
    finally:
        for cached in (safety_view, doubts_evidence, requires_human_evidence):
            cached.cache_clear()


def link_evidence(article_claims: Iterable[Claim], literature: Sequence[LiteratureClaim],
                  text_stance: TextStance | None = None) -> list[EvidenceLink]:
    """Links for every article claim."""
    return [link for _, links in iter_claim_links(article_claims, literature, text_stance) for link in links]
