"""Sentence-role training data from the labelled sections of structured SciFact abstracts.

    python -m training.sentence_roles_data ../shared/corpora training/corpus/sentence_roles

The PubMed 200k RCT corpus was built from the labelled sections of structured abstracts: every
sentence takes the NLM category of the section it stands in. SciFact's abstracts come as lists of
sentences, and in structured ones the section headings are printed inline at the start of a
sentence ("BACKGROUND Cancer is ...", "METHODS AND FINDINGS We ...", "CONCLUSIONS: ..."), sometimes
alone ("RESEARCH DESIGN AND METHODS") and sometimes in the middle of a sentence the authors'
splitter failed to cut ("... with SpA.   METHODS Twenty patients ..."). We find them, map each
heading onto one of the five NLM categories (:data:`HEADINGS`), label every following sentence with
the current section and strip the heading, so the model learns from the text an unstructured
abstract would have.

Headings that are no sentence role (funding, trial registration, software availability) leave their
sentences out; an abstract with a heading that mixes two roles ("METHODS AND RESULTS", which NLM
files under RESULTS although half its sentences are methods) or an unlabelled opening is skipped
whole, as is one that does not open with a heading or whose headings name fewer than three roles or
no ending one (NLM's definition of a structured abstract: with fewer, one section holds several
roles). Abstracts SciFact does not flag as structured are used when they open with a
"Background:" style heading (mixed case, colon required). Abstracts are split, not sentences, into
train and dev (``--dev-fraction``, fixed ``--seed``).

Writes ``train.spacy`` and ``dev.spacy`` (one Doc per sentence, ``doc.cats`` one-hot over
:data:`LABELS`, ``doc.user_data`` with ``abstract_id``, ``index``, ``n_sentences`` and ``position``),
``role_priors.json`` (P(role | position bin) and P(role | previous role), estimated on train only; copy
it into the trained model's directory, where ``exoclaims_sentence_roles`` looks for it) and
``stats.json`` (counts per label and split, every heading seen and how it was mapped, skipped
abstracts by reason).
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from spacy.language import Language
from spacy.tokens import DocBin

from pipeline.nlp.sentence_roles import LABELS, PRIORS_FILE, RolePriors, relative_position

log = logging.getLogger(__name__)

SCIFACT_CORPUS = "scifact/corpus.jsonl.gz"

NOT_A_ROLE = "-"  # a section that is no sentence role: its sentences are left out, the abstract kept
UNMAPPABLE = "?"  # a section whose sentences mix roles: the whole abstract is skipped

_ROLE_HEADINGS: dict[str, tuple[str, ...]] = {
    "BACKGROUND": (
        "BACKGROUND", "INTRODUCTION", "CONTEXT", "RATIONALE", "MOTIVATION", "IMPORTANCE",
        "WHAT IS KNOWN ALREADY", "SUMMARY OF BACKGROUND DATA", "SUMMARY BACKGROUND DATA", "BACKGROUND DATA",
        "PROBLEM/CONDITION",
    ),
    # NLM files "BACKGROUND AND PURPOSE", "BACKGROUND/AIMS" and the like under OBJECTIVE
    "OBJECTIVE": (
        "OBJECTIVE", "OBJECTIVES", "AIM", "AIMS", "PURPOSE", "GOAL", "GOALS", "STUDY OBJECTIVE",
        "STUDY OBJECTIVES", "STUDY QUESTION", "PURPOSE OF REVIEW", "PURPOSE OF THE STUDY", "AIM OF THE STUDY",
        "BACKGROUND AND AIM", "BACKGROUND AND AIMS", "BACKGROUND/AIMS", "BACKGROUND AND STUDY AIMS",
        "BACKGROUND AND PURPOSE", "BACKGROUND AND OBJECTIVE", "BACKGROUND AND OBJECTIVES",
        "BACKGROUND/OBJECTIVES", "RATIONALE, AIMS AND OBJECTIVES", "AIMS AND OBJECTIVES", "AIMS/HYPOTHESIS",
        "AIM/PURPOSE", "SPECIFIC AIMS", "OBJECT", "QUESTION", "WHAT IS KNOWN AND OBJECTIVE",
    ),
    "METHODS": (
        "METHODS", "METHOD", "METHODOLOGY", "DESIGN", "STUDY DESIGN", "EXPERIMENTAL DESIGN", "SETTING",
        "SETTINGS", "PARTICIPANTS", "PATIENTS", "SUBJECTS", "POPULATION", "INTERVENTION", "INTERVENTIONS",
        "EXPOSURE", "EXPOSURES", "MEASUREMENTS", "MAIN OUTCOME", "MAIN OUTCOME MEASURE", "MAIN OUTCOME MEASURES",
        "MAIN OUTCOMES MEASURES", "MAIN OUTCOME MEASUREMENTS", "MAIN OUTCOMES AND MEASURES",
        "OUTCOME MEASURE", "OUTCOME MEASURES", "OUTCOMES MEASURED", "MATERIALS AND METHODS",
        "MATERIAL AND METHODS", "MATERIAL AND METHOD", "METHODS AND MATERIALS", "MATERIALS/METHODS",
        "PATIENTS AND METHODS", "SUBJECTS AND METHODS", "RESEARCH DESIGN AND METHODS", "DESIGN AND METHODS",
        "DESIGN AND SETTING", "SETTING AND PARTICIPANTS", "SETTING AND PATIENTS", "SUBJECTS/SETTING",
        "DESIGN, SETTING, AND PARTICIPANTS", "DESIGN, SETTINGS, AND PARTICIPANTS", "DESIGN, SETTING AND PARTICIPANTS",
        "DESIGN, SETTING, AND PATIENTS", "DESIGN, SETTING AND PATIENTS", "DESIGN, SETTING, AND POPULATION",
        "DATA SOURCES", "DATA SOURCE", "STUDY SELECTION", "DATA EXTRACTION", "DATA EXTRACTION AND SYNTHESIS",
        "STUDY SELECTION AND DATA EXTRACTION", "SEARCH STRATEGY", "SEARCH METHODS", "SELECTION CRITERIA",
        "DATA COLLECTION AND ANALYSIS", "REVIEW METHODS", "EVIDENCE ACQUISITION", "EVIDENCE",
        "STUDY DESIGN, SIZE AND DURATION", "STUDY DESIGN, SIZE, DURATION",
        "PARTICIPANTS/MATERIALS, SETTING AND METHODS", "PARTICIPANTS/MATERIALS, SETTING, METHODS", "NEW METHOD",
        "PROCESS", "CONSENSUS PROCESS", "STUDIES REVIEWED", "EXPERIMENTAL APPROACH", "INCLUSION CRITERIA",
        "DESIGN, SETTING, AND SUBJECTS", "RESEARCH DESIGN", "RESEARCH METHODS AND PROCEDURES",
        "STATISTICAL ANALYSIS", "STATISTICAL ANALYSES", "STATISTICAL ANALYSIS USED", "REPORTING PERIOD COVERED",
        "DESCRIPTION OF SYSTEM", "STUDY APPRAISAL AND DATA SYNTHESIS", "STUDY APPRAISAL AND SYNTHESIS METHODS",
    ),
    "RESULTS": (
        "RESULTS", "RESULT", "FINDINGS", "MAIN RESULTS", "RECENT FINDINGS", "KEY FINDINGS",
        "MEASUREMENTS AND MAIN RESULTS", "MEASUREMENT AND MAIN RESULTS", "DATA SYNTHESIS", "EVIDENCE SYNTHESIS",
        "MAIN RESULTS AND THE ROLE OF CHANCE", "KEY FINDINGS FROM EVIDENCE SYNTHESIS",
        "TABULATION, INTEGRATION, AND RESULTS", "COMPARISON WITH EXISTING METHOD",
        "COMPARISON WITH EXISTING METHODS", "KEY RESULTS",
    ),
    "CONCLUSIONS": (
        "CONCLUSIONS", "CONCLUSION", "INTERPRETATION", "CONCLUSIONS AND RELEVANCE", "CONCLUSION AND RELEVANCE",
        "SIGNIFICANCE", "GENERAL SIGNIFICANCE", "CONCLUSIONS/SIGNIFICANCE", "CONCLUSIONS AND SIGNIFICANCE",
        "CONCLUSIONS AND IMPLICATIONS", "CONCLUSIONS AND CLINICAL RELEVANCE", "CLINICAL RELEVANCE", "DISCUSSION",
        "DISCUSSION/CONCLUSION", "DISCUSSION/CONCLUSIONS", "CONCLUSION AND DISCUSSION", "IMPLICATIONS",
        "IMPLICATIONS FOR CANCER SURVIVORS", "WIDER IMPLICATIONS OF THE FINDINGS", "LIMITATIONS",
        "LIMITATIONS AND REASONS FOR CAUTION", "RECOMMENDATIONS", "SUMMARY", "SUMMARY ANSWER",
        "AUTHORS' CONCLUSIONS", "REVIEWER'S CONCLUSIONS", "REVIEWERS' CONCLUSIONS", "PRACTICE IMPLICATIONS",
        "ACTIONS TAKEN", "PUBLIC HEALTH ACTION",
    ),
    NOT_A_ROLE: (
        "FUNDING", "TRIAL REGISTRATION", "TRIAL REGISTRATION NUMBER", "CLINICAL TRIAL REGISTRATION",
        "CLINICAL TRIAL REGISTRATION URL", "REGISTRATION", "REVIEW REGISTRATION", "STUDY FUNDING/COMPETING INTERESTS",
        "STUDY FUNDING/COMPETING INTEREST", "STUDY FUNDING/COMPETING INTEREST(S)", "DISCLAIMER", "AVAILABILITY",
        "AVAILABILITY AND IMPLEMENTATION", "CONTACT", "SUPPLEMENTARY INFORMATION", "ENHANCED VERSION",
        "LAY SUMMARY", "KEY MESSAGES", "ETHICS AND DISSEMINATION", "TRIAL REGISTRY", "SYSTEMATIC REVIEW REGISTRATION",
        "EUDRACT NUMBER AND CLINICALTRIALSGOV IDENTIFIER",
    ),
    UNMAPPABLE: (
        "METHODS AND RESULTS", "METHOD AND RESULTS", "METHODS AND FINDINGS", "METHOD AND FINDINGS",
        "METHODS AND FINDING", "METHODOLOGY/PRINCIPAL FINDINGS", "METHODOLOGY/HYPOTHESES", "APPROACH AND RESULTS",
        "PRINCIPAL FINDINGS", "UNLABELLED", "UNLABELED", "CASE PRESENTATION", "CASE REPORT",
    ),
}

HEADINGS: dict[str, str] = {heading: label for label, headings in _ROLE_HEADINGS.items() for heading in headings}
"""Every known section heading (normalised, see :func:`normalise_heading`) and its role, or
:data:`NOT_A_ROLE` / :data:`UNMAPPABLE`."""


def normalise_heading(text: str) -> str:
    """Upper case, "&" read as "AND", single spaces, no trailing colon or full stop."""
    text = re.sub(r"\s*&\s*", " AND ", text.upper().replace("’", "'"))
    text = re.sub(r"\s*([,/])\s*", r"\1 ", text).replace("/ ", "/")
    return re.sub(r"\s+", " ", text).strip().rstrip(":.").strip()


def _heading_pattern(heading: str) -> str:
    words = re.split(r"(\s+|,\s*|/)", heading)
    parts = []
    for word in words:
        if not word:
            continue
        if word.isspace():
            parts.append(r"\s+")
        elif word.startswith(","):
            parts.append(r"\s*,\s*")
        elif word == "/":
            parts.append(r"\s*/\s*")
        elif word == "AND":
            parts.append(r"(?:AND|&)")
        else:
            parts.append(re.escape(word).replace("'", "['’]"))
    return "".join(parts)


_ALTERNATIVES = "|".join(_heading_pattern(h) for h in sorted(HEADINGS, key=len, reverse=True))
# all-caps heading, then a colon and/or white space, then the text (or nothing: a heading on its own)
_CAPS_HEADING = re.compile(rf"^\s*(?P<heading>{_ALTERNATIVES})(?:\s*:\s*|\s+|\s*$)(?P<rest>.*)$", re.S)
# "Background: ..." in mixed case needs its colon, or any sentence opening "Design" would be cut
_COLON_HEADING = re.compile(rf"^\s*(?P<heading>{_ALTERNATIVES})\s*:\s*(?P<rest>.*)$", re.S | re.I)
# a heading the authors' sentence splitter left inside a sentence, after the previous sentence's end
_INLINE_HEADING = re.compile(rf"(?<=[.!?)\]%])\s+(?=(?:{_ALTERNATIVES})(?:\s*:)?\s+[A-Z0-9(])")
# capitalised openings that look like an unknown heading (two all-caps words or more), for the stats
_CAPS_OPENING = re.compile(r"^\s*([A-Z][A-Z'\-]{2,}(?:(?:\s+|\s*[,/&]\s*)[A-Z][A-Z'\-]{2,})+)(?=\s*:|\s+[A-Z0-9(])")
_WORD = re.compile(r"[A-Za-z]{2,}")


# NLM's definition of a structured abstract (before 2013): labels for at least three distinct
# concepts, one of them an ending concept. With fewer, one section holds sentences of several roles.
MIN_ROLES = 3
ENDING_ROLES = {"RESULTS", "CONCLUSIONS"}


@dataclass(frozen=True)
class RoleSentence:
    """One sentence of a structured abstract, its heading stripped, labelled with its section's role."""

    abstract_id: int
    index: int  # among the abstract's sentences, headings on their own not counted
    n_sentences: int
    text: str
    label: str  # one of LABELS
    heading: str  # the normalised heading of its section

    @property
    def position(self) -> float:
        return relative_position(self.index, self.n_sentences)


@dataclass
class LabelledAbstract:
    abstract_id: int
    sentences: list[RoleSentence]
    headings: list[str]  # normalised, in order
    skip_reason: str | None = None


@dataclass
class CorpusStats:
    abstracts_read: int = 0
    structured_flag: int = 0
    used_by_flag: int = 0  # structured: true
    used_by_colon_headings: int = 0  # structured: false, but opens with a "Background:" style heading
    skipped: Counter = field(default_factory=Counter)
    headings: Counter = field(default_factory=Counter)  # in every structured abstract, used or skipped
    unrecognised_openings: Counter = field(default_factory=Counter)
    sentences_left_out: Counter = field(default_factory=Counter)


def read_scifact(path: Path) -> Iterator[dict]:
    """SciFact's corpus records: ``doc_id``, ``title``, ``abstract`` (list of sentences), ``structured``."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def split_heading(sentence: str, mixed_case: bool = False) -> tuple[str | None, str]:
    """The sentence's opening heading (normalised) and the text after it, or (None, sentence).

    Headings are upper case, a colon optional ("RESULTS We ..."); with ``mixed_case`` they may be in
    any case but need their colon ("Results: We ..."). Of stacked headings ("SUMMARY BACKGROUND
    The ...") the last one counts."""
    pattern = _COLON_HEADING if mixed_case else _CAPS_HEADING
    heading, match = None, pattern.match(sentence)
    while match is not None:
        heading, sentence = normalise_heading(match.group("heading")), match.group("rest").strip()
        match = pattern.match(sentence) if sentence else None
    return heading, sentence


def split_inline_headings(sentence: str) -> list[str]:
    """The sentence cut before every heading that follows a sentence end inside it."""
    return [part for part in _INLINE_HEADING.split(sentence) if part.strip()]


def is_prose(text: str) -> bool:
    """At least two words of letters: not a stray "JAMA." or "2000;283:3211-3216" fragment."""
    return len(_WORD.findall(text)) >= 2


def label_abstract(abstract_id: int, sentences: Iterable[str], mixed_case: bool = False,
                   stats: CorpusStats | None = None) -> LabelledAbstract:
    """Assign each sentence the role of the heading above it, headings stripped.

    Positions count the sentences an unstructured abstract would have: a heading standing alone is
    no sentence, a sentence cut at an inline heading counts as two."""
    parts: list[tuple[str | None, str]] = []
    for sentence in sentences:
        for piece in split_inline_headings(sentence):
            heading, text = split_heading(piece, mixed_case)
            if heading is None and stats is not None:
                opening = _CAPS_OPENING.match(piece)
                if opening:
                    stats.unrecognised_openings[normalise_heading(opening.group(1))] += 1
            parts.append((heading, text.strip()))
    headings = [h for h, _ in parts if h is not None]
    result = LabelledAbstract(abstract_id, [], headings)
    if not parts or parts[0][0] is None:
        result.skip_reason = "no heading at the start"
        return result
    unmappable = [h for h in headings if HEADINGS[h] == UNMAPPABLE]
    if unmappable:
        result.skip_reason = f"mixed or unlabelled section ({unmappable[0]})"
        return result
    roles = {HEADINGS[h] for h in headings} & set(LABELS)
    if len(roles) < MIN_ROLES or not roles & ENDING_ROLES:
        result.skip_reason = f"fewer than {MIN_ROLES} roles or no ending role ({', '.join(headings)})"
        return result
    current = ""
    n = sum(1 for _, text in parts if text)
    index = 0
    for heading, text in parts:
        if heading is not None:
            current = heading
        if not text:
            continue
        label = HEADINGS[current]
        if label == NOT_A_ROLE:
            if stats is not None:
                stats.sentences_left_out[f"section {current}"] += 1
        elif not is_prose(text):
            if stats is not None:
                stats.sentences_left_out["not prose"] += 1
        else:
            result.sentences.append(RoleSentence(abstract_id, index, n, text, label, current))
        index += 1
    if not result.sentences:
        result.skip_reason = "no sentence with a role"
    return result


def labelled_abstracts(corpus_path: Path, stats: CorpusStats) -> Iterator[LabelledAbstract]:
    """The SciFact abstracts that are structured (by their flag, or by "Background:" style headings)."""
    for record in read_scifact(corpus_path):
        stats.abstracts_read += 1
        sentences = record.get("abstract") or []
        flagged = bool(record.get("structured"))
        stats.structured_flag += flagged
        if not flagged:
            if not sentences or split_heading(sentences[0], mixed_case=True)[0] is None:
                continue
        abstract = label_abstract(int(record["doc_id"]), sentences, mixed_case=not flagged, stats=stats)
        stats.headings.update(abstract.headings)
        if abstract.skip_reason:
            stats.skipped[abstract.skip_reason.split(" (")[0]] += 1
            log.debug("skipped %s: %s", abstract.abstract_id, abstract.skip_reason)
            continue
        if flagged:
            stats.used_by_flag += 1
        else:
            stats.used_by_colon_headings += 1
        yield abstract


def split_by_abstract(abstracts: list[LabelledAbstract], dev_fraction: float, seed: int
                      ) -> tuple[list[LabelledAbstract], list[LabelledAbstract]]:
    """Shuffle abstracts (sorted by id first, so the split does not depend on file order) and cut."""
    ordered = sorted(abstracts, key=lambda a: a.abstract_id)
    random.Random(seed).shuffle(ordered)
    n_dev = round(len(ordered) * dev_fraction)
    return ordered[n_dev:], ordered[:n_dev]


def write_docbin(nlp: Language, sentences: Iterable[RoleSentence], path: Path) -> int:
    """One Doc per sentence: ``doc.cats`` one-hot, the abstract id and position in ``doc.user_data``."""
    bin_ = DocBin(store_user_data=True)
    n = 0
    for sentence in sentences:
        doc = nlp.make_doc(sentence.text)
        doc.cats = {label: float(label == sentence.label) for label in LABELS}
        doc.user_data.update({"abstract_id": sentence.abstract_id, "index": sentence.index,
                              "n_sentences": sentence.n_sentences, "position": sentence.position})
        bin_.add(doc)
        n += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    bin_.to_disk(path)
    return n


def build_corpus(corpora: Path, out: Path, dev_fraction: float = 0.15, seed: int = 0,
                 n_bins: int = 10) -> dict:
    """Write train/dev DocBins, the role priors (train only) and the stats; return the stats."""
    from pipeline.nlp.loader import load_base_model

    stats = CorpusStats()
    abstracts = list(labelled_abstracts(corpora / SCIFACT_CORPUS, stats))
    train, dev = split_by_abstract(abstracts, dev_fraction, seed)
    nlp = load_base_model("blank:en")
    splits = {"train": train, "dev": dev}
    report: dict = {"source": str(corpora / SCIFACT_CORPUS), "dev_fraction": dev_fraction, "seed": seed,
                    "labels": list(LABELS), "splits": {}}
    for name, part in splits.items():
        sentences = [s for abstract in part for s in abstract.sentences]
        write_docbin(nlp, sentences, out / f"{name}.spacy")
        report["splits"][name] = {"abstracts": len(part), "sentences": len(sentences),
                                  "labels": dict(Counter(s.label for s in sentences).most_common())}
    priors = RolePriors.estimate(([(s.position, s.label) for s in abstract.sentences] for abstract in train),
                                 n_bins=n_bins)
    priors.to_disk(out / PRIORS_FILE)
    report.update({
        "abstracts_read": stats.abstracts_read,
        "structured_flag": stats.structured_flag,
        "abstracts_used": {"structured_flag": stats.used_by_flag, "colon_headings": stats.used_by_colon_headings},
        "abstracts_skipped": dict(stats.skipped.most_common()),
        "sentences_left_out": dict(stats.sentences_left_out.most_common()),
        "headings": {h: {"count": c, "mapped_to": _describe(HEADINGS[h])} for h, c in
                     sorted(stats.headings.items(), key=lambda item: (-item[1], item[0]))},
        "unrecognised_capitalised_openings": dict(stats.unrecognised_openings.most_common()),
        "role_priors": priors.to_dict(),
    })
    (out / "stats.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def _describe(label: str) -> str:
    return {NOT_A_ROLE: "left out (no sentence role)", UNMAPPABLE: "abstract skipped (mixed roles)"}.get(label, label)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", type=Path, help="the shared corpora folder (holds scifact/corpus.jsonl.gz)")
    parser.add_argument("out", type=Path, help="output folder for train.spacy, dev.spacy and the JSON files")
    parser.add_argument("--dev-fraction", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bins", type=int, default=10, help="relative-position bins of the role priors")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    report = build_corpus(args.corpora, args.out, args.dev_fraction, args.seed, args.bins)
    print(json.dumps({k: report[k] for k in ("splits", "abstracts_used", "abstracts_skipped",
                                             "sentences_left_out")}, indent=2))


if __name__ == "__main__":
    main()
