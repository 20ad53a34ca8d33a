"""Typed records that cross module boundaries (fetch → parse → normalise → NLP → claims → store)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Source = Literal["article", "pubmed"]


@dataclass(frozen=True)
class AbstractSection:
    label: str | None  # the Label attribute, e.g. "RESULTS"; None for unstructured abstracts
    category: str | None  # NlmCategory: BACKGROUND, OBJECTIVE, METHODS, RESULTS, CONCLUSIONS, UNASSIGNED
    text: str


@dataclass(frozen=True)
class MeshHeading:
    descriptor: str
    ui: str | None
    major_topic: bool
    qualifiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommentCorrection:
    ref_type: str  # RetractionIn, ErratumIn, CommentIn, ...
    pmid: str | None
    source: str


@dataclass(frozen=True)
class PubmedRecord:
    pmid: str
    version: int
    title: str
    abstract_sections: tuple[AbstractSection, ...]
    journal: str
    pub_year: int | None
    pub_date: str  # as printed by PubMed: "2018 Feb", "2019 Nov-Dec"
    authors: tuple[str, ...]
    doi: str | None
    pmcid: str | None
    language: tuple[str, ...]
    pub_types: tuple[str, ...]
    mesh: tuple[MeshHeading, ...]
    keywords: tuple[str, ...]
    comments_corrections: tuple[CommentCorrection, ...]
    date_revised: str | None
    is_book: bool = False

    @property
    def abstract(self) -> str:
        """The abstract as one text, section labels kept as "LABEL: text" paragraphs."""
        parts = []
        for section in self.abstract_sections:
            parts.append(f"{section.label}: {section.text}" if section.label else section.text)
        return "\n".join(parts)

    @property
    def has_abstract(self) -> bool:
        return any(s.text.strip() for s in self.abstract_sections)

    @property
    def is_retracted(self) -> bool:
        return "Retracted Publication" in self.pub_types or any(
            c.ref_type == "RetractionIn" for c in self.comments_corrections
        )


@dataclass(frozen=True)
class FetchFailure:
    """A batch that could not be fetched after all retries; retried on the next run."""

    query_key: str
    pmids: tuple[str, ...]
    error: str


@dataclass(frozen=True)
class Article:
    article_id: str
    source: str  # file path relative to the articles directory, or the URL
    title: str
    raw_text: str
    text: str  # normalised
    folded_chars: int  # confusable look-alike characters folded to Latin


@dataclass(frozen=True)
class TextUnit:
    """One document handed to the NLP stage: an article or a PubMed title+abstract."""

    source: Source
    doc_id: str
    text: str
    sections: tuple[tuple[int, int, str | None], ...] = ()  # (start, end, NlmCategory) spans


@dataclass(frozen=True)
class Sentence:
    source: Source
    doc_id: str
    sentence_idx: int
    start_char: int
    end_char: int
    text: str
    section: str | None = None
    role: str | None = None  # BACKGROUND ... CONCLUSIONS: the NlmCategory, else the sentence-role model's guess
    role_source: str | None = None  # "structured" (from the abstract's labels) or "predicted"


@dataclass(frozen=True)
class Entity:
    source: Source
    doc_id: str
    sentence_idx: int
    start_char: int
    end_char: int
    text: str
    label: str
    concept_id: str | None
    canonical_name: str | None = None
    long_form: str | None = None  # abbreviation expansion when the entity text is a short form
    model_label: str | None = None  # the type a statistical NER model gave this span, if one found it
    detectors: tuple[str, ...] = ("lexicon",)  # what found it: "lexicon" and/or NER model names


@dataclass(frozen=True)
class Claim:
    claim_id: str
    source: Source
    doc_id: str
    sentence_idx: int
    sentence: str
    claim_type: str
    polarity: Literal["affirmed", "negated"]
    certainty: Literal["asserted", "hedged"]
    intervention: str | None  # concept id
    outcome: str | None  # concept id
    direction: Literal["increase", "decrease", "no-effect", "none"]
    cues: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Mention:
    """A lexicon concept found in a sentence, as the claim rules read it."""

    start_char: int  # in the document's text
    label: str
    concept_id: str


@dataclass(frozen=True)
class SentenceParse:
    """What the claim rules read of one sentence beside its text: the lexicon concepts in it and the
    character spans (from the sentence's start) of the relative clauses the parser found."""

    mentions: tuple[Mention, ...] = ()
    relative_clauses: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class ParsedDoc:
    """What the NLP stage produces for one TextUnit: its sentences and entities, and per sentence what the
    claim stage reads (``parses``, aligned with ``sentences``)."""

    source: Source
    doc_id: str
    sentences: tuple[Sentence, ...]
    entities: tuple[Entity, ...]
    parses: tuple[SentenceParse, ...]


@dataclass(frozen=True)
class AnalysedDoc:
    """What the NLP and claim stages produce for one TextUnit."""

    source: Source
    doc_id: str
    sentences: tuple[Sentence, ...]
    entities: tuple[Entity, ...]
    claims: tuple[Claim, ...]


@dataclass
class NlpTotals:
    """What the NLP stage did in one run, for the run summary."""

    documents: int = 0
    claims: int = 0
    claims_by_type: dict[str, int] = field(default_factory=dict)

    def add(self, analysed: list[AnalysedDoc], claims_stored: int) -> None:
        self.documents += len(analysed)
        self.claims += claims_stored
        for doc in analysed:
            for claim in doc.claims:
                self.claims_by_type[claim.claim_type] = self.claims_by_type.get(claim.claim_type, 0) + 1

    def __add__(self, other: "NlpTotals") -> "NlpTotals":
        by_type = dict(self.claims_by_type)
        for name, n in other.claims_by_type.items():
            by_type[name] = by_type.get(name, 0) + n
        return NlpTotals(self.documents + other.documents, self.claims + other.claims, by_type)
