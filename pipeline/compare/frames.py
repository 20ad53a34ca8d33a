"""Assertion and evidence frames: what exactly a claim asserts, and what exactly a study can speak to.

A :class:`Frame` places a claim on the domain of ``config/lexicon/evidence.toml``
(:mod:`pipeline.compare.domain`): whether it is checkable at all, its outcomes on the outcome hierarchy
(the most specific level found, in the order the sentence names them), the population it speaks of, the
intervention family (and source: MSC, adipose, plant ...), the comparator, the time frame and its strength
(asserted or hedged). What it asserts (``asserts``) decides how evidence is weighed: an effect, how an effect
comes about (a mechanism: "by transferring growth factors"), safety, the content of vesicles, or that evidence
is missing ("larger trials are needed"). An evidence frame (a claim of
an abstract) adds what GRADE looks at in its record: design, sample size, control arm, follow-up, sponsor,
and whether it calls the human evidence lacking.

Frames are computed from stored claims, their sentences' concept ids and their records, so changing the
domain file re-frames everything without re-running the NLP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Literal

from pipeline.compare.domain import Domain, Hierarchy, Statement, load
from pipeline.compare.evidence import reports_null_result, requires_human_evidence, safety_view
from pipeline.records import Claim

Population = Literal["people", "animals", "cells", "unstated"]
Asserts = Literal["effect", "mechanism", "safety", "content", "evidence_lacking"]
_NUMBER = re.compile(r"\b(\d{1,3}(?:\.\d)?)\s*[- ]?\s*(days?|weeks?|months?|years?)\b", re.I)
_AGE = re.compile(r"[- ]old\b|\s+of age\b", re.I)
_AGED = re.compile(r"\b(aged?|ages?)\s+(between\s+|from\s+|of\s+)?(\d{1,3}(\.\d)?\s*(to|-|–|and)\s*)?$", re.I)
_DESIGN_POPULATION: dict[str, Population] = {
    "animal": "animals", "in_vitro": "cells", "systematic_review": "people", "rct": "people",
    "non_randomised_clinical": "people", "case_series_or_report": "people"}


@dataclass(frozen=True)
class RecordFacts:
    """What an evidence frame needs from a PubMed record."""

    pmid: str
    design: str
    title: str = ""
    abstract: str = ""
    sample_size: int | None = None


@dataclass(frozen=True)
class Frame:
    claim_id: str
    checkable: bool
    not_checkable_reason: str | None
    asserts: Asserts
    outcomes: tuple[str, ...]  # outcome keys, "hair_growth/density", in the order the sentence names them
    population: Population
    intervention: str | None  # family key, with the source when known: "exosomes/msc", "secretome"
    comparator: str | None  # "placebo", "medications", ...: what the claim compares with
    long_term: bool  # the claim speaks of long-term effects (assertion) or reports long-term follow-up (evidence)
    follow_up_weeks: float | None
    strength: Literal["asserted", "hedged"]
    safety: Literal["safe", "harm"] | None = None  # what a safety claim says
    frequent_harm: bool = False  # a harm claimed to be common ("side effects are frequent"), not only to occur
    claims_studies: bool = False  # "studies have shown", "patients report": what human evidence shows
    single_study: bool = False  # reports one study's result ("one pivotal study ... demonstrated")
    direction: str = "none"  # of the effect claimed: increase, decrease, no-effect (none: no effect asserted)
    # evidence frames only
    pmid: str | None = None
    design: str | None = None
    sample_size: int | None = None
    controlled: bool | None = None  # a control arm: placebo, vehicle, randomised, split-scalp
    sponsor: bool | None = None  # a company named as funder, or a conflict of interest
    lacking: bool = False  # says the (human) evidence is limited, lacking or unproven
    reviews_randomised: bool = False  # a systematic review whose abstract speaks of randomised trials
    finding: bool = True  # False: a hedged sentence reporting no finding of the study's own (background)
    # article claims only: the kind of statement about the field it makes ("approval", "quality" ...: [statements]
    # of the domain file), judged only by records that state the same kind of fact
    statement: str | None = None
    # the form of hair loss it is about ("alopecia_areata"): the sentence's, else (evidence) its record's title
    condition: str | None = None

    @property
    def outcome(self) -> str | None:
        """The first outcome named: what the claim is mainly about."""
        return self.outcomes[0] if self.outcomes else None

    @property
    def family(self) -> str | None:
        return self.intervention.split("/")[0] if self.intervention else None


def _hierarchy_match(h: Hierarchy, text: str, concepts: Iterable[str], levels_alone: bool) -> list[tuple[int, str]]:
    """(position, key) of the most specific entries of ``h`` mentioned in ``text``: every level found (less
    one that a more specific level found ``implies``), else the category; empty when none is. With
    ``levels_alone`` a level found without its category still counts (outcomes); without it (interventions)
    a source counts only under its family ("adipose-derived stem cells" alone are not exosomes)."""
    concepts = tuple(concepts)
    top = h.category.position(text, concepts)
    hits = [(pos, level) for level in h.levels if (pos := level.position(text, concepts)) is not None]
    if top is None and not (levels_alone and hits):
        return []
    if not hits:
        return [(top, h.category.key)]
    implied = {key for _, level in hits for key in level.implies}
    # an intervention is placed where its family is named; the source only refines it
    return [(pos if levels_alone else top, level.key) for pos, level in hits if level.key not in implied]


def outcome_positions(text: str, concepts: Iterable[str] = (), domain: Domain | None = None) -> list[tuple[int, str]]:
    """(position, key) of the outcomes a sentence names, in order. Concept ids only fill in when no pattern
    finds an outcome; outcomes named as a purpose ("..., which are essential for hair growth") only when
    nothing is named before it; outcomes set aside ("Besides hair growth, ...", "In the realm of hair
    restoration, ...") only when nothing else is named."""
    domain = domain or load()
    aside = domain.outcome_aside.search(text) if domain.outcome_aside else None
    if aside is not None:
        end = text.find(",", aside.end())
        end = end if end > 0 else aside.end()
        rest = text[:aside.start()] + " " * (end - aside.start()) + text[end:]  # same length: positions hold
        found = _outcome_matches(rest, concepts, domain)
        if any(pos < len(text) for pos, _ in found):
            return found
    return _outcome_matches(text, concepts, domain)


def _outcome_matches(text: str, concepts: Iterable[str], domain: Domain) -> list[tuple[int, str]]:
    found = sorted(m for h in domain.outcomes for m in _hierarchy_match(h, text, concepts, True))
    if any(pos < len(text) for pos, _ in found):
        found = [(pos, key) for pos, key in found if pos < len(text)]
    context = domain.outcome_context.search(text) if domain.outcome_context else None
    if context is not None and any(pos < context.start() for pos, _ in found):
        found = [(pos, key) for pos, key in found if pos < context.start()]
    return list({key: (pos, key) for pos, key in reversed(found)}.values())[::-1]


def outcomes_of(text: str, concepts: Iterable[str] = (), domain: Domain | None = None) -> tuple[str, ...]:
    return tuple(key for _, key in outcome_positions(text, concepts, domain))


def strength_of(text: str, positions: list[tuple[int, str]], domain: Domain | None = None) -> Literal["asserted", "hedged"]:
    """Hedged when a hedge comes before what is claimed: "may promote hair growth", not "studies show X,
    a novel approach that could change treatment"; or where the sentence frames all it says as an idea ("the
    thinking is that ...", "the aim is to ...")."""
    domain = domain or load()
    if domain.framing_hedge is not None and domain.framing_hedge.search(text):
        return "hedged"
    first = positions[0][0] if positions else len(text)
    hedge = domain.hedges.search(text)
    return "hedged" if hedge is not None and hedge.start() <= first else "asserted"


def intervention_of(text: str, concepts: Iterable[str] = (), domain: Domain | None = None) -> str | None:
    """The intervention family named first, with its source when the sentence names one."""
    domain = domain or load()
    found = [min(m) for h in domain.interventions if (m := _hierarchy_match(h, text, concepts, False))]
    return min(found)[1] if found else None


def comparator_of(text: str, domain: Domain | None = None) -> str | None:
    """What the claim compares the intervention with, where it makes a comparison, or what it combines the
    intervention with ("alongside hair transplantation": only a record of that combination speaks to it)."""
    domain = domain or load()
    cue = domain.comparison_cue.search(text)
    if cue is not None:
        return _named_after(text, cue.start(), domain)
    combined = domain.combination_cue.search(text) if domain.combination_cue is not None else None
    partner = _named_after(text, combined.start(), domain, ("placebo",)) if combined else None
    if partner is not None:
        return partner
    # "appears more effective": a comparison with other treatments that names none of them
    implied = domain.implied_comparison is not None and domain.implied_comparison.search(text)
    return "other_treatments" if implied else None


def _named_after(text: str, start: int, domain: Domain, skip: tuple[str, ...] = ()) -> str | None:
    """The comparator named first in ``text`` from ``start`` on."""
    tail = text[start:]
    found = [(pos, c.key) for c in domain.comparators if c.key not in skip and (pos := c.position(tail)) is not None]
    return min(found)[1] if found else None


def follow_up_weeks(text: str, domain: Domain | None = None) -> float | None:
    """The longest duration stated ("24 weeks", "6 months"), in weeks; ages ("aged 26 to 52 years", "52 years
    old") are not durations."""
    domain = domain or load()
    weeks = [float(m.group(1)) * domain.time_units[m.group(2).lower()] for m in _NUMBER.finditer(text)
             if m.group(2).lower() in domain.time_units and not _AGE.search(text, m.end(), m.end() + 5)
             and not _AGED.search(text, max(0, m.start() - 40), m.start())]
    return round(max(weeks), 1) if weeks else None


def population_of(text: str, domain: Domain | None = None) -> Population:
    domain = domain or load()
    for name, key in (("animals", "animals"), ("cells", "cells"), ("people", "people")):
        if domain.populations[name].search(text):
            return key  # type: ignore[return-value]
    return "unstated"


def not_checkable_reason(claim: Claim, outcomes: tuple[str, ...], domain: Domain | None = None,
                         positions: Iterable[tuple[int, str]] = ()) -> str | None:
    """Why a claim is not checkable, None when it is. ``positions``: where its outcomes are named (a claim of
    popularity is checkable where it names an outcome before saying so: "paired with minimal side effects, has
    made it increasingly popular")."""
    domain = domain or load()
    text = claim.sentence
    if claim.claim_type == "recommendation" and not domain.evidence_absence.search(text):
        return "a recommendation"  # "the long-term safety requires further investigation" is checkable
    checks = domain.not_checkable
    if "recommendation" in checks and checks["recommendation"].search(text) and not domain.evidence_absence.search(text):
        return "a recommendation"
    if "future" in checks and checks["future"].search(text):
        return "speculation about the future"
    if "definition" in checks and checks["definition"].search(text) and claim.direction == "none" \
            and not ("definition_unless" in checks and checks["definition_unless"].search(text)):
        return "a definition"
    # sales talk leaves a claim checkable where it also states an approval status (:func:`states_approval`)
    if "promotion" in checks and checks["promotion"].search(text) and not outcomes \
            and not states_approval(claim, domain):
        return "promotion with no testable content"
    if "policy" in checks and checks["policy"].search(text):
        return "the clinic's own policy"
    if "about_the_article" in checks and checks["about_the_article"].search(text):
        return "what the article covers"
    popular = checks["popularity"].search(text) if "popularity" in checks else None
    if popular is not None and not any(pos < popular.start() for pos, _ in positions) \
            and not states_approval(claim, domain):
        return "how popular it is"
    return None


def states_approval(claim: Claim, domain: Domain | None = None) -> bool:
    """Whether a claim states an approval status (the domain's ``approval`` statement kind): checkable whatever
    sales talk rides along ("no exosome product is approved in Europe, where the treatments are gaining
    popularity")."""
    domain = domain or load()
    return any(kind.rule == "approval" and (not kind.claim_types or claim.claim_type in kind.claim_types)
               and kind.assertion.search(claim.sentence) and not _excluded(kind, claim.sentence)
               for kind in domain.statements)


def _safety(claim: Claim, domain: Domain) -> Literal["safe", "harm"] | None:
    """Whether a claim says the intervention is safe or harmful: "no notable adverse effects" is safe, "raise
    concerns about the quality and safety" harm, else the evidence module's reading (safe words, harm words,
    negation)."""
    if domain.no_harm.search(claim.sentence):
        return "safe"
    if domain.harm is not None and domain.harm.search(claim.sentence):
        return "harm"
    return safety_view(claim)


def _asserts(claim: Claim, outcomes: tuple[str, ...], safety: str | None, domain: Domain) -> Asserts:
    text = claim.sentence
    if domain.evidence_absence.search(text) or (claim.claim_type == "evidence" and claim.polarity == "negated"
                                                 and not reports_null_result(claim)):
        return "evidence_lacking"
    main = outcomes[0].split("/")[0] if outcomes else None
    # a compound claim is about what it names first: "may promote regrowth ... with a favourable safety profile"
    # a safety claim says something of harm or safety: one typed so (by the learned detector) that names neither
    # ("fewer of the harmful ones are made") asserts an effect
    if main == "adverse_events" or safety and main is None:
        return "safety"
    if claim.claim_type == "safety" and safety == "harm" and any(o.startswith("adverse_events") for o in outcomes):
        return "safety"  # "an inflammatory reaction, with firm red nodules where the injections had gone in"
    if main == "growth_factor_content":
        return "content"
    if domain.mechanism is not None and domain.mechanism.search(text):
        return "mechanism"  # "counters hair loss by facilitating cell-to-cell communication"
    return "effect"


def statement_kind(claim: Claim, asserts: Asserts, checkable: bool, domain: Domain | None = None,
                   outcomes: Iterable[str] = (), comparator: str | None = None) -> str | None:
    """The kind of statement about the field an article claim makes (the first ``[statements.*]`` of the domain
    file whose pattern it matches, or that takes its claim type), None for a claim about an effect, its safety or
    the evidence (a knowledge gap: "long-term safety requires further investigation" stays a gap, unless it states
    an approval status). ``comparator``: what the claim compares or combines its treatment with
    (:func:`comparator_of`)."""
    domain = domain or load()
    if not checkable:
        return None
    text = claim.sentence
    compares = bool(domain.comparison_cue.search(text)) or comparator is not None
    for kind in domain.statements:
        if asserts == "evidence_lacking" and kind.rule not in ("approval", "unstudied", "none"):
            continue  # "no licence, because evidence is lacking" states a status, "no trial" a fact, "the FDA regards
            # them as experimental" a regulator's view; other gaps stay gaps
        if kind.claim_types and claim.claim_type not in kind.claim_types:
            continue
        if kind.requires == "no_intervention" and intervention_of(text, (), domain) is not None:
            continue
        if kind.requires == "no_effect" and any(o.split("/")[0] in domain.same_outcome for o in outcomes):
            continue  # "by delivering growth factors, exosomes may revitalise dormant follicles" claims an effect
        if kind.population == "cells" and population_of(text, domain) == "people":
            continue  # what vesicles do in patients is an effect in people, not cell biology
        if compares and kind.rule in ("states", "studied") and not kind.compares:
            continue  # "better characterised than European products": only a record making the comparison
        if _excluded(kind, text):
            continue  # "it is most effective for thinning hair" is about the treatment, not the condition
        if kind.assertion.search(text) and ("also" not in kind.extra or kind.extra["also"].search(text)):
            return kind.key
    if asserts == "evidence_lacking":
        return None
    taking = (kind for kind in domain.statements if claim.claim_type in kind.takes and not _excluded(kind, text))
    return next((kind.key for kind in taking), None)


def _excluded(kind: Statement, text: str) -> bool:
    """Whether the kind's ``unless`` pattern keeps a claim out of it, however the kind would take it."""
    unless = kind.extra.get("unless")
    return unless is not None and bool(unless.search(text))


def reports_harm(frame: Frame) -> bool:
    """Whether a claim says harm occurred: it says so, or it names a specific adverse event ("skin necrosis
    developed") and says nothing either way."""
    return frame.safety == "harm" or frame.safety is None and any(o.startswith("adverse_events/") for o in frame.outcomes)


OTHER_INTERVENTION = "other"  # an intervention the domain file does not know ("low-level laser therapy")
_ANAPHOR = re.compile(r"^\W*(this|these|it|they|such|those)\b", re.I)


def _default_intervention(claim: Claim, default: str | None, domain: Domain) -> str | None:
    """The article's topic for a claim that names no intervention ("this therapy", "it"); a claim whose NLP
    intervention is a concept no family lists speaks of something else."""
    # "This offers an alternative to surgery": the article's topic, whatever else the sentence names
    if claim.intervention and claim.intervention not in domain.intervention_concepts \
            and not _ANAPHOR.match(claim.sentence):
        return OTHER_INTERVENTION
    return default


def assertion_frame(claim: Claim, concepts: Iterable[str] = (), default_intervention: str | None = None,
                    domain: Domain | None = None) -> Frame:
    """The frame of an article claim; ``default_intervention`` is the family an article is about, used when
    the sentence names none ("this therapy", "it")."""
    domain = domain or load()
    text = claim.sentence
    concepts = tuple(concepts) + tuple(c for c in (claim.intervention, claim.outcome) if c)
    positions = outcome_positions(text, concepts, domain)
    if not positions and claim.claim_type in ("efficacy", "safety") and claim.polarity == "affirmed" \
            and domain.works is not None and domain.works_outcome and (works := domain.works.search(text)):
        positions = [(works.start(), domain.works_outcome)]  # "exosomes applied to the skin can work"
    outcomes = tuple(key for _, key in positions)
    reason = not_checkable_reason(claim, outcomes, domain, positions)
    safety = _safety(claim, domain)
    if safety is None and claim.polarity != "negated" and any(o.startswith("adverse_events/") for o in outcomes):
        safety = "harm"  # "every one of them developed firm red nodules": a named adverse event (cf. reports_harm)
    asserts = _asserts(claim, outcomes, safety, domain)
    comparator = comparator_of(text, domain)
    return Frame(
        claim_id=claim.claim_id,
        checkable=reason is None,
        not_checkable_reason=reason,
        asserts=asserts,
        outcomes=outcomes,
        population=population_of(text, domain),
        intervention=intervention_of(text, concepts, domain) or _default_intervention(claim, default_intervention, domain),
        comparator=comparator,
        long_term=bool(domain.long_term.search(text)),
        follow_up_weeks=follow_up_weeks(text, domain),
        strength=strength_of(text, positions, domain),
        safety=safety,
        frequent_harm=safety == "harm" and bool(domain.frequent_harm and domain.frequent_harm.search(text)),
        claims_studies=requires_human_evidence(claim) or (claim.claim_type == "evidence" and claim.polarity == "affirmed"),
        single_study=bool(domain.single_study.search(text)),
        direction=_implied_direction(claim, outcomes, domain),
        statement=statement_kind(claim, asserts, reason is None, domain, outcomes, comparator),
        condition=domain.condition_of(text),
    )


def _implied_direction(claim: Claim, outcomes: Iterable[str], domain: Domain) -> str:
    """The direction of the effect claimed: the words' own, else the one an outcome level states by being named
    ("switches dormant follicles back into growing" asserts anagen induced), unless the claim is negated."""
    if claim.direction != "none" or claim.polarity == "negated":
        return claim.direction
    stated = [entry.direction for key in outcomes if (entry := domain.outcome_entry(key)) is not None and entry.direction]
    if stated:
        return stated[0]
    if domain.works is not None and domain.works_outcome \
            and any(key.split("/")[0] == domain.works_outcome for key in outcomes) and domain.works.search(claim.sentence):
        return "increase"  # "treatments that work, exosome therapy among them": the main outcome, improved
    return claim.direction


@dataclass(frozen=True)
class RecordFrame:
    """What an evidence frame takes from the whole record, the same for each of its claims: read once per record."""

    title_outcomes: tuple[str, ...]
    intervention: str | None  # named in the title, else in the abstract
    comparator: str | None
    follow_up_weeks: float | None
    controlled: bool
    sponsor: bool
    reviews_randomised: bool
    condition: str | None = None  # named in the title


def record_frame(record: RecordFacts, domain: Domain | None = None) -> RecordFrame:
    domain = domain or load()
    whole = f"{record.title}\n{record.abstract}"
    return RecordFrame(
        title_outcomes=outcomes_of(record.title, (), domain),
        intervention=intervention_of(record.title, (), domain) or intervention_of(record.abstract, (), domain),
        comparator=comparator_of(whole, domain),
        follow_up_weeks=follow_up_weeks(whole, domain),
        controlled=record.design == "rct" or bool(domain.control_arm.search(whole)),
        sponsor=bool(domain.sponsor.search(whole)),
        reviews_randomised=record.design == "systematic_review" and bool(re.search(r"\brandomi[sz]ed\b", whole, re.I)),
        condition=domain.condition_of(record.title),
    )


def evidence_frame(claim: Claim, record: RecordFacts, concepts: Iterable[str] = (),
                   domain: Domain | None = None, whole_record: RecordFrame | None = None) -> Frame:
    """The frame of an abstract's claim, with what its record says about design, size, control and follow-up
    (``whole_record``: :func:`record_frame` of ``record``, when the caller already has it)."""
    domain = domain or load()
    whole_record = whole_record or record_frame(record, domain)
    text = claim.sentence
    concepts = tuple(concepts) + tuple(c for c in (claim.intervention, claim.outcome) if c)
    # a sentence that names no outcome ("clinical evidence is limited") is about its record's topic
    outcomes = outcomes_of(text, concepts, domain) or whole_record.title_outcomes
    safety = _safety(claim, domain)
    design = record.design
    hedged = bool(domain.hedges.search(text))
    # a hedged sentence of a study that reports no finding of its own ("exosomes can carry growth factors that
    # may promote ...") is background, not what the study found in its subjects
    primary = design in domain.human_designs and design != "systematic_review"
    finding = not (primary and hedged) or bool(domain.finding.search(text))
    population = (_DESIGN_POPULATION.get(design) if finding else None) or population_of(text, domain)
    # an outcome measured only in cells (proliferation of dermal papilla cells) is cell evidence, even when a
    # clinical study reports it from its laboratory arm
    if outcomes and domain.outcome(outcomes[0].split("/")[0]).category.population:
        population = domain.outcome(outcomes[0].split("/")[0]).category.population
    # the sentence's intervention, refined by the title's source ("ECPE improved ..." in a plant-extract trial)
    intervention = intervention_of(text, concepts, domain)
    titled = whole_record.intervention
    if intervention is None or (titled and "/" not in intervention and titled.split("/")[0] == intervention):
        intervention = titled or intervention
    weeks = whole_record.follow_up_weeks
    return Frame(
        claim_id=claim.claim_id,
        checkable=True,
        not_checkable_reason=None,
        asserts=_asserts(claim, outcomes, safety, domain),
        outcomes=outcomes,
        population=population,
        intervention=intervention,
        comparator=comparator_of(text, domain) or whole_record.comparator,
        long_term=bool(weeks is not None and weeks >= domain.long_term_weeks),
        follow_up_weeks=weeks,
        strength="hedged" if hedged else "asserted",
        safety=safety,
        direction=claim.direction,
        pmid=record.pmid,
        design=design,
        finding=finding,
        sample_size=record.sample_size,
        controlled=whole_record.controlled,
        sponsor=whole_record.sponsor,
        condition=domain.condition_of(text) or whole_record.condition,
        lacking=bool(domain.lacking.search(text)),
        reviews_randomised=whole_record.reviews_randomised,
    )
