"""Recognise lexicon concepts in a Doc and link them to canonical ids, abbreviations expanded.

``find_concept_mentions`` does the work on a tokenised Doc; the ``exoclaims_concepts`` factory wires
it into a spaCy pipeline after scispaCy's ``abbreviation_detector``. Mentions are stored on
``doc._.concepts`` with character offsets, because hyphenated compounds such as "MSC-EVs" hold two
concepts inside one scispaCy token; token-aligned mentions are also set as ``doc.ents``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import filter_spans

from pipeline.nlp.lexicon import ConceptLexicon

MAX_ALIAS_TOKENS = 7
_COMPOUND_PART = re.compile(r"[^-/]+")

if not Doc.has_extension("concepts"):
    Doc.set_extension("concepts", default=None)


@dataclass(frozen=True)
class ConceptMention:
    start_char: int
    end_char: int
    text: str
    label: str
    concept_id: str
    canonical_name: str
    long_form: str | None = None


def _span_text(doc: Doc, start: int, end: int) -> str | None:
    span = doc[start:end]
    if any(t.is_space or "\n" in t.whitespace_ for t in span[:-1]) or span[-1].is_space:
        return None
    return span.text


def find_concept_mentions(doc: Doc, lexicon: ConceptLexicon) -> list[ConceptMention]:
    """Longest-match lexicon lookup over token n-grams, then inside hyphenated compounds,
    then the short forms of abbreviations whose long form is a known concept."""
    found: list[ConceptMention] = []
    covered: set[int] = set()
    n_tokens = len(doc)
    for i in range(n_tokens):
        if i in covered or doc[i].is_space or doc[i].is_punct:
            continue
        for n in range(min(MAX_ALIAS_TOKENS, n_tokens - i), 0, -1):
            text = _span_text(doc, i, i + n)
            concept = lexicon.lookup(text) if text else None
            if concept:
                span = doc[i:i + n]
                found.append(ConceptMention(span.start_char, span.end_char, span.text, concept.label,
                                            concept.concept_id, concept.canonical_name))
                covered.update(range(i, i + n))
                break
        else:
            token = doc[i]
            if "-" in token.text or "/" in token.text:
                for part in _COMPOUND_PART.finditer(token.text):
                    concept = lexicon.lookup(part.group())
                    if concept:
                        start = token.idx + part.start()
                        found.append(ConceptMention(start, start + len(part.group()), part.group(), concept.label,
                                                    concept.concept_id, concept.canonical_name))
    found = _link_abbreviations(doc, lexicon, found)
    return sorted(found, key=lambda m: (m.start_char, -m.end_char))


def _link_abbreviations(doc: Doc, lexicon: ConceptLexicon, found: list[ConceptMention]) -> list[ConceptMention]:
    if not Doc.has_extension("abbreviations"):
        return found
    by_start = {m.start_char: m for m in found}
    for short in doc._.abbreviations:
        long_form = short._.long_form
        long_concept = lexicon.lookup(long_form.text) or next(
            (lexicon.concepts[m.concept_id] for m in found
             if m.start_char <= long_form.start_char and m.end_char >= long_form.end_char - 1), None)
        if long_concept is None:
            continue
        existing = by_start.get(short.start_char)
        mention = ConceptMention(short.start_char, short.end_char, short.text, long_concept.label,
                                 long_concept.concept_id, long_concept.canonical_name, long_form.text)
        if existing is not None:
            found.remove(existing)
        found.append(mention)
        by_start[short.start_char] = mention
    return found


@Language.factory("exoclaims_concepts", default_config={"lexicon_path": None})
def create_concept_recognizer(nlp: Language, name: str, lexicon_path: str | None):
    if not lexicon_path:
        raise ValueError("exoclaims_concepts needs lexicon_path (config/lexicon/concepts.jsonl)")
    return ConceptRecognizer(ConceptLexicon.from_jsonl(lexicon_path))


class ConceptRecognizer:
    def __init__(self, lexicon: ConceptLexicon):
        self.lexicon = lexicon

    def __call__(self, doc: Doc) -> Doc:
        mentions = find_concept_mentions(doc, self.lexicon)
        doc._.concepts = mentions
        spans = []
        for m in mentions:
            span = doc.char_span(m.start_char, m.end_char, label=m.label, kb_id=m.concept_id)
            if span is not None:
                spans.append(span)
        doc.ents = filter_spans(list(doc.ents) + spans)
        return doc
