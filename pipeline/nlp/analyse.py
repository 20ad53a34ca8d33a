"""Run the NLP pipeline over documents and turn spaCy output into typed records.

Articles and PubMed titles+abstracts become :class:`TextUnit` objects, go through ``nlp.pipe`` in
batches, and come back as :class:`~pipeline.records.ParsedDoc`: sentences, entities, and per sentence the
concepts and relative clauses the claim stage (:mod:`pipeline.claims.extract`) reads, nothing else.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Iterable, Iterator

from spacy.language import Language

from pipeline.nlp.concept_recognizer import concept_mentions
from pipeline.nlp.model_entities import ModelEntity, model_entities
from pipeline.records import Article, Entity, Mention, ParsedDoc, PubmedRecord, Sentence, SentenceParse, TextUnit

log = logging.getLogger(__name__)


def unit_from_article(article: Article) -> TextUnit:
    return TextUnit("article", article.article_id, article.text)


def unit_from_record(record: PubmedRecord) -> TextUnit:
    """Title, then each abstract section as its own paragraph; section spans keep the NlmCategory."""
    parts: list[str] = []
    sections: list[tuple[int, int, str | None]] = []
    offset = 0
    for text, category in [(record.title, "TITLE")] + [
        (s.text, s.category or (s.label.upper() if s.label else None)) for s in record.abstract_sections
    ]:
        if not text:
            continue
        if parts:
            offset += 2
        parts.append(text)
        sections.append((offset, offset + len(text), category))
        offset += len(text)
    return TextUnit("pubmed", record.pmid, "\n\n".join(parts), tuple(sections))


def _section_at(unit: TextUnit, char: int) -> str | None:
    for start, end, category in unit.sections:
        if start <= char < end:
            return category
    return None


def analyse_docs(nlp: Language, units: Iterable[TextUnit], batch_size: int = 64,
                 n_process: int = 1, roles=None) -> Iterator[ParsedDoc]:
    """Analyse documents; ``roles`` (a :class:`~pipeline.nlp.sentence_roles.SentenceRoles`) labels
    the sentences of unstructured abstracts with their role."""
    units = list(units)
    started = time.monotonic()
    texts = ((u.text, u) for u in units)
    for done, (doc, unit) in enumerate(nlp.pipe(texts, as_tuples=True, batch_size=batch_size, n_process=n_process), 1):
        yield _to_records(doc, unit, roles)
        if done % 500 == 0 or done == len(units):
            rate = done / max(time.monotonic() - started, 1e-9)
            log.info("NLP: %d/%d documents (%.1f docs/s)", done, len(units), rate)


def _sentence_entities(unit: TextUnit, idx: int, mentions, statistical: list[ModelEntity]) -> list[Entity]:
    """One entity per span: lexicon concepts, with the type a model gave the same span, then the
    spans only a model found (the first model to find a span gives its type)."""
    by_span: dict[tuple[int, int], Entity] = {}
    for m in mentions:
        by_span.setdefault((m.start_char, m.end_char), Entity(
            unit.source, unit.doc_id, idx, m.start_char, m.end_char, m.text, m.label, m.concept_id,
            m.canonical_name, m.long_form))
    for e in statistical:
        key = (e.start_char, e.end_char)
        known = by_span.get(key)
        if known is None:
            by_span[key] = Entity(unit.source, unit.doc_id, idx, e.start_char, e.end_char, e.text, e.label,
                                  e.concept_id, e.canonical_name, None, e.label, (e.detector,))
        elif e.detector not in known.detectors:
            by_span[key] = dataclasses.replace(known, model_label=known.model_label or e.label,
                                               detectors=known.detectors + (e.detector,))
    return sorted(by_span.values(), key=lambda x: (x.start_char, x.end_char))


ROLES = ("BACKGROUND", "OBJECTIVE", "METHODS", "RESULTS", "CONCLUSIONS")


def _sentence_roles(sections: list[str | None], spans, unit: TextUnit, roles) -> list[tuple[str | None, str | None]]:
    """(role, role_source) per sentence: the abstract's own NlmCategory where it is structured,
    otherwise the sentence-role model's guess over the abstract's sentences (not the title)."""
    result: list[tuple[str | None, str | None]] = [
        (section, "structured") if section in ROLES else (None, None) for section in sections]
    if unit.source != "pubmed" or roles is None or any(section in ROLES for section in sections):
        return result
    body = [i for i, section in enumerate(sections) if section != "TITLE"]
    if body:
        predicted = roles.roles_for(roles.sentence_probabilities([spans[i] for i in body]))
        for i, role in zip(body, predicted):
            result[i] = (role, "predicted")
    return result


RELATIVE_CLAUSE_DEPS = ("acl:relcl", "relcl")


def _relative_clauses(sent, start: int) -> tuple[tuple[int, int], ...]:
    """Character spans (relative to ``start``) of the relative clauses the parser found in ``sent``;
    none when the pipeline has no parser."""
    if not sent.doc.has_annotation("DEP"):
        return ()
    return tuple((token.left_edge.idx - start, token.right_edge.idx + len(token.right_edge) - start)
                 for token in sent if token.dep_ in RELATIVE_CLAUSE_DEPS)


def _to_records(doc, unit: TextUnit, roles=None) -> ParsedDoc:
    mentions = concept_mentions(doc)
    statistical = model_entities(doc)
    spans, bounds = [], []
    for sent in doc.sents:
        text = sent.text.strip()
        if text:
            start = sent.start_char + (len(sent.text) - len(sent.text.lstrip()))
            spans.append(sent)
            bounds.append((start, start + len(text), text))
    sections = [_section_at(unit, start) for start, _, _ in bounds]
    sentence_roles = _sentence_roles(sections, spans, unit, roles)
    sentences, entities, parses = [], [], []
    for idx, ((start, end, text), section, (role, role_source)) in enumerate(zip(bounds, sections, sentence_roles)):
        sentences.append(Sentence(unit.source, unit.doc_id, idx, start, end, text, section, role, role_source))
        in_sentence = [m for m in mentions if start <= m.start_char < end]
        entities.extend(_sentence_entities(unit, idx, in_sentence,
                                           [e for e in statistical if start <= e.start_char < end]))
        parses.append(SentenceParse(tuple(Mention(m.start_char, m.label, m.concept_id) for m in in_sentence),
                                    _relative_clauses(spans[idx], start)))
    return ParsedDoc(unit.source, unit.doc_id, tuple(sentences), tuple(entities), tuple(parses))
