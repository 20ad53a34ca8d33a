"""Study design, population and sample size of a PubMed record, and the evidence level they give.

Decided from the strongest signal available, in this order: PubMed publication types (assigned by
NLM indexers), then MeSH check tags (Humans, Animals, Cells, Cultured), then cue phrases in the
title and abstract. The signal that decided is returned with the result so an analyst can audit it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from pipeline.records import PubmedRecord

# Lower is stronger; the order the comparison stage weighs evidence by.
EVIDENCE_LEVELS = {
    "systematic_review": 1,
    "rct": 2,
    "non_randomised_clinical": 3,
    "case_series_or_report": 4,
    "animal": 5,
    "in_vitro": 6,
    "narrative_review": 7,
    "other": 8,
}

_PUB_TYPE_DESIGNS = [
    ({"Systematic Review", "Meta-Analysis"}, "systematic_review"),
    ({"Randomized Controlled Trial"}, "rct"),
    ({"Clinical Trial", "Clinical Trial, Phase I", "Clinical Trial, Phase II", "Clinical Trial, Phase III",
      "Clinical Trial, Phase IV", "Controlled Clinical Trial", "Observational Study", "Multicenter Study",
      "Pragmatic Clinical Trial", "Clinical Study", "Evaluation Study"}, "non_randomised_clinical"),
    ({"Case Reports"}, "case_series_or_report"),
]
_TEXT_DESIGNS = [
    (re.compile(r"\b(systematic(ally)? review|meta-analys[ie]s|metaanalys[ie]s)\b", re.I), "systematic_review"),
    (re.compile(r"\b(randomi[sz]ed|double-blind(ed)?|placebo-controlled)\b.{0,60}\b(trial|study)\b", re.I), "rct"),
    (re.compile(r"\b(case report|case series|a \d{1,3}-year-old (wo)?man|we report (a|two|three) (patients?|cases?))\b", re.I),
     "case_series_or_report"),
    (re.compile(r"\b(prospective|retrospective|open-label|single-arm|pilot) (\w+ )?(study|trial|cohort)\b|"
                r"\b(patients|participants|volunteers|subjects) (received|were treated|underwent)\b", re.I),
     "non_randomised_clinical"),
    (re.compile(r"\b(mice|mouse|murine|rats?|rabbits?|C57BL/6|in vivo model|animal models?)\b", re.I), "animal"),
    (re.compile(r"\b(in vitro|cultured|cell lines?|cell culture)\b", re.I), "in_vitro"),
    (re.compile(r"^(.*\breview\b.*|.*\b(hype|perspective|commentary|overview)\b.*)$", re.I), "narrative_review"),
]
_ANIMAL_MESH = {"Animals", "Mice", "Rats", "Mice, Inbred C57BL", "Rabbits", "Swine", "Disease Models, Animal"}
_SAMPLE = re.compile(
    r"\b(\d{1,3}(?:,\d{3})+|\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty)\s+"
    r"(?:\w+\s+){0,3}?(patients|participants|subjects|men|women|volunteers|individuals|children|adults|cases)\b"
    r"|\bn\s*=\s*(\d{1,6})\b", re.I)
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "twenty": 20}


@dataclass(frozen=True)
class StudyDesign:
    design: str
    evidence_level: int
    population: str  # human, animal, cell, mixed, unknown
    sample_size: int | None
    signal: str  # what decided the design, e.g. "publication type: Randomized Controlled Trial"


def _population(mesh: set[str], text: str, design: str) -> str:
    human = "Humans" in mesh or design in {"rct", "non_randomised_clinical", "case_series_or_report"} or bool(
        re.search(r"\b(patients|participants|volunteers|men|women|humans?)\b", text, re.I))
    animal = bool(mesh & _ANIMAL_MESH) or design == "animal"
    cell = "Cells, Cultured" in mesh or design == "in_vitro"
    kinds = [k for k, present in (("human", human), ("animal", animal), ("cell", cell)) if present]
    if len(kinds) > 1 and design in {"animal", "in_vitro"}:
        kinds = ["animal" if design == "animal" else "cell"]
    return kinds[0] if len(kinds) == 1 else ("mixed" if kinds else "unknown")


def sample_size(text: str) -> int | None:
    """The largest participant count stated in the text ("60 men with AGA", "n = 24")."""
    sizes = []
    for match in _SAMPLE.finditer(text):
        raw = match.group(1) or match.group(3)
        value = _NUMBER_WORDS.get(raw.lower()) if raw.isalpha() else int(raw.replace(",", ""))
        if value:
            sizes.append(value)
    return max(sizes) if sizes else None


def classify_study(record: PubmedRecord) -> StudyDesign:
    return classify_text(record.title, record.abstract, record.pub_types, [m.descriptor for m in record.mesh])


def classify_text(title: str, abstract: str, pub_types: Iterable[str], mesh_descriptors: Iterable[str]) -> StudyDesign:
    """The design of a record given as its stored columns (used to backfill databases)."""
    text = f"{title}\n{abstract}"
    pub_types = set(pub_types)
    mesh = set(mesh_descriptors)
    design = signal = None
    for types, candidate in _PUB_TYPE_DESIGNS:
        hit = sorted(pub_types & types)
        if hit:
            design, signal = candidate, f"publication type: {hit[0]}"
            break
    if design is None:
        for pattern, candidate in _TEXT_DESIGNS:
            target = title if candidate == "narrative_review" else text
            match = pattern.search(target)
            if match:
                design, signal = candidate, f"text: {match.group(0)[:60]!r}"
                break
    if design is None and "Review" in pub_types:
        design, signal = "narrative_review", "publication type: Review"
    if design is None:
        if mesh & _ANIMAL_MESH and "Humans" not in mesh:
            design, signal = "animal", "MeSH: Animals"
        else:
            design, signal = "other", "no design signal"
    population = _population(mesh, text, design)
    size = sample_size(abstract) if population in {"human", "mixed"} else None
    return StudyDesign(design, EVIDENCE_LEVELS[design], population, size, signal)
