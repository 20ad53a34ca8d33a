"""Does a record speak to an assertion, and how directly? GRADE's indirectness, per pair of frames.

An evidence frame (:mod:`pipeline.compare.frames`) *addresses* an assertion frame when it is about

- the same outcome, at a level that answers it: a hair-count study does not speak to a telogen-to-anagen
  claim, a hair study does not speak to what vesicles contain; a general hair-growth claim is answered by
  density, count, thickness or anagen studies (``covers`` in config/lexicon/evidence.toml);
- the same population where the assertion names one: animal and cell studies do not answer a claim about
  patients (a claim that names none is answered by them at the preclinical tier), nor a study in people a claim
  of what was found in mice;
- the same form of hair loss where the assertion names one: a study of pattern hair loss does not answer a claim
  about alopecia areata (``[conditions]``; one marked ``only`` is answered by records about it alone);
- the same intervention family: a secretome or conditioned-media trial is not an exosome trial;
- the comparator the assertion names ("lower risk than medications" needs a record that compares with
  medications; placebo-controlled is not that comparison);
- the time frame: a long-term claim needs long-term follow-up (a claim that long-term evidence is missing is
  answered by reviews saying so);
- what is claimed: an asserted mechanism ("by transferring growth factors") is not shown by a clinical study
  of the outcome.

It addresses it *directly* unless a lesser mismatch remains (another vesicle source: plant exosomes for a
claim about MSC exosomes; an outcome the evidence claim does not name; a harm of another kind than a safety
claim names), which downgrades certainty.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.compare.frames import Frame
from pipeline.compare.domain import Domain, load


@dataclass(frozen=True)
class Directness:
    addresses: bool  # the record speaks to the assertion at all
    direct: bool  # ... and without a lesser mismatch (else: indirect, certainty downgraded)
    reasons: tuple[str, ...]  # why not (or not directly); empty when direct


def _category(key: str) -> str:
    return key.split("/")[0]


def _name(key: str, domain: Domain) -> str:
    entry = domain.outcome_entry(key)
    return entry.name if entry is not None else key.replace("_", " ")


def _family_name(key: str, domain: Domain) -> str:
    known = [h for h in domain.interventions if h.category.key == key]
    return known[0].category.name if known else "another intervention"


def outcome_answers(claimed: str, found: str, domain: Domain | None = None) -> bool:
    """Whether evidence about outcome ``found`` answers a claim about outcome ``claimed`` (keys)."""
    domain = domain or load()
    if claimed == found:
        return True
    found_entry = domain.outcome_entry(found)
    if found_entry is not None and claimed in found_entry.implies:
        return True  # a telogen-to-anagen study speaks to anagen
    entry = domain.outcome_entry(claimed)
    covers = entry.covers if entry is not None else ()
    if any(found == c or found.startswith(c + "/") for c in covers):
        return True
    if _category(claimed) != _category(found):
        return False
    # within a category: a general claim is answered by any level, general evidence answers any level
    return "/" not in claimed or "/" not in found


def directness(assertion: Frame, evidence: Frame, domain: Domain | None = None) -> Directness:
    domain = domain or load()
    stops: list[str] = []
    lesser: list[str] = []
    if assertion.outcomes and evidence.outcomes:
        # what vesicles contain is answered only by a record about their content, not by their effects
        claimed = assertion.outcomes[:1] if assertion.asserts == "content" else assertion.outcomes
        if not any(outcome_answers(a, e, domain) for a in claimed for e in evidence.outcomes):
            # "larger trials are needed" is answered by reviews of the field whatever outcome they name; a harm
            # of another kind speaks to a safety claim, indirectly (granulomas beside an infection report, for
            # "granulomas and infections"; with no report of a harm it names, graded.named_harm_unreported)
            other_harm = assertion.asserts == "safety" and any(_category(a) == "adverse_events" for a in claimed) \
                and any(_category(e) == "adverse_events" for e in evidence.outcomes)
            (lesser if assertion.asserts == "evidence_lacking" or other_harm else stops).append(f"it reports {_name(evidence.outcomes[0], domain)}, not {_name(assertion.outcomes[0], domain)}")
    elif assertion.outcomes and assertion.asserts != "evidence_lacking":
        lesser.append("the evidence names no outcome")
    if assertion.asserts == "mechanism" and not assertion.outcomes and evidence.asserts != "mechanism":
        # "needling improves how far the exosomes penetrate": no outcome a study measured, nothing it showed
        stops.append("the mechanism claimed names nothing the record measured")
    if assertion.asserts == "mechanism" and assertion.strength == "asserted" and evidence.asserts != "mechanism" \
            and evidence.population == "people":
        # "counters hair loss by facilitating cell-to-cell communication": a clinical study measures the outcome,
        # not how it came about
        stops.append("a clinical outcome does not show the mechanism claimed")
    if assertion.condition and evidence.condition != assertion.condition \
            and (evidence.condition is not None or domain.condition(assertion.condition).only):
        # "exosomes calm the immune attack in alopecia areata" is not shown by a study of pattern hair loss
        about = domain.condition(evidence.condition).name if evidence.condition else "hair loss in general"
        stops.append(f"a study of {about} is not about {domain.condition(assertion.condition).name}")
    # what was found in mice is not what a trial in people shows
    if assertion.population in ("animals", "cells") and evidence.population == "people" \
            and assertion.asserts in ("effect", "mechanism"):
        stops.append(f"a study in people does not show what was found in {assertion.population}")
    if assertion.population == "people" and evidence.population in ("animals", "cells"):
        stops.append(f"{'an animal' if evidence.population == 'animals' else 'a cell'} study does not show what "
                     "happens in people")
    if assertion.family and evidence.family and assertion.family != evidence.family:
        stops.append(f"a study of {_family_name(evidence.family, domain)} is not about "
                     f"{_family_name(assertion.family, domain)}")
    elif assertion.intervention and evidence.intervention and "/" in assertion.intervention \
            and "/" in evidence.intervention and assertion.intervention != evidence.intervention:
        lesser.append(f"vesicles from another source ({evidence.intervention.split('/')[1].replace('_', ' ')})")
    if assertion.comparator and assertion.comparator != "placebo" and evidence.comparator != assertion.comparator:
        stops.append(f"no comparison with {assertion.comparator.replace('_', ' ')}")
    # "the lack of long-term studies" is answered by reviews saying so, not by long-term follow-up
    if assertion.long_term and not evidence.long_term and assertion.asserts != "evidence_lacking":
        weeks = f" (follow-up {evidence.follow_up_weeks:g} weeks)" if evidence.follow_up_weeks else ""
        stops.append(f"no long-term follow-up{weeks}")
    return Directness(not stops, not stops and not lesser, tuple(stops or lesser))
