"""GRADE-style certainty of the evidence behind a verdict, and how reasons name that evidence.

Certainty starts from the design of the records that decide (RCTs and systematic reviews of randomised
trials *high*; non-randomised human studies, case reports and reviews of the human evidence *low*;
animal, in-vitro and reviews of preclinical work *very low*) and is downgraded one step each for
imprecision (a single study; fewer than ``[certainty] small_n`` participants in all), risk of bias (a
randomised start without a control arm stated, or a sponsor named in the abstract) and indirectness (all
the deciding evidence only indirect). A mixed verdict is at most *low* (inconsistency), *very low* unless
both sides hold human evidence. A claim that evidence is missing, supported by reviews saying so, is
*moderate* when two or more agree, else *low*.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal, Sequence

from pipeline.compare.frames import Frame
from pipeline.compare.domain import Domain, load

Certainty = Literal["high", "moderate", "low", "very low"]
LEVELS: tuple[Certainty, ...] = ("very low", "low", "moderate", "high")
REVIEW_DESIGNS = ("systematic_review", "narrative_review", "other")
DESIGN_ORDER = {"systematic_review": 1, "rct": 2, "non_randomised_clinical": 3, "case_series_or_report": 4,
                "narrative_review": 5, "other": 6, "animal": 7, "in_vitro": 8}


@dataclass(frozen=True)
class Weighed:
    """One record's evidence for or against an assertion: its frame and how directly it speaks."""

    pmid: str
    frame: Frame
    direct: bool
    lacking: bool = False  # counted against the assertion because it calls the human evidence lacking


def is_human(frame: Frame, domain: Domain | None = None) -> bool:
    """Human evidence: a human study, or a review of the human evidence."""
    domain = domain or load()
    if not frame.finding or frame.population in ("animals", "cells"):
        return False  # background in a human study's abstract, or its laboratory arm, is not what it found in people
    if frame.design in domain.human_designs:
        return True
    return frame.design in REVIEW_DESIGNS and frame.population == "people"


def strongest_first(records: Iterable[Weighed]) -> list[Weighed]:
    return sorted(records, key=lambda w: (DESIGN_ORDER.get(w.frame.design or "", 9), not w.direct,
                                          -(w.frame.sample_size or 0), w.pmid))


def grade(records: Sequence[Weighed], evidence_absence: bool = False, domain: Domain | None = None) -> Certainty:
    """The certainty of one side's evidence."""
    domain = domain or load()
    human = [w for w in records if is_human(w.frame, domain)]
    if not human:
        return "very low"
    if evidence_absence:
        return "moderate" if len({w.pmid for w in human}) >= 2 else "low"
    randomised = [w for w in human if w.frame.design == "rct" or w.frame.reviews_randomised]
    level = 3 if randomised else 1
    primary = [w for w in human if w.frame.design not in REVIEW_DESIGNS or w.frame.reviews_randomised]
    participants = sum(w.frame.sample_size or 0 for w in (randomised or primary))
    if len({w.pmid for w in human}) == 1 or participants < domain.small_n:
        level -= 1  # imprecision
    if randomised and (all(w.frame.sponsor for w in randomised) or not any(w.frame.controlled for w in randomised)):
        level -= 1  # risk of bias
    if not any(w.direct for w in human):
        level -= 1  # indirectness
    return LEVELS[max(level, 0)]


def mixed(support: Sequence[Weighed], against: Sequence[Weighed], domain: Domain | None = None) -> Certainty:
    both_human = any(is_human(w.frame, domain) for w in support) and any(is_human(w.frame, domain) for w in against)
    return "low" if both_human else "very low"


# -- naming the evidence in a reason ----------------------------------------------------------------

def _kind(w: Weighed, domain: Domain) -> tuple[str, str]:
    """(singular, plural) of what a record is, as a reason names it."""
    f = w.frame
    if not f.finding:
        return "background statement", "background statements"
    if w.lacking:
        return "review calls the human evidence lacking", "reviews call the human evidence lacking"
    small = f.sample_size is not None and f.sample_size < domain.small_n or f.sample_size is None
    if f.design == "rct":
        return ("small RCT", "small RCTs") if small else ("RCT", "RCTs")
    if f.design == "systematic_review":
        return "systematic review", "systematic reviews"
    if f.design == "non_randomised_clinical":
        adjective = ("small " if small else "") + ("controlled" if f.controlled else "uncontrolled")
        return f"{adjective} human study", f"{adjective} human studies"
    if f.design == "case_series_or_report":
        if f.safety == "harm" or any(o.startswith("adverse_events") for o in f.outcomes):
            return "case report of adverse events", "case reports of adverse events"
        return "case report", "case reports"
    if f.design == "animal":
        return "animal study", "animal studies"
    if f.design == "in_vitro":
        return "in-vitro study", "in-vitro studies"
    if f.population == "people":
        return "review of human evidence", "reviews of human evidence"
    return "review or other record", "reviews or other records"


def describe(records: Sequence[Weighed], max_pmids: int = 3, domain: Domain | None = None) -> str:
    """'2 small uncontrolled human studies (PMID a, b) and 1 animal study (PMID c)', strongest first."""
    domain = domain or load()
    groups: dict[tuple[str, str], list[str]] = {}
    for w in strongest_first(records):
        groups.setdefault(_kind(w, domain), [])
        if w.pmid not in groups[_kind(w, domain)]:
            groups[_kind(w, domain)].append(w.pmid)
    parts = []
    for (singular, plural), pmids in groups.items():
        shown = ", ".join(pmids[:max_pmids]) + (f" and {len(pmids) - max_pmids} more" if len(pmids) > max_pmids else "")
        parts.append(f"{len(pmids)} {singular if len(pmids) == 1 else plural} (PMID {shown})")
    return "; ".join(parts)
