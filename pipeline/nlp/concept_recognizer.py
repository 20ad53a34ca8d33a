"""Recognise lexicon concepts in a Doc and link them to canonical ids, abbreviations expanded.

``find_concept_mentions`` does the work on a tokenised Doc; the ``exoclaims_concepts`` factory wires
it into a spaCy pipeline after scispaCy's ``abbreviation_detector``. Mentions are stored on
``doc._.concepts`` (read them with :func:`concept_mentions`) with character offsets, because hyphenated compounds such as "MSC-EVs" hold two
concepts inside one scispaCy token; token-aligned mentions are also set as ``doc.ents``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import astuple, dataclass

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import filter_spans

from pipeline.nlp.lexicon import ConceptLexicon, leading_word
from pipeline.nlp.model_entities import ModelEntity, model_entities

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


def find_concept_mentions(doc: Doc, lexicon: ConceptLexicon) -> list[ConceptMention]:
    """Longest-match lexicon lookup over token n-grams, then inside hyphenated compounds,
    then the short forms of abbreviations whose long form is a known concept.

    Only tokens whose leading word starts some alias open a lookup, so the cost stays near one set
    membership test per token.
    """
    words = [t.text for t in doc]
    spaces = [t.whitespace_ for t in doc]
    is_gap = [t.is_space or t.is_punct for t in doc]
    n_tokens = len(words)
    found: list[ConceptMention] = []
    i = 0
    while i < n_tokens:
        if is_gap[i]:
            i += 1
            continue
        matched = 0
        if leading_word(words[i]) in lexicon.first_words:
            candidates = []
            text = ""
            for j in range(i, min(i + MAX_ALIAS_TOKENS, n_tokens)):
                if doc[j].is_space:
                    break
                text = text + spaces[j - 1] + words[j] if j > i else words[j]
                candidates.append((j + 1, text))
                if "\n" in spaces[j]:
                    break
            for end, text in reversed(candidates):
                concept = lexicon.lookup(text)
                if concept:
                    start_char = doc[i].idx
                    found.append(ConceptMention(start_char, start_char + len(text), text, concept.label,
                                                concept.concept_id, concept.canonical_name))
                    matched = end - i
                    break
        if not matched and ("-" in words[i] or "/" in words[i]):
            token_start = doc[i].idx
            for part in _COMPOUND_PART.finditer(words[i]):
                concept = lexicon.lookup(part.group())
                if concept:
                    start = token_start + part.start()
                    found.append(ConceptMention(start, start + len(part.group()), part.group(), concept.label,
                                                concept.concept_id, concept.canonical_name))
        i += matched or 1
    found = _link_abbreviations(doc, lexicon, found)
    return sorted(found, key=lambda m: (m.start_char, -m.end_char))


def _abbreviation_pairs(doc: Doc):
    """(short form span, long form span) from scispaCy's detector, in either of its output forms
    (Spans, or the dicts of token offsets it writes with ``make_serializable=True``)."""
    for item in doc._.abbreviations:
        if isinstance(item, dict):
            yield doc[item["short_start"]:item["short_end"]], doc[item["long_start"]:item["long_end"]]
        else:
            yield item, item._.long_form


def _link_abbreviations(doc: Doc, lexicon: ConceptLexicon, found: list[ConceptMention]) -> list[ConceptMention]:
    if not Doc.has_extension("abbreviations"):
        return found
    by_start = {m.start_char: m for m in found}
    for short, long_form in _abbreviation_pairs(doc):
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


def link_model_entities(entities: list[ModelEntity], mentions: list[ConceptMention],
                        lexicon: ConceptLexicon) -> list[ModelEntity]:
    """Give statistical entities the concept id of the lexicon concept they name: the whole entity
    text is an alias, or the entity ends with a lexicon mention ("human dermal papilla cells")."""
    by_end = {}
    for m in mentions:
        by_end.setdefault(m.end_char, m)
    linked = []
    for e in entities:
        concept = lexicon.lookup(e.text)
        if concept is not None:
            e = dataclasses.replace(e, concept_id=concept.concept_id, canonical_name=concept.canonical_name)
        else:
            m = by_end.get(e.end_char)
            if m is not None and m.start_char >= e.start_char:
                e = dataclasses.replace(e, concept_id=m.concept_id, canonical_name=m.canonical_name)
        linked.append(e)
    return linked


def concept_mentions(doc: Doc) -> list[ConceptMention]:
    """The mentions the recogniser stored on ``doc._.concepts``."""
    return [ConceptMention(*row) for row in (doc._.concepts or [])]


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
        # plain tuples, so Docs survive serialisation (nlp.pipe with n_process > 1)
        doc._.concepts = [astuple(m) for m in mentions]
        statistical = link_model_entities(model_entities(doc), mentions, self.lexicon)
        doc._.model_entities = [astuple(e) for e in statistical] or None
        spans = []
        for m in mentions:
            span = doc.char_span(m.start_char, m.end_char, label=m.label, kb_id=m.concept_id)
            if span is not None:
                spans.append(span)
        for e in statistical:
            span = doc.char_span(e.start_char, e.end_char, label=e.label, kb_id=e.concept_id or "")
            if span is not None:
                spans.append(span)
        # lexicon concepts first: filter_spans keeps the earlier of two equally long spans
        doc.ents = filter_spans(list(doc.ents) + spans)
        return doc
