"""Verdicts a systematic reviewer would sign: evidence weighed per record, by frame, with a certainty.

For one assertion, its evidence links are read through the frames of both sides
(:mod:`pipeline.compare.frames`):

1. a claim that is not checkable (speculation, a definition, promotion) gets **not checkable**;
2. each linked literature claim gets a stance that knows what the assertion asserts (where the facts left a
   link open, the stance model's reading counts at ``FRAMED_TEXT_MIN`` when both frames ask the same
   question, :func:`link_reading`):
   - that evidence is missing ("larger trials are needed", "no rigorous human studies"): supported by
     records that say so, contradicted only by a randomised trial of at least ``[certainty] large_trial_n``;
   - safety: contradicted by reports of adverse events (of any kind, indirectly when another kind), supported
     by records that looked and found none; a hedged risk ("a potential risk of infection") is not refuted by
     studies that saw none; a harm claim naming specific adverse events needs a record reporting one of them
     (:func:`named_harm_unreported`);
   - an effect or mechanism: what a record says of harm alone does not bear on it;
   - an effect asserted (not hedged) about people or a clinical outcome: a review calling the human
     evidence lacking weighs against it, unless the assertion reports one study;
   - otherwise the stance of the link (direction of effect, :mod:`pipeline.compare.evidence`);
3. records that do not address the assertion (:mod:`pipeline.compare.directness`: another outcome level,
   population, intervention family, comparator or time frame; a clinical study for an asserted mechanism)
   are left out, and named when nothing else is left;
4. each record counts once, on one side (a review that calls the evidence lacking counts against);
5. the tiers decide: human evidence (human studies, and reviews of the human evidence) outweighs
   preclinical; equal tiers give **mixed**; human support alone **supported**, preclinical support alone
   **supported only by preclinical evidence**, and so does human support where a specific outcome the
   assertion names (the anagen phase beside hair growth) has only animal or cell support;
6. :mod:`pipeline.compare.certainty` grades the deciding side, and the reason names the key records.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from pipeline.compare.frames import Frame, reports_harm
from pipeline.compare import certainty as grading
from pipeline.compare.certainty import Weighed
from pipeline.compare.directness import directness, outcome_answers
from pipeline.compare.domain import Domain, load
from pipeline.compare.evidence import NO_DIRECTION, EvidenceLink, LiteratureClaim, cited_journal
from pipeline.compare.statements import StatementEvidence, decide_statement
from pipeline.compare.verdicts import CHECKABLE_TYPES, ClaimVerdict, Verdict, cite_pmids, count_records, decide_verdict
from pipeline.records import Claim

KEY_PMIDS = 4
REVIEW_DESIGNS = grading.REVIEW_DESIGNS

# the calibrated probability the stance model needs where the frames agree on the question (same outcome level
# and intervention family, an effect stated); elsewhere it needs CLAIM_TEXT_CLASSIFIER_MIN (0.85, evidence.py).
# Set once, before scoring, not swept on the labels (docs/evaluation.md gives its sensitivity)
FRAMED_TEXT_MIN = 0.6


def same_question(assertion: Frame, evidence: Frame, domain: Domain | None = None) -> bool:
    """Both frames are about the same outcome (at a level that answers the assertion) of the same
    intervention family: where the stance model's reading can be trusted at a lower probability."""
    domain = domain or load()
    if not assertion.outcomes or not evidence.outcomes or not assertion.family or assertion.family != evidence.family:
        return False
    return any(outcome_answers(a, e, domain) and a.split("/")[0] == e.split("/")[0]
               for a in assertion.outcomes for e in evidence.outcomes)


def claims_something(claim: Claim, assertion: Frame) -> bool:
    """Whether an assertion claims anything of the intervention a finding or a review of the field could speak
    to: an effect, how it works, what studies show, or safety. "This type also affects women" (background) and
    "the source of exosomes is a crucial factor determining safety" claim none of them."""
    if claim.claim_type == "background":
        return False
    return assertion.direction != "none" or assertion.claims_studies or assertion.safety is not None \
        or claim.claim_type in ("efficacy", "mechanism", "comparative")


def link_reading(link: EvidenceLink, assertion: Frame, evidence: Frame, domain: Domain | None = None,
                 claims: bool = True) -> str:
    """The link's stance, or the stance model's reading where the facts left the link open, the literature
    claim states an effect and both frames ask the same question (at ``FRAMED_TEXT_MIN``)."""
    domain = domain or load()
    if link.stance != "unrelated" or link.method != "facts" or link.text_stance not in ("supports", "contradicts"):
        return link.stance
    if (link.text_probability or 0.0) >= FRAMED_TEXT_MIN and evidence.direction != "none" \
            and claims and same_question(assertion, evidence, domain):
        return link.text_stance
    return link.stance


def implied_reading(link: EvidenceLink, claim: Claim, assertion: Frame, evidence: Frame,
                    domain: Domain | None = None) -> str:
    """Where the words of the assertion state no direction but the outcome it names does ("wakes dormant follicles"),
    a finding about the same question in the same direction supports it and one in the other direction contradicts
    it (the facts of the two claims could not compare a direction the words do not state)."""
    domain = domain or load()
    if claim.direction != "none" or link.stance != "unrelated" or link.method != "facts" or link.reason != NO_DIRECTION \
            or assertion.direction not in ("increase", "decrease") or evidence.direction not in ("increase", "decrease") \
            or not same_question(assertion, evidence, domain):
        return link.stance
    return "supports" if assertion.direction == evidence.direction else "contradicts"


def framed_stance(assertion: Frame, evidence: Frame, link_stance: str, domain: Domain | None = None,
                  claims: bool = True) -> tuple[str, bool]:
    """(stance, lacking): the stance of one literature claim towards an assertion, given both frames and
    the link's own stance; ``lacking`` marks a review counted against because it finds the evidence lacking;
    ``claims``: :func:`claims_something` of the assertion."""
    domain = domain or load()
    review_lacking = evidence.lacking and evidence.design in REVIEW_DESIGNS and evidence.population not in ("animals", "cells")
    if assertion.asserts == "evidence_lacking":
        if evidence.lacking:
            return "supports", False
        large_trial = (evidence.design == "rct" or evidence.reviews_randomised) and \
            (evidence.sample_size or 0) >= domain.large_trial_n
        return ("contradicts" if large_trial and link_stance != "unrelated" else "unrelated"), False
    if assertion.asserts in ("effect", "mechanism", "content") and evidence.asserts == "safety" \
            and all(o.split("/")[0] == "adverse_events" for o in evidence.outcomes):
        return "unrelated", False  # what a study says of harm alone does not speak to an effect claimed
    hedged = assertion.strength == "hedged"
    # reviews of the human evidence speak to claims about people or clinical outcomes, not to mechanisms
    clinical = assertion.outcome is not None and assertion.outcome.split("/")[0] in (*domain.same_outcome, "adverse_events")
    about_people = assertion.asserts != "mechanism" and (
        assertion.population == "people" or clinical and assertion.population == "unstated")
    claims_harm = assertion.asserts == "safety" and assertion.safety == "harm"
    # "limited human evidence" does not refute that a harm occurs
    if review_lacking and not hedged and about_people and claims and not assertion.single_study and not claims_harm:
        return "contradicts", True
    if assertion.asserts == "safety" and assertion.safety:
        if reports_harm(evidence):
            return ("contradicts" if assertion.safety == "safe" else "supports"), False
        if evidence.safety == "safe":
            if assertion.safety == "harm" and (hedged or not assertion.frequent_harm):
                # "a potential risk of infection", "carries serious risks": not refuted by studies that saw none;
                # "side effects are common" is
                return "unrelated", False
            return ("supports" if assertion.safety == "safe" else "contradicts"), False
    if review_lacking:
        return "unrelated", False  # a hedged claim or one study's result: "limited evidence" does not refute it
    return link_stance, False


def named_harm_unreported(claim: Claim, assertion: Frame, support: Sequence[Weighed], domain: Domain) -> bool:
    """Whether a harm claim names specific adverse events ("risks of contamination and allergic reactions") that
    none of the records in its favour reports: reports of other harms (necrosis) do not show them, unless the claim
    also names a harm any report of a reaction shows (``unspecific_harm``: "inflammation at the injection site")."""
    if assertion.asserts != "safety" or assertion.safety != "harm":
        return False
    if domain.unspecific_harm is not None and domain.unspecific_harm.search(claim.sentence):
        return False
    named = {o for o in assertion.outcomes if o.startswith("adverse_events/")}
    return bool(named) and not any(named & set(w.frame.outcomes) for w in support)


def _record_side(stances: list[tuple[str, bool, bool]]) -> tuple[str, bool, bool]:
    """One record's side from its claims' (stance, lacking, direct): a review finding the evidence lacking
    counts against; else the majority (ties: support), direct where any claim is."""
    lacking = [s for s in stances if s[1]]
    if lacking:
        return "contradicts", True, any(s[2] for s in lacking)
    n_for = sum(1 for s in stances if s[0] == "supports")
    n_against = len(stances) - n_for
    side = "supports" if n_for >= n_against else "contradicts"
    return side, False, any(s[2] for s in stances if s[0] == side)


def decide_claim(claim: Claim, links: Sequence[EvidenceLink], known_journals: Sequence[str] = (),
                 frames: Mapping[str, Frame] | None = None,
                 statements: StatementEvidence | None = None) -> ClaimVerdict | None:
    """The verdict of one article claim from its links; None for recommendations. Where the claim has a frame
    the framed rules of this module decide (:func:`decide_framed`); without one the tier rules of
    :func:`pipeline.compare.verdicts.decide_verdict`."""
    if claim.claim_type not in CHECKABLE_TYPES:
        return None
    if frames is not None and claim.claim_id in frames:
        return decide_framed(claim, links, frames, known_journals, statements=statements)
    return decide_verdict(claim, links, known_journals)


def decide_framed(claim: Claim, links: Sequence[EvidenceLink], frames: Mapping[str, Frame],
                  known_journals: Iterable[str] = (), domain: Domain | None = None,
                  statements: StatementEvidence | None = None) -> ClaimVerdict:
    """The framed verdict; a statement about the field (approval, product quality ...) is judged only by the
    records that state that kind of fact (``statements``: :func:`pipeline.compare.statements.statement_evidence`;
    without it, nothing states it)."""
    domain = domain or load()
    assertion = frames[claim.claim_id]
    unrelated_links = [link for link in links if link.stance == "unrelated"]
    if not assertion.checkable:
        return ClaimVerdict(claim.claim_id, "not checkable", None, None, 0, 0, len(links), (), (),
                            f"not checkable: {assertion.not_checkable_reason}", None, ())
    if assertion.statement is not None:
        return decide_statement(claim, assertion, statements or StatementEvidence({}), len(links), domain)
    claims = claims_something(claim, assertion)
    per_record: dict[str, list[tuple[str, bool, bool]]] = {}
    record_frame: dict[str, Frame] = {}
    left_out: dict[str, str] = {}
    n_for = n_against = 0
    for link in links:
        evidence = frames.get(link.literature_claim_id)
        if evidence is None:
            continue
        reading = link_reading(link, assertion, evidence, domain, claims)
        if reading == "unrelated" and claims:
            reading = implied_reading(link, claim, assertion, evidence, domain)
        stance, lacking = framed_stance(assertion, evidence, reading, domain, claims)
        if stance == "unrelated":
            continue
        fit = directness(assertion, evidence, domain)
        if not fit.addresses:
            left_out.setdefault(link.pmid, fit.reasons[0])
            continue
        n_for += stance == "supports"
        n_against += stance == "contradicts"
        per_record.setdefault(link.pmid, []).append((stance, lacking, fit.direct))
        best = record_frame.get(link.pmid)
        if best is None or (lacking and not best.lacking):
            record_frame[link.pmid] = evidence
    support: list[Weighed] = []
    against: list[Weighed] = []
    for pmid, stances in per_record.items():
        side, lacking, direct = _record_side(stances)
        (support if side == "supports" else against).append(Weighed(pmid, record_frame[pmid], direct, lacking))
    support, against = grading.strongest_first(support), grading.strongest_first(against)
    if support and named_harm_unreported(claim, assertion, support, domain):
        return ClaimVerdict(claim.claim_id, "not addressed", None, None, 0, 0, len(links), (), (),
                            f"no record reports the harm it names ({grading.describe(support, domain=domain)} "
                            f"report others) → not addressed", "very low", ())
    human_for = any(grading.is_human(w.frame, domain) for w in support)
    human_against = any(grading.is_human(w.frame, domain) for w in against)
    absence = assertion.asserts == "evidence_lacking"
    verdict: Verdict
    only_lacking = bool(against) and all(w.lacking for w in against)
    if not support and only_lacking:
        # reviews calling the human evidence lacking say it is unproven, not that it is false: with nothing in
        # its favour the assertion is not addressed
        return ClaimVerdict(claim.claim_id, "not addressed", None, None, 0, 0, len(links), (),
                            (), f"no record supports it; {grading.describe(against, domain=domain)} → not addressed",
                            "very low", ())
    if not support and not against:
        verdict, level, keys = "not addressed", "very low", ()
        journal = cited_journal(claim.sentence, known_journals)
        if journal:
            reason = f"cites {journal}; no record from that journal speaks to it"
        elif left_out:
            shown = list(left_out.items())[:3]
            reason = "no record speaks to it: " + "; ".join(f"PMID {p}: {why}" for p, why in shown)
        elif unrelated_links:
            nearest = tuple(dict.fromkeys(link.pmid for link in sorted(
                unrelated_links, key=lambda link: (link.similarity is None, -(link.similarity or 0.0), link.pmid))))
            reason = f"{count_records(nearest)} on the same topic (nearest: {cite_pmids(nearest)}), none bears on it"
        else:
            reason = "no literature claim about the same intervention and outcome"
        return ClaimVerdict(claim.claim_id, verdict, None, None, 0, 0, len(links), (), (),
                            f"{reason} → not addressed", level, keys)
    # with only animal or cell support, "the human evidence is lacking" agrees rather than refutes
    if support and (not against or human_for and not human_against or not human_for and only_lacking):
        preclinical_parts = _preclinical_parts(assertion, support, domain) if human_for else ()
        human_for = human_for and not preclinical_parts
        verdict = "supported" if human_for else "supported only by preclinical evidence"
        deciding = [w for w in support if grading.is_human(w.frame, domain)] if human_for else support
        level = grading.grade(deciding, absence, domain)
        keys = deciding
    elif against and (not support or human_against and not human_for):
        verdict = "contradicted"
        deciding = [w for w in against if grading.is_human(w.frame, domain)] if human_against else against
        level = grading.grade(deciding, False, domain)
        keys = deciding
    else:
        verdict = "mixed"
        level = grading.mixed(support, against, domain)
        keys = support[:KEY_PMIDS // 2] + against[:KEY_PMIDS // 2]
    parts = []
    if support:
        parts.append("supported by " + grading.describe(support, domain=domain))
    if against:
        # "2 reviews call the human evidence lacking (PMID ...)" reads on its own
        parts.append(("" if all(w.lacking for w in against) else "contradicted by ")
                     + grading.describe(against, domain=domain))
    if verdict == "supported only by preclinical evidence":
        parts.append("no human study" if not preclinical_parts else
                     "only animal or cell studies show " + " and ".join(_outcome_name(k, domain) for k in preclinical_parts))
    reason = "; ".join(parts) + f" → {verdict}, {level} certainty"
    best = (keys or support or against)[0]
    return ClaimVerdict(
        claim_id=claim.claim_id, verdict=verdict,
        best_evidence_level=_level(best), best_design=best.frame.design,
        n_supports=n_for, n_contradicts=n_against, n_unrelated=len(links) - n_for - n_against,
        supporting_pmids=tuple(w.pmid for w in support), contradicting_pmids=tuple(w.pmid for w in against),
        reason=reason, certainty=level, key_pmids=tuple(dict.fromkeys(w.pmid for w in keys))[:KEY_PMIDS],
    )


def _preclinical_parts(assertion: Frame, support: Sequence[Weighed], domain: Domain) -> tuple[str, ...]:
    """The specific outcomes of an effect assertion that only animal or cell studies support: "promotes hair
    growth and prolongs the anagen phase" is supported only by preclinical evidence when people were shown
    more hair but only mice a longer anagen. Parts no record supports do not count either way."""
    if assertion.asserts not in ("effect", "mechanism"):
        return ()
    parts = []
    # only specific levels, and the categories below what people see (blood vessels, inflammation) asserted beside
    # hair growth: a general part ("healthier environment for hair growth") or a hedged one ("may help modulate the
    # inflammatory response") is answered loosely
    beside_clinical = assertion.strength == "asserted" and any(o.split("/")[0] in domain.same_outcome
                                                               for o in assertion.outcomes)
    for claimed in dict.fromkeys(o for o in assertion.outcomes
                                 if "/" in o or beside_clinical and o not in domain.same_outcome):
        backing = [w for w in support if any(outcome_answers(claimed, e, domain) for e in w.frame.outcomes)]
        if backing and not any(grading.is_human(w.frame, domain) for w in backing):
            parts.append(claimed)
    return tuple(parts)


def _outcome_name(key: str, domain: Domain) -> str:
    entry = domain.outcome_entry(key)
    return entry.name if entry is not None else key.replace("_", " ")


def _level(w: Weighed) -> int | None:
    from pipeline.compare.study_design import EVIDENCE_LEVELS
    return EVIDENCE_LEVELS.get(w.frame.design or "")


# -- evidence about the field, beyond each assertion's candidates --------------------------------------

OUTCOME_POOL = "outcome:"  # field evidence keyed by a specific outcome: "outcome:hair_cycle/telogen_to_anagen"


def field_evidence(literature: Sequence[LiteratureClaim], frames: Mapping[str, Frame],
                   domain: Domain | None = None) -> dict[str, list[LiteratureClaim]]:
    """Literature claims that bear on every assertion of their kind, found once per comparison: reviews that
    call the human evidence lacking (against asserted clinical claims, for "more trials are needed"),
    reports of adverse events and human studies that found little harm (for and against safety claims), and
    findings about each specific outcome (``OUTCOME_POOL`` + its key: the studies of anagen induction for "they
    switch dormant follicles back into growing"). Retrieval by similarity misses them where the assertion's
    words differ ("minimal downtime" against "skin necrosis after injection")."""
    domain = domain or load()
    found: dict[str, list[LiteratureClaim]] = {"lacking": [], "harm": [], "safe": []}
    for lit in literature:
        frame = frames.get(lit.claim.claim_id)
        if frame is None or lit.is_retracted:
            continue
        if frame.finding and frame.direction != "none":
            for key in frame.outcomes:
                if _below_clinical(key):
                    found.setdefault(OUTCOME_POOL + key, []).append(lit)
        if frame.lacking and frame.design in REVIEW_DESIGNS and frame.population not in ("animals", "cells"):
            found["lacking"].append(lit)
        elif reports_harm(frame):
            found["harm"].append(lit)
        elif frame.safety == "safe" and frame.design in domain.human_designs and frame.finding:
            found["safe"].append(lit)  # human studies that looked for harm and found little
    for kind in found.values():  # strongest and newest first, so a bounded pool keeps those
        kind.sort(key=lambda lit: (lit.evidence_level, -(lit.pub_year or 0), lit.pmid))
    return found


def _below_clinical(key: str) -> bool:
    """A specific outcome below what people see: a level of the hair cycle or of cell activity (not hair growth and
    its clinical measures, nor adverse events; whole categories such as skin health are too broad to pool)."""
    return "/" in key and key.split("/")[0] not in ("hair_growth", "adverse_events")


def field_pool(assertion: Frame, field: Mapping[str, list[LiteratureClaim]], frames: Mapping[str, Frame],
               linked: Iterable[str], domain: Domain | None = None, limit: int | None = None) -> list[LiteratureClaim]:
    """The field evidence an assertion is also checked against (not already among its links): the reviews
    for clinical and evidence-absence claims, the adverse-event reports and the human studies that found little
    harm for safety claims, the findings about each specific outcome an effect or mechanism names, of the same
    intervention family; at most ``limit`` in all (shared evenly between the kinds), the strongest designs
    first."""
    domain = domain or load()
    if not assertion.checkable or assertion.statement is not None:
        return []  # a statement about the field is judged by the records that state it
    kinds = []
    clinical = assertion.outcome is not None and assertion.outcome.split("/")[0] in domain.same_outcome
    if assertion.asserts == "evidence_lacking" or (assertion.strength == "asserted" and clinical):
        kinds.append("lacking")
    if assertion.asserts == "safety":
        kinds += ["lacking", "harm", "safe"] if assertion.strength == "asserted" else ["harm", "safe"]
    if assertion.asserts in ("effect", "mechanism") and assertion.comparator is None and assertion.strength == "asserted":
        # the levels below what people see (anagen induction, cells multiplying), asserted outright: mostly shown in
        # animals and cells, worded far from the assertion's words; the clinical measures (density, thickness) are
        # found by similarity, and a hedged "may revitalise dormant follicles" is judged on what similarity finds
        specific = [o for o in assertion.outcomes if _below_clinical(o)]
        kinds += [key for key in field if key.startswith(OUTCOME_POOL)
                  and any(outcome_answers(o, key[len(OUTCOME_POOL):], domain) for o in specific)]
    seen = set(linked)
    pool = []
    kinds = list(dict.fromkeys(kinds))
    if limit is not None and kinds:
        limit = max(1, limit // len(kinds))
    for kind in kinds:
        taken = 0
        for lit in field[kind]:
            if limit is not None and taken >= limit:
                break
            family = frames[lit.claim.claim_id].family
            if lit.claim.claim_id in seen or (family and assertion.family and family != assertion.family):
                continue
            seen.add(lit.claim.claim_id)
            pool.append(lit)
            taken += 1
    return pool
