"""The domain knowledge the comparison uses, read from ``config/lexicon/evidence.toml``.

Outcomes form a hierarchy (category → levels: hair growth → density, count, thickness, regrowth), and
interventions are families (exosomes, with their sources; secretome; stem cells; PRP ...); comparators,
time frames, populations and the cues of an evidence frame sit beside them. Each entry matches by concept
id (what the NLP stage linked) or by surface pattern, so an analyst widens the topic by editing the file:
no Python changes. ``load()`` is cached per path; ``EXOCLAIMS_DOMAIN`` points it at another file.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from pipeline.config import PROJECT_ROOT

DEFAULT_PATH = PROJECT_ROOT / "config" / "lexicon" / "evidence.toml"


@dataclass(frozen=True)
class Entry:
    """One outcome category or level, intervention family or source, or comparator."""

    key: str  # "hair_growth", "hair_growth/density", "exosomes/msc", "medications"
    name: str
    concepts: frozenset[str]
    patterns: tuple[re.Pattern, ...]
    covers: tuple[str, ...] = ()  # outcome keys whose evidence also speaks to this one
    implies: tuple[str, ...] = ()  # less specific levels this one includes ("telogen-to-anagen" includes "anagen")
    population: str | None = None  # an outcome only shown in this population ("cells": cell proliferation)
    # the direction naming this level asserts ("wakes dormant follicles": anagen induced, an increase)
    direction: str | None = None
    # the patterns as one alternation: its leftmost match is the earliest of theirs, found in one pass
    any_pattern: re.Pattern | None = None

    def position(self, text: str, concept_ids: Iterable[str] = ()) -> int | None:
        """Where the entry is first mentioned in ``text``, None when it is not; a concept match that no pattern
        places counts as mentioned after the text (``len(text)``)."""
        m = self.any_pattern.search(text) if self.any_pattern is not None else None
        if m is None and set(concept_ids) & self.concepts:
            return len(text)
        return m.start() if m else None

    def matches(self, text: str, concept_ids: Iterable[str] = ()) -> bool:
        return self.position(text, concept_ids) is not None


@dataclass(frozen=True)
class Hierarchy:
    """A category and its more specific levels (config order: the first level that matches is taken)."""

    category: Entry
    levels: tuple[Entry, ...]

    def concepts(self) -> frozenset[str]:
        return self.category.concepts.union(*(level.concepts for level in self.levels))


@dataclass(frozen=True)
class Condition:
    """A form of hair loss a claim can be about ([conditions] of the domain file)."""

    key: str
    name: str
    pattern: re.Pattern
    only: bool  # a claim about it is answered only by records about it, not by those of hair loss in general


@dataclass(frozen=True)
class Statement:
    """A kind of statement about the field ("no exosome product is approved") that only records stating the same
    kind of fact speak to (``[statements.*]``; :mod:`pipeline.compare.statements`)."""

    key: str  # "approval", "quality", ...
    name: str
    assertion: re.Pattern  # finds the kind in an article claim
    record: re.Pattern | None  # finds the sentences of a record that state it
    rule: str  # approval, states, studied, follow_up, none
    claim_types: frozenset[str] = frozenset()  # the claim types it applies to; empty: all
    takes: frozenset[str] = frozenset()  # claim types it takes even where its pattern finds nothing ("regulatory")
    requires: str | None = None  # "no_intervention": the sentence names no treatment; "no_effect": no hair outcome
    population: str | None = None  # "cells": the records stating it are preclinical evidence
    shared: bool = False  # a record counts only where it states the same fact: a cue word in both sentences
    same_fact: tuple[re.Pattern, ...] = ()  # with `shared`: kinds of fact whose words are interchangeable
    compares: bool = False  # its records make the comparison a claim of this kind makes ("safer than cell therapy")
    extra: dict[str, re.Pattern] = field(default_factory=dict)  # also, ignore, and the rule's (negation, exclusive ...)


@dataclass(frozen=True)
class Domain:
    outcomes: tuple[Hierarchy, ...]
    interventions: tuple[Hierarchy, ...]  # families with their sources as levels
    comparators: tuple[Entry, ...]
    comparison_cue: re.Pattern
    implied_comparison: re.Pattern | None  # "more effective", with nothing named to compare with
    same_intervention: str
    same_outcome: tuple[str, ...]
    harmful_outcomes: frozenset[str]
    human_designs: frozenset[str]
    preclinical_designs: frozenset[str]
    long_term: re.Pattern
    time_units: dict[str, float]
    long_term_weeks: float
    populations: dict[str, re.Pattern]  # people, animals, cells
    control_arm: re.Pattern
    sponsor: re.Pattern
    lacking: re.Pattern
    evidence_absence: re.Pattern
    single_study: re.Pattern
    no_harm: re.Pattern  # "no notable adverse effects", "side effects were rare"
    harm: re.Pattern | None  # "raise concerns about the quality and safety"
    finding: re.Pattern  # a sentence reporting what a study found ("we observed", "patients", "significantly")
    outcome_context: re.Pattern | None  # outcomes named after it are a purpose, not what is claimed
    outcome_aside: re.Pattern | None  # outcomes in the phrase after it are set aside ("besides hair growth, ...")
    mechanism: re.Pattern | None  # how an effect comes about ("by transferring growth factors")
    not_checkable: dict[str, re.Pattern]  # recommendation, future, definition, promotion
    hedges: re.Pattern
    framing_hedge: re.Pattern | None  # hedges the whole sentence wherever it stands ("the thinking is that")
    frequent_harm: re.Pattern | None  # a harm claimed to be common: refuted by studies that saw little harm
    unspecific_harm: re.Pattern | None  # a harm any report of a reaction shows ("inflammation at the injection site")
    statements: tuple[Statement, ...]  # kinds of statement about the field, in the order they are tried
    small_n: int  # human evidence with fewer participants in all is imprecise
    large_trial_n: int  # the size of RCT an evidence-absence claim ("larger trials are needed") asks for
    version: str
    # an efficacy claim that names no outcome but says the treatment works ("exosomes can work") claims the topic's
    # main outcome (``works_outcome``)
    works: re.Pattern | None = None
    works_outcome: str | None = None
    # a treatment used with another ("alongside hair transplantation"): only a record of that combination speaks to it
    combination_cue: re.Pattern | None = None
    # families whose mention makes an article's unnamed claims about ``same_intervention`` (comparison.article_topic)
    topic_families: tuple[str, ...] = ()
    # forms of hair loss: a claim about one is not answered by records about another
    conditions: tuple[Condition, ...] = ()

    def condition(self, key: str) -> Condition:
        return next(c for c in self.conditions if c.key == key)

    def condition_of(self, text: str) -> str | None:
        """The one condition a text names, None where it names none or several ("unlike AGA, AA is autoimmune")."""
        named = [c.key for c in self.conditions if c.pattern.search(text)]
        return named[0] if len(named) == 1 else None

    @functools.cached_property
    def intervention_concepts(self) -> frozenset[str]:
        """Every concept id of every intervention family and source."""
        return frozenset().union(*(h.concepts() for h in self.interventions))

    def family(self, key: str) -> Hierarchy:
        return next(h for h in self.interventions if h.category.key == key)

    def outcome(self, key: str) -> Hierarchy:
        return next(h for h in self.outcomes if h.category.key == key)

    def outcome_entry(self, key: str) -> Entry | None:
        for h in self.outcomes:
            for entry in (h.category, *h.levels):
                if entry.key == key:
                    return entry
        return None


def _families(keys: list[str], raw: dict) -> tuple[str, ...]:
    unknown = [k for k in keys if k not in raw.get("interventions", {})]
    if unknown:
        raise ValueError(f"[retrieval] topic_families: {', '.join(unknown)} not among the [interventions] families")
    return tuple(keys)


def _compile(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.I)


def _entry(key: str, table: dict) -> Entry:
    patterns = tuple(table.get("patterns", ()))
    return Entry(key, table.get("name", key.rsplit("/", 1)[-1].replace("_", " ")), frozenset(table.get("concepts", ())),
                 tuple(_compile(p) for p in patterns), tuple(table.get("covers", ())),
                 tuple(table.get("implies", ())), table.get("population"), table.get("direction"),
                 _compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None)


def _hierarchies(tables: dict, child: str) -> tuple[Hierarchy, ...]:
    return tuple(Hierarchy(_entry(key, table), tuple(_entry(f"{key}/{sub}", t) for sub, t in table.get(child, {}).items()))
                 for key, table in tables.items())


_STATEMENT_KEYS = {"name", "assertion", "record", "rule", "claim_types", "takes", "requires", "population", "shared",
                   "same_fact", "compares"}
_RULES = {"approval", "states", "studied", "unstudied", "follow_up", "none"}


_REQUIRES = {None, "no_intervention", "no_effect"}


def _statement(key: str, table: dict) -> Statement:
    if table.get("rule") not in _RULES:
        raise ValueError(f"[statements.{key}]: rule must be one of {sorted(_RULES)}, not {table.get('rule')!r}")
    if "assertion" not in table:
        raise ValueError(f"[statements.{key}]: needs an `assertion` pattern")
    if not isinstance(table.get("same_fact", []), list):
        raise ValueError(f"[statements.{key}]: same_fact must be a list of patterns")
    if table.get("requires") not in _REQUIRES:
        raise ValueError(f"[statements.{key}]: requires must be no_intervention or no_effect, not "
                         f"{table.get('requires')!r}")
    return Statement(key, table.get("name", key.replace("_", " ")), _compile(table["assertion"]),
                     _compile(table["record"]) if "record" in table else None, table["rule"],
                     frozenset(table.get("claim_types", ())), frozenset(table.get("takes", ())), table.get("requires"),
                     table.get("population"), bool(table.get("shared", False)),
                     tuple(_compile(pattern) for pattern in table.get("same_fact", ())), bool(table.get("compares", False)),
                     {k: _compile(v) for k, v in table.items() if k not in _STATEMENT_KEYS})


def parse(text: str) -> Domain:
    """A Domain from the text of an evidence.toml."""
    raw = tomllib.loads(text)
    retrieval, designs = raw["retrieval"], raw["designs"]
    comparators = dict(raw.get("comparators", {}))
    cue = comparators.pop("cue", r"\b(than|compared (with|to)|versus|vs\.?|unlike)\b")
    implied = comparators.pop("implied", None)
    combination = comparators.pop("combination", None)
    context = raw.get("outcome_context", {})
    time, evidence, checkable = raw["time"], raw["evidence"], raw.get("checkable", {})
    return Domain(
        outcomes=_hierarchies(raw.get("outcomes", {}), "levels"),
        interventions=_hierarchies(raw.get("interventions", {}), "sources"),
        comparators=tuple(_entry(key, table) for key, table in comparators.items()),
        comparison_cue=_compile(cue),
        implied_comparison=_compile(implied) if implied else None,
        same_intervention=retrieval["same_intervention"],
        same_outcome=tuple(retrieval["same_outcome"]),
        topic_families=_families(retrieval.get("topic_families", [retrieval["same_intervention"]]), raw),
        harmful_outcomes=frozenset(retrieval["harmful_outcomes"]),
        human_designs=frozenset(designs["human"]),
        preclinical_designs=frozenset(designs["preclinical"]),
        long_term=_compile(time["long_term"]),
        time_units={k: float(v) for k, v in time["units"].items()},
        long_term_weeks=float(time.get("long_term_weeks", 52)),
        populations={k: _compile(v) for k, v in raw["populations"].items()},
        conditions=tuple(Condition(key, table.get("name", key.replace("_", " ")), _compile(table["pattern"]),
                                   bool(table.get("only", False))) for key, table in raw.get("conditions", {}).items()),
        control_arm=_compile(evidence["control_arm"]),
        sponsor=_compile(evidence["sponsor"]),
        lacking=_compile(evidence["lacking"]),
        evidence_absence=_compile(evidence["evidence_absence"]),
        single_study=_compile(evidence["single_study"]),
        no_harm=_compile(evidence["no_harm"]),
        harm=_compile(evidence["harm"]) if "harm" in evidence else None,
        finding=_compile(evidence["finding"]),
        outcome_context=_compile(context["cue"]) if "cue" in context else None,
        outcome_aside=_compile(context["aside"]) if "aside" in context else None,
        works=_compile(context["works"]) if "works" in context else None,
        works_outcome=context.get("works_outcome"),
        combination_cue=_compile(combination) if combination else None,
        mechanism=_compile(evidence["mechanism"]) if "mechanism" in evidence else None,
        not_checkable={k: _compile(v) for k, v in checkable.items()},
        hedges=_compile(raw["strength"]["hedges"]),
        framing_hedge=_compile(raw["strength"]["framing"]) if "framing" in raw["strength"] else None,
        frequent_harm=_compile(evidence["frequent_harm"]) if "frequent_harm" in evidence else None,
        unspecific_harm=_compile(evidence["unspecific_harm"]) if "unspecific_harm" in evidence else None,
        statements=tuple(_statement(key, table) for key, table in raw.get("statements", {}).items()),
        small_n=int(raw["certainty"]["small_n"]),
        large_trial_n=int(raw["certainty"]["large_trial_n"]),
        version=hashlib.sha256(text.encode()).hexdigest()[:12],
    )


@functools.lru_cache(maxsize=8)
def _load(path: str) -> Domain:
    return parse(Path(path).read_text(encoding="utf-8"))


def load(path: Path | str | None = None) -> Domain:
    """The domain of ``path``, else of ``EXOCLAIMS_DOMAIN``, else of ``config/lexicon/evidence.toml``."""
    return _load(str(path or os.environ.get("EXOCLAIMS_DOMAIN") or DEFAULT_PATH))


def exosome_family(domain: Domain | None = None) -> frozenset[str]:
    """Concept ids of the intervention family that folds together for retrieval."""
    domain = domain or load()
    return domain.family(domain.same_intervention).category.concepts  # not its sources' cell types


def related_hair_outcomes(domain: Domain | None = None) -> frozenset[str]:
    """Concept ids of the outcome categories that are one outcome for retrieval."""
    domain = domain or load()
    return frozenset().union(*(domain.outcome(key).concepts() for key in domain.same_outcome))
