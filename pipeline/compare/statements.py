"""Statements about the field (approval, product quality, trials under way ...), judged by the records stating them.

An article that says "no exosome product has FDA approval" asserts nothing about hair growth, so hair-growth
studies neither support nor contradict it. Such a claim carries a statement kind in its frame
(:func:`pipeline.compare.frames.statement_kind`, from ``[statements.*]`` of ``config/lexicon/evidence.toml``)
and is decided here, once per comparison:

1. :func:`stated_facts` reads every record's title and abstract, sentence by sentence, for the facts each kind's
   ``record`` pattern finds ("the use of subdermal injection has not been approved");
2. :func:`decide_statement` judges the claim by its kind's rule against those facts alone (and, for a time
   course, the follow-up of human studies that report the effect). A kind that no record states is
   **not addressed**, never contradicted by efficacy studies.

Certainty counts the independent records behind the verdict: one gives very low, two or three low, four or more
moderate; statements only cell biology backs (what vesicles carry) stay very low.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from pipeline.compare.domain import Domain, Statement, load
from pipeline.compare.frames import OTHER_INTERVENTION, Frame, RecordFacts, intervention_of, outcomes_of
from pipeline.compare.study_design import EVIDENCE_LEVELS
from pipeline.compare.verdicts import ClaimVerdict, Verdict
from pipeline.records import Claim

QUOTE_CHARS = 110
MAX_QUOTED = 2
PRIMARY_HUMAN = ("rct", "non_randomised_clinical")  # studies that test a treatment in people
# studies whose reports say when an effect showed in people: what a time course is checked against
TIME_COURSE_DESIGNS = (*PRIMARY_HUMAN, "case_series_or_report")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])|(?<=[a-z]{2}[.!?])(?=[A-Z][a-z])")
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6}
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, **_ORDINALS}
_DURATION = re.compile(r"\b(\d+(?:\.\d)?|one|two|three|four|five|six|first|second|third|fourth|fifth|sixth)"
                       r"(?:[- ](?:to|or)[- ](\d+|two|three|four|five|six))?[- ](days?|weeks?|months?)\b", re.I)
_ORDINAL_MONTH = re.compile(r"\b(first|second|third|fourth|fifth|sixth) month\b", re.I)
# "in the 4th and 12th weeks", "at week 8", "month 3"
_NUMBERED_UNIT = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b(?:\s*(?:,|and|or|to)\s*\d+(?:st|nd|rd|th))*\s+"
                            r"(weeks?|months?)\b|\b(weeks?|months?)\s+(\d+)\b", re.I)
# a record sentence that reports an effect seen ("a significant increase in hair density was observed", "regrowth
# appeared"): the time it names is when the effect showed
_EFFECT_SEEN = re.compile(r"\b(increas\w*|improv\w*|regrowth|regrew|rose|gains?|gained|thicken\w*|more hairs?)\b", re.I)
# ... and not the methods' schedule: "improvements were assessed every 2 weeks"
_SCHEDULE = re.compile(r"\b(assessed|evaluated|measured|every|administered|injected|sessions?)\b", re.I)
# where one independent clause ends and the next begins: "sold without a prescription, and the FDA has approved it"
_CLAUSE_BREAK = re.compile(r";|,\s+(?:and|but|yet|so|while|whereas)\s+(?!to\b)|\s+but\s+", re.I)


@dataclass(frozen=True)
class StatedFact:
    """One record sentence that states a fact of one kind."""

    pmid: str
    kind: str
    sentence: str
    design: str
    family: str | None  # the treatment the sentence is about: the one it names, else its record's
    approved: bool | None = None  # approval facts: whether ``names`` (else ``family``) are approved
    names: frozenset[str] = frozenset()  # approval facts: the treatment families the sentence names
    exclusive: bool = False  # "the only approved medications are ...": every treatment not named is not approved


@dataclass(frozen=True)
class ShownEffect:
    """A human study that reports an effect of a treatment, and how long it followed people: what a time course
    is checked against."""

    pmid: str
    family: str | None
    follow_up_weeks: float  # how long it followed people (where it does not say: when it reports the effect)
    effect_weeks: float | None = None  # the earliest time the record reports the effect at, where it says

    @property
    def seen_by_weeks(self) -> float:
        """When the study shows the effect: the earliest time it reports it at, else its follow-up."""
        return self.follow_up_weeks if self.effect_weeks is None else self.effect_weeks


@dataclass(frozen=True)
class StatementEvidence:
    """What statement claims are judged by, found once per comparison."""

    facts: Mapping[str, Sequence[StatedFact]]
    effects: Sequence[ShownEffect] = ()
    records: Mapping[str, RecordFacts] = field(default_factory=dict)


def statement_evidence(records: Mapping[str, RecordFacts], frames: Mapping[str, Frame], retracted: Iterable[str] = (),
                       domain: Domain | None = None) -> StatementEvidence:
    """The facts records state (:func:`stated_facts`) and the human studies that show an effect
    (:func:`shown_effects`)."""
    domain = domain or load()
    return StatementEvidence(stated_facts(records, retracted, domain), shown_effects(frames, domain, records), records)


def split_sentences(text: str) -> list[str]:
    """Sentences of a title or abstract, also where the source lost the space after the full stop."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _families(text: str, domain: Domain) -> frozenset[str]:
    return frozenset(h.category.key for h in domain.interventions if h.category.matches(text))


def stated_facts(records: Mapping[str, RecordFacts], retracted: Iterable[str] = (),
                 domain: Domain | None = None) -> dict[str, list[StatedFact]]:
    """Per statement kind, the record sentences that state it, strongest design first; retracted records left out."""
    domain = domain or load()
    kinds = [kind for kind in domain.statements if kind.record is not None]
    found: dict[str, list[StatedFact]] = {kind.key: [] for kind in domain.statements}
    if not kinds:
        return found
    anywhere = re.compile("|".join(f"(?:{kind.record.pattern})" for kind in kinds), re.I)
    skip = set(retracted)
    for pmid in sorted(records):
        record = records[pmid]
        whole = f"{record.title}\n{record.abstract}"
        if pmid in skip or not anywhere.search(whole):
            continue
        topic: str | None = None
        for sentence in split_sentences(record.title) + split_sentences(record.abstract):
            if not anywhere.search(sentence):
                continue
            if topic is None:  # what the record is about, read once and only where needed
                topic = intervention_of(record.title, (), domain) or intervention_of(record.abstract, (), domain) or ""
            named = intervention_of(sentence, (), domain)
            for kind in kinds:
                if not kind.record.search(sentence):
                    continue
                if "ignore" in kind.extra and kind.extra["ignore"].search(sentence):
                    continue
                if "record_also" in kind.extra and not kind.extra["record_also"].search(sentence):
                    continue
                if kind.requires == "no_intervention" and named is not None:
                    continue  # "exosomes improved alopecia in patients" states nothing about alopecia itself
                family = (named or topic or "").split("/")[0] or None
                fact = StatedFact(pmid, kind.key, sentence, record.design, family)
                if kind.rule == "approval":
                    exclusive = kind.extra.get("exclusive")
                    names = _families(sentence, domain)
                    fact = StatedFact(pmid, kind.key, sentence, record.design, family,
                                      approved=not denies_approval(sentence, kind),
                                      names=names, exclusive=bool(exclusive and names and exclusive.search(sentence)))
                found[kind.key].append(fact)
    for facts in found.values():
        facts.sort(key=lambda f: (EVIDENCE_LEVELS.get(f.design, 9), f.pmid))
    return found


def shown_effects(frames: Mapping[str, Frame], domain: Domain | None = None,
                  records: Mapping[str, RecordFacts] | None = None) -> list[ShownEffect]:
    """Human studies and case reports (of people, reporting a finding) that show a benefit on an outcome the
    comparison folds together (hair growth, hair cycle), with when they showed it: the earliest time the record's
    abstract reports the effect at (:func:`effect_weeks`), else its follow-up. What answers "results show within
    weeks" and "growth begins at about the fourth month"."""
    domain = domain or load()
    shown: dict[str, ShownEffect] = {}
    for frame in frames.values():
        if frame.pmid is None or frame.pmid in shown or frame.design not in TIME_COURSE_DESIGNS or not frame.finding \
                or frame.population != "people" or frame.direction != "increase":
            continue
        if not any(o.split("/")[0] in domain.same_outcome for o in frame.outcomes):
            continue
        record = (records or {}).get(frame.pmid)
        seen = effect_weeks(record.abstract, domain) if record is not None else None
        if frame.follow_up_weeks is None and seen is None:
            continue
        shown[frame.pmid] = ShownEffect(frame.pmid, frame.family, frame.follow_up_weeks or seen, seen)
    return sorted(shown.values(), key=lambda s: (s.seen_by_weeks, s.pmid))


def effect_weeks(abstract: str, domain: Domain | None = None) -> float | None:
    """The earliest time, in weeks, at which an abstract reports an effect seen: "a significant increase in hair
    density was observed in the 4th and 12th weeks" gives 4, "within one month, vellus hair regrowth appeared"
    4.3; None where no sentence reporting an effect names a time."""
    domain = domain or load()
    times = [span[0] for sentence in split_sentences(abstract or "")
             if _EFFECT_SEEN.search(sentence) and not _SCHEDULE.search(sentence)
             for span in [claimed_weeks(sentence, domain)] if span is not None and span[0] > 0]
    return min(times) if times else None


def claimed_weeks(text: str, domain: Domain | None = None) -> tuple[float, float] | None:
    """The time a time-course claim names, in weeks, as (earliest, latest): "two to three months" is (8.7, 13.0),
    "the fourth month" (13.0, 17.4)."""
    domain = domain or load()
    spans: list[tuple[float, float]] = []
    for m in _DURATION.finditer(text):
        unit = m.group(3).lower()
        per = domain.time_units.get(unit) or domain.time_units.get(unit + "s")
        low = _count(m.group(1))
        if per is None or low is None:
            continue
        high = _count(m.group(2)) if m.group(2) else low
        spans.append((low * per, (high or low) * per))
    for m in _ORDINAL_MONTH.finditer(text):
        n = _ORDINALS[m.group(1).lower()]
        per = domain.time_units.get("months", 4.345)
        spans.append(((n - 1) * per, n * per))
    for m in _NUMBERED_UNIT.finditer(text):
        number, unit = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        per = domain.time_units.get(unit.lower()) or domain.time_units.get(unit.lower() + "s")
        if per is not None:
            spans.append((float(number) * per, float(number) * per))
    if not spans:
        return None
    return round(min(s[0] for s in spans), 1), round(max(s[1] for s in spans), 1)


def _count(word: str | None) -> float | None:
    if word is None:
        return None
    word = word.lower()
    return float(word) if word[0].isdigit() else _NUMBERS.get(word)


def _certainty(n_records: int, preclinical: bool) -> str:
    if preclinical or n_records <= 1:
        return "very low"
    return "low" if n_records <= 3 else "moderate"


def _quote(fact: StatedFact) -> str:
    text = fact.sentence if len(fact.sentence) <= QUOTE_CHARS else fact.sentence[:QUOTE_CHARS - 1].rstrip() + "…"
    return f'PMID {fact.pmid}: "{text}"'


def _verdict(claim: Claim, kind: Statement, verdict: Verdict, support: Sequence[StatedFact],
             against: Sequence[StatedFact], n_links: int, why: str) -> ClaimVerdict:
    """A verdict from the facts on each side, one record once, with their sentences quoted in the reason."""
    support_pmids = tuple(dict.fromkeys(f.pmid for f in support))
    against_pmids = tuple(dict.fromkeys(f.pmid for f in against if f.pmid not in support_pmids))
    pmids = support_pmids + against_pmids
    if not pmids:
        return ClaimVerdict(claim.claim_id, "not addressed", None, None, 0, 0, n_links, (), (),
                            f"{kind.name}: {why} → not addressed", "very low", ())
    deciding = {"supported": support_pmids, "supported only by preclinical evidence": support_pmids,
                "contradicted": against_pmids}.get(verdict, pmids)
    facts = {f.pmid: f for f in (*support, *against)}
    designs = [facts[p].design for p in deciding]
    best = min(designs, key=lambda d: EVIDENCE_LEVELS.get(d, 9))
    certainty = _certainty(len(deciding), verdict == "supported only by preclinical evidence")
    quoted = "; ".join(_quote(facts[p]) for p in deciding[:MAX_QUOTED])
    more = f" and {len(deciding) - MAX_QUOTED} more" if len(deciding) > MAX_QUOTED else ""
    return ClaimVerdict(
        claim_id=claim.claim_id, verdict=verdict, best_evidence_level=EVIDENCE_LEVELS.get(best), best_design=best,
        n_supports=len(support_pmids), n_contradicts=len(against_pmids), n_unrelated=n_links,
        supporting_pmids=support_pmids, contradicting_pmids=against_pmids,
        reason=f"{kind.name}: {why} ({quoted}{more}) → {verdict}, {certainty} certainty",
        certainty=certainty, key_pmids=deciding[:4])


def decide_statement(claim: Claim, assertion: Frame, evidence: StatementEvidence, n_links: int = 0,
                     domain: Domain | None = None) -> ClaimVerdict:
    """The verdict of a claim that makes a statement about the field (``assertion.statement``), from the facts
    records state, the human studies that show an effect and the records' designs (:func:`statement_evidence`);
    ``n_links``: the claim's other evidence links, counted as unrelated."""
    domain = domain or load()
    kind = next(k for k in domain.statements if k.key == assertion.statement)
    stated = evidence.facts.get(kind.key, ())
    records, effects = evidence.records, evidence.effects
    family = assertion.family
    if kind.rule == "approval":
        approved = not denies_approval(claim.sentence, kind)
        stated = _same_jurisdiction(claim.sentence, stated, kind)
        support, against = [], []
        for fact in stated:
            if fact.exclusive:
                if family in (None, OTHER_INTERVENTION):
                    continue  # "the only approved medications are ..." says nothing of a device or an unknown product
                holds = (family in fact.names) == approved
            elif fact.family is not None and fact.family == family:
                holds = fact.approved == approved
            else:
                continue
            (support if holds else against).append(fact)
        verdict: Verdict = "supported" if support and not against else "contradicted" if against and not support \
            else "mixed"
        return _verdict(claim, kind, verdict, support, against, n_links,
                        f"records stating the approval status of {_name(family, domain)}" if support or against
                        else f"no record states the approval status of {_name(family, domain)}")
    if kind.rule in ("states", "none"):
        own = kind.requires != "no_intervention"
        support = [f for f in stated if not own or family is None or f.family in (None, family)]
        if kind.shared:
            support = [f for f in support if _same_fact(kind, claim.sentence, f.sentence)]
        verdict = "supported only by preclinical evidence" if kind.population == "cells" else "supported"
        return _verdict(claim, kind, verdict, support, (), n_links,
                        "records state it" if support else "no record states it")
    if kind.rule == "studied":
        studies = sorted({pmid for pmid, record in (records or {}).items() if record.design in PRIMARY_HUMAN
                          and _record_family(record, domain) == family and _same_topic(assertion, record, domain)})
        support = [StatedFact(pmid, kind.key, records[pmid].title, records[pmid].design, family) for pmid in studies]
        return _verdict(claim, kind, "supported", support, (), n_links,
                        f"human studies of {_name(family, domain)} exist" if support
                        else f"no human study of {_name(family, domain)}")
    if kind.rule == "unstudied":
        # "no randomised controlled trial has tested it": contradicted by the collection's trials of that treatment
        # (randomised ones where the claim says randomised); a qualified denial ("no large trials") is a gap
        randomised = kind.extra.get("randomised")
        designs = ("rct",) if randomised is not None and randomised.search(claim.sentence) else PRIMARY_HUMAN
        trials = sorted(pmid for pmid, record in (records or {}).items()
                        if record.design in designs and _record_family(record, domain) == family)
        against = [StatedFact(pmid, kind.key, records[pmid].title, records[pmid].design, family) for pmid in trials]
        return _verdict(claim, kind, "contradicted", (), against, n_links,
                        f"{'randomised ' if designs == ('rct',) else ''}trials of {_name(family, domain)} in people "
                        f"exist" if against else f"no trial of {_name(family, domain)} in the collection")
    # follow_up: "results within three months" by human studies that show the effect by then; "growth begins at
    # about the fourth month" contradicted by one that shows it earlier
    weeks = claimed_weeks(claim.sentence, domain)
    relevant = [e for e in effects if e.family == family]
    if "also" in kind.extra and not kind.extra["also"].search(claim.sentence):
        # taken by its claim type, but timing no result people see ("a second stage begins after 6-8 weeks")
        return _verdict(claim, kind, "not addressed", (), (), n_links, "it times no result a study could see")
    if weeks is None or not relevant:
        return _verdict(claim, kind, "not addressed", (), (), n_links,
                        "it names no time a study could check" if weeks is None
                        else f"no human study of {_name(family, domain)} reports an effect with its follow-up")
    earliest, latest = weeks
    lasting = kind.extra.get("lasting")
    if lasting is not None and lasting.search(claim.sentence):
        # how long results last: a study that followed people that long and still reports the effect
        held = [e for e in relevant if e.follow_up_weeks >= earliest]
        return _verdict(claim, kind, "supported", [_effect_fact(e, kind, records) for e in held], (), n_links,
                        f"human studies followed people for {earliest:g} weeks or more" if held
                        else f"no human study followed people for {earliest:g} weeks")
    after = kind.extra.get("onset_after")
    if after is not None and after.search(claim.sentence):
        earlier = [e for e in relevant if e.seen_by_weeks < earliest]
        against = [_effect_fact(e, kind, records) for e in earlier]
        return _verdict(claim, kind, "contradicted", (), against, n_links,
                        f"human studies show the effect before {earliest:g} weeks" if against
                        else f"no human study looked before {earliest:g} weeks")
    by = [e for e in relevant if e.seen_by_weeks <= latest]
    return _verdict(claim, kind, "supported", [_effect_fact(e, kind, records) for e in by], (), n_links,
                    f"human studies show the effect within {latest:g} weeks" if by
                    else f"no human study reports the effect within {latest:g} weeks")


def denies_approval(sentence: str, kind: Statement) -> bool:
    """Whether a sentence denies the approval it names: a negation (the kind's ``negation``) in a clause that
    names an approval. "Sold without a prescription, and the FDA has approved it" denies nothing; "no exosome
    product has been approved" and "it does not have FDA approval for hair loss, yet it is prescribed" do."""
    negation = kind.extra.get("negation")
    if negation is None:
        return False
    clauses = [c for c in _CLAUSE_BREAK.split(sentence)
               if kind.assertion.search(c) or kind.record and kind.record.search(c)]
    return any(negation.search(c) for c in clauses or [sentence])


def _same_fact(kind: Statement, claimed: str, stated: str) -> bool:
    """Whether a record sentence states the fact a claim states: a cue word in both ("genetic"), or both of one
    kind of fact whose words are interchangeable (``same_fact``: "millions lose hair" and "affects up to 80% of
    men" both say how common it is)."""
    if _cue_stems(kind.assertion, claimed) & _cue_stems(kind.record, stated):
        return True
    return any(fact.search(claimed) and fact.search(stated) for fact in kind.same_fact)


def _cue_stems(pattern: re.Pattern | None, text: str) -> set[str]:
    """The words a kind's pattern finds in a sentence, cut to their first six letters ("hormonal" ~ "hormones")."""
    if pattern is None:
        return set()
    return {w.lower()[:6] for m in pattern.finditer(text) for w in re.findall(r"[A-Za-z]{4,}", m.group(0))}


def _same_jurisdiction(sentence: str, facts: Sequence[StatedFact], kind: Statement) -> list[StatedFact]:
    """The facts that speak to the regulator an assertion names: "not approved in Japan" only by records naming
    Japan; an assertion naming the home regulator (the FDA) or none, by records naming it or none."""
    other, home = kind.extra.get("jurisdiction"), kind.extra.get("home")
    if other is None or home is not None and home.search(sentence):
        return list(facts)
    named = {m.group(0).lower() for m in other.finditer(sentence)}
    if not named:
        return list(facts)
    return [f for f in facts if named & {m.group(0).lower() for m in other.finditer(f.sentence)}]


def _effect_fact(effect: ShownEffect, kind: Statement, records: Mapping[str, RecordFacts] | None) -> StatedFact:
    record = (records or {}).get(effect.pmid)
    title = record.title if record else ""
    design = record.design if record else "non_randomised_clinical"
    when = f"effect reported by week {effect.effect_weeks:g}" if effect.effect_weeks is not None \
        else f"follow-up {effect.follow_up_weeks:g} weeks"
    return StatedFact(effect.pmid, kind.key, f"{title} ({when})", design, effect.family)


def _record_family(record: RecordFacts, domain: Domain) -> str | None:
    named = intervention_of(record.title, (), domain) or intervention_of(record.abstract, (), domain)
    return named.split("/")[0] if named else None


def _same_topic(assertion: Frame, record: RecordFacts, domain: Domain) -> bool:
    """A record about an outcome of the assertion's category (any, where the assertion names none)."""
    if not assertion.outcomes:
        return True
    found = {o.split("/")[0] for o in outcomes_of(f"{record.title} {record.abstract}", (), domain)}
    return any(o.split("/")[0] in found for o in assertion.outcomes)


def _name(family: str | None, domain: Domain) -> str:
    if family is None:
        return "it"
    known = [h for h in domain.interventions if h.category.key == family]
    return known[0].category.name if known else family.replace("_", " ")
