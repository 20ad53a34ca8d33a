"""A verdict per article claim from its evidence links, and the article claims that contradict each other.

Evidence is weighed by study design in three tiers: human studies (systematic reviews, RCTs, other
clinical studies, case reports: evidence levels 1-4), preclinical studies (animal, in vitro: 5-6), and
reviews or other records (7-8). The rules, in order:

1. no supporting or contradicting link: **not addressed**;
2. only supporting links: **supported** when one is a human study, else **supported only by
   preclinical evidence** (animal, in-vitro or review records only);
3. only contradicting links: **contradicted**;
4. both: the side with the stronger tier wins (a human RCT against a mouse study); equal tiers give
   **mixed**.

The nightly comparison decides with :func:`pipeline.compare.graded.decide_claim` instead: per record, through the
claims' frames, by directness, with a certainty and the key PMIDs; it falls back to these tier rules for a claim
without a frame. This module also holds the verdict types the comparison stores and reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal, Sequence

from pipeline.compare.evidence import (
    LONG_TERM, EvidenceLink, benefit, cited_journal, doubts_evidence, related_outcome, requires_human_evidence,
    safety_view, same_intervention,
)
from pipeline.compare.study_design import DESIGN_PHRASES
from pipeline.records import Claim

Verdict = Literal["supported", "supported only by preclinical evidence", "mixed", "contradicted", "not addressed",
                  "not checkable"]
CHECKABLE_TYPES = ("efficacy", "safety", "mechanism", "evidence", "comparative", "background", "regulatory",
                   "time_course")
MAX_PMIDS_IN_REASON = 3
TIER_NAMES = ("human studies", "preclinical studies", "reviews or other records")  # as reasons name them


def tier(evidence_level: int) -> int:
    """The evidence tier of a level: an index into ``TIER_NAMES`` (0 human, 1 preclinical, 2 the rest)."""
    return 0 if evidence_level <= 4 else 1 if evidence_level <= 6 else 2


@dataclass(frozen=True)
class ClaimVerdict:
    claim_id: str
    verdict: Verdict
    best_evidence_level: int | None
    best_design: str | None
    n_supports: int
    n_contradicts: int
    n_unrelated: int
    supporting_pmids: tuple[str, ...]
    contradicting_pmids: tuple[str, ...]
    reason: str
    certainty: str | None = None  # GRADE-style: high, moderate, low, very low (framed verdicts; None otherwise)
    key_pmids: tuple[str, ...] = ()  # the few records that decide, strongest first


def _best(links: Sequence[EvidenceLink]) -> EvidenceLink | None:
    return min(links, key=lambda link: (link.evidence_level, -link.score, link.pmid), default=None)


def _pmids(links: Iterable[EvidenceLink]) -> tuple[str, ...]:
    ordered = sorted(links, key=lambda link: (link.evidence_level, -link.score, link.pmid))
    return tuple(dict.fromkeys(link.pmid for link in ordered))


def cite_pmids(pmids: Sequence[str]) -> str:
    """'PMID a, PMID b, PMID c and 4 more': the first few of ``pmids``, in their order."""
    shown = ", ".join(f"PMID {p}" for p in pmids[:MAX_PMIDS_IN_REASON])
    more = len(pmids) - MAX_PMIDS_IN_REASON
    return shown + (f" and {more} more" if more > 0 else "")


def count_records(pmids: Sequence[str]) -> str:
    """'1 record', '3 records'."""
    return f"{len(pmids)} record{'s' if len(pmids) != 1 else ''}"


def _agree(pmids: Sequence[str], singular: str, plural: str) -> str:
    return singular if len(pmids) == 1 else plural


def decide_verdict(claim: Claim, links: Sequence[EvidenceLink], known_journals: Iterable[str] = ()) -> ClaimVerdict:
    """Apply the rules of this module to one article claim's links."""
    supports = [link for link in links if link.stance == "supports"]
    contradicts = [link for link in links if link.stance == "contradicts"]
    unrelated = [link for link in links if link.stance == "unrelated"]
    support_pmids, contra_pmids = _pmids(supports), _pmids(contradicts)
    best_support, best_contra = _best(supports), _best(contradicts)
    best = _best([link for link in (best_support, best_contra) if link is not None])

    def design(link: EvidenceLink) -> str:
        return DESIGN_PHRASES.get(link.design, link.design)

    if best_support is None and best_contra is None:
        verdict: Verdict = "not addressed"
        journal = cited_journal(claim.sentence, known_journals)
        if journal:
            reason = f"cites {journal}; no record from that journal about this was found"
        elif unrelated:
            unrelated_pmids = _pmids(unrelated)
            reason = (f"{count_records(unrelated_pmids)} on the same topic ({cite_pmids(unrelated_pmids)}) but none "
                      f"bears on it: {unrelated[0].reason}")
        else:
            reason = "no literature claim about the same intervention and outcome"
    elif best_contra is None:
        assert best_support is not None
        verdict = "supported" if tier(best_support.evidence_level) == 0 else "supported only by preclinical evidence"
        reason = (f"supported by {count_records(support_pmids)}, best {design(best_support)} "
                  f"({cite_pmids(support_pmids)})")
        if verdict != "supported":
            reason += "; no human study"
    elif best_support is None:
        verdict = "contradicted"
        reason = (f"contradicted by {count_records(contra_pmids)}, best {design(best_contra)} "
                  f"({cite_pmids(contra_pmids)}): {best_contra.reason}")
    else:
        support_tier, contra_tier = tier(best_support.evidence_level), tier(best_contra.evidence_level)
        if contra_tier < support_tier:
            verdict = "contradicted"
            reason = (f"{design(best_contra)} contradicts it ({cite_pmids(contra_pmids)}: {best_contra.reason}), "
                      f"outweighing {count_records(support_pmids)} of weaker design in support")
        elif support_tier < contra_tier:
            verdict = "supported" if support_tier == 0 else "supported only by preclinical evidence"
            reason = (f"{design(best_support)} supports it ({cite_pmids(support_pmids)}), outweighing "
                      f"{count_records(contra_pmids)} of weaker design against")
        else:
            verdict = "mixed"
            # the tier decides, not the level: a systematic review does not outweigh an RCT of the other side
            reason = (f"{count_records(support_pmids)} {_agree(support_pmids, 'supports', 'support')} it "
                      f"({cite_pmids(support_pmids)}) and {count_records(contra_pmids)} "
                      f"{_agree(contra_pmids, 'contradicts', 'contradict')} it ({cite_pmids(contra_pmids)}); "
                      f"both sides have {TIER_NAMES[support_tier]} (best for: {design(best_support)}, best against: "
                      f"{design(best_contra)})")
    return ClaimVerdict(
        claim_id=claim.claim_id,
        verdict=verdict,
        best_evidence_level=best.evidence_level if best else None,
        best_design=best.design if best else None,
        n_supports=len(supports),
        n_contradicts=len(contradicts),
        n_unrelated=len(unrelated),
        supporting_pmids=support_pmids,
        contradicting_pmids=contra_pmids,
        reason=reason,
    )


def decide_verdicts(article_claims: Iterable[Claim], links: Iterable[EvidenceLink],
                    known_journals: Iterable[str] = ()) -> list[ClaimVerdict]:
    """One verdict per checkable article claim (recommendations are advice, not assertions)."""
    by_claim: dict[str, list[EvidenceLink]] = {}
    for link in links:
        by_claim.setdefault(link.article_claim_id, []).append(link)
    journals = list(known_journals)
    return [decide_verdict(claim, by_claim.get(claim.claim_id, []), journals)
            for claim in article_claims if claim.claim_type in CHECKABLE_TYPES]


# -- articles against each other ----------------------------------------------------------------

@dataclass(frozen=True)
class ArticleConflict:
    claim_id_a: str
    claim_id_b: str
    doc_id_a: str
    doc_id_b: str
    reason: str


def conflict_reason(a: Claim, b: Claim) -> str | None:
    """Why two article claims cannot both be true, or None when they can."""
    if not same_intervention(a.intervention, b.intervention):
        return None
    if a.certainty == "hedged" or b.certainty == "hedged":
        return None  # "may involve risks" does not contradict "is well tolerated"
    doubting = [c for c in (a, b) if doubts_evidence(c) and requires_human_evidence(c)]
    asserting = [c for c in (a, b) if c not in doubting and c.polarity == "affirmed" and requires_human_evidence(c)
                 and (c.claim_type == "evidence" or (benefit(c) or 0) > 0)]
    if len(doubting) == 1 and len(asserting) == 1 and not LONG_TERM.search(doubting[0].sentence):
        return "one says human studies show it, the other that such studies are lacking"
    safety_a, safety_b = safety_view(a), safety_view(b)
    if safety_a and safety_b and safety_a != safety_b:
        return "one says it is safe, the other that it causes harm"
    if related_outcome(a.outcome, b.outcome) or a.outcome is None and b.outcome is None:
        benefit_a, benefit_b = benefit(a), benefit(b)
        if benefit_a is not None and benefit_b is not None and benefit_a != benefit_b:
            return "opposite effects on the same outcome"
    return None


def find_conflicts(article_claims: Sequence[Claim]) -> list[ArticleConflict]:
    """Pairs of claims from different articles that contradict each other."""
    conflicts = []
    claims = sorted(article_claims, key=lambda c: (c.doc_id, c.sentence_idx))
    for i, a in enumerate(claims):
        for b in claims[i + 1:]:
            if a.doc_id == b.doc_id:
                continue
            reason = conflict_reason(a, b)
            if reason:
                conflicts.append(ArticleConflict(a.claim_id, b.claim_id, a.doc_id, b.doc_id, reason))
    return conflicts
