"""The comparison as one decision over its inputs, reading and writing nothing.

Everything it needs comes in as :class:`ComparisonInputs`; links, verdicts, conflicts and frames go out as
:class:`Comparison`.

The nightly stage reads the inputs once (:func:`pipeline.store.comparison.read_inputs`), calls :func:`compare`
and writes the result once (:func:`pipeline.store.comparison.write_comparison`); a one-off check of an article
calls :func:`compare` alone. For each article claim, in order:

1. its candidates: literature claims about the same intervention and outcome, and semantic neighbours by
   sentence embedding, at most ``policy.max_candidates`` (:func:`pipeline.compare.evidence.iter_claim_links`);
2. the field evidence its kind of assertion is also checked against: reviews calling the human evidence
   lacking, adverse-event reports, human studies that found little harm, findings about the outcome level an
   asserted mechanism names (:func:`pipeline.compare.graded.field_pool`; the stance model reads the last);
   a statement about the field (approval status, product quality, studies under way, a time course) is judged
   only by the records that state that kind of fact (:mod:`pipeline.compare.statements`, read once);
3. a stance per link, from the facts, or from the stance model where the facts leave it open (``read_text``, which
   reads each distinct pair of sentences once);
4. a verdict from the links, read through both sides' frames (:func:`pipeline.compare.graded.decide_claim`).

Beside them, the article claims that contradict each other (:func:`pipeline.compare.verdicts.find_conflicts`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from pipeline.compare import graded
from pipeline.compare.domain import Domain, load
from pipeline.compare.evidence import CandidatePolicy, EvidenceLink, LiteratureClaim, Similarities, TextStance, \
    iter_claim_links, link_pool, read_once
from pipeline.compare.frames import OTHER_INTERVENTION, Frame, RecordFacts, RecordFrame, assertion_frame, evidence_frame, \
    record_frame
from pipeline.compare.statements import statement_evidence
from pipeline.compare.verdicts import ArticleConflict, ClaimVerdict, find_conflicts
from pipeline.records import Claim

ConceptKey = tuple[str, str, int]  # (source, doc_id, sentence_idx) of a sentence


@dataclass(frozen=True)
class ComparisonInputs:
    """What the comparison reads, all of it: the stored claims of both sides and what frames and ranks them."""

    articles: tuple[Claim, ...]  # article claims, in document order
    literature: tuple[LiteratureClaim, ...]  # abstract claims with their record's design, level, journal, year
    journals: tuple[str, ...] = ()  # journal names of the stored records ("a study in the Journal of ...")
    concepts: Mapping[ConceptKey, tuple[str, ...]] = field(default_factory=dict)  # concept ids per sentence
    records: Mapping[str, RecordFacts] = field(default_factory=dict)  # per PMID: design, title, abstract, size
    similarities: Similarities | None = None  # sentence-embedding cosines; None without stored embeddings
    # per article, its heading-like lines as (sentence_idx, text), the title first: what sets a section's topic
    headings: Mapping[str, tuple[tuple[int, str], ...]] = field(default_factory=dict)
    # per article, the text of every sentence: what :func:`article_topic` reads (claims and headings without it)
    sentences: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def fingerprint(self, method_version: str) -> str:
        """Changes when a claim, an article's sentences, a record's design or level, a retraction or the method
        (``method_version``: the rules, the models and the candidate policy) changes; the stored comparison is then
        stale."""
        digest = hashlib.sha256(method_version.encode())
        for claim in self.articles:
            digest.update(f"{claim.claim_id}\x1f{claim.claim_type}\x1f{claim.polarity}\n".encode())
        for lit in self.literature:
            digest.update(f"{lit.claim.claim_id}\x1f{lit.design}\x1f{lit.evidence_level}\x1f{lit.is_retracted}\n"
                          .encode())
        for doc_id in sorted(self.sentences):  # an article's topic (and its headings) come from all its sentences
            digest.update("\x1e".join((doc_id, *self.sentences[doc_id])).encode())
        return digest.hexdigest()


@dataclass(frozen=True)
class Comparison:
    """What one comparison decided."""

    links: tuple[EvidenceLink, ...]
    verdicts: tuple[ClaimVerdict, ...]
    conflicts: tuple[ArticleConflict, ...]
    frames: Mapping[str, Frame]  # per claim id, article and literature claims alike

    def verdict_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for verdict in self.verdicts:
            counts[verdict.verdict] = counts.get(verdict.verdict, 0) + 1
        return counts


# web pages' section headings run to nine or ten words ("PRP explained: what it is and how it acts"); longer lines
# without closing punctuation are mostly sentences that lost their full stop
MAX_HEADING_WORDS = 10


def is_heading(text: str) -> bool:
    """A short line without closing punctuation: an article's title or a section heading ("2. Finasteride")."""
    stripped = text.strip()
    return bool(stripped) and len(stripped.split()) <= MAX_HEADING_WORDS and stripped[-1] not in ".!?:;,"


def section_topic(headings: tuple[tuple[int, str], ...], sentence_idx: int, default: str,
                  domain: Domain | None = None) -> str:
    """The intervention family a sentence's section is about: that of the last heading before it that names
    exactly one family ("PRP (platelet-rich plasma)"), else the title's, else ``default`` (the topic the
    comparison folds together). A heading naming two ("Exosomes or PRP?"), or one of the domain's
    ``topic_families`` ("Stem cell therapy": what makes a page about exosomes, :func:`article_topic`), goes back to
    the default."""
    domain = domain or load()
    topic = default
    for idx, text in headings:
        if idx > sentence_idx:
            break
        named = {h.category.key for h in domain.interventions if h.category.matches(text)}
        if len(named) == 1:
            family = named.pop()
            topic = default if family in domain.topic_families else family
        elif len(named) > 1:
            topic = default
    return topic


def article_topic(texts: Iterable[str], domain: Domain | None = None) -> str:
    """The family an article's unnamed claims are about: the folded topic (``same_intervention``) when the
    article names it or another of the domain's ``topic_families`` (secretome, stem cells) anywhere; else the
    family it names most (a page on PRP alone); else an intervention the domain does not know (a page on laser
    combs or microneedling: its "it works" is not a claim about exosomes)."""
    domain = domain or load()
    counts: dict[str, int] = {}
    for text in texts:
        for family in domain.interventions:
            if family.category.matches(text):
                counts[family.category.key] = counts.get(family.category.key, 0) + 1
    if any(key in counts for key in (domain.same_intervention, *domain.topic_families)):
        return domain.same_intervention
    return max(counts, key=lambda key: (counts[key], key)) if counts else OTHER_INTERVENTION


def claim_frames(inputs: ComparisonInputs, domain: Domain | None = None) -> dict[str, Frame]:
    """The frame of every article and literature claim (:mod:`pipeline.compare.frames`), from the claims, the
    concept ids found in their sentences and their records; an article claim that names no intervention is
    taken to be about its section's topic (:func:`section_topic`: "It helps most in early alopecia" under the
    heading "PRP"), else the article's (:func:`article_topic`: the family the comparison folds together, "this
    therapy", unless the article never names it)."""
    domain = domain or load()
    frames = {}
    texts: dict[str, list[str]] = {doc_id: list(lines) for doc_id, lines in inputs.sentences.items()}
    for claim in inputs.articles:
        if claim.doc_id not in inputs.sentences:
            texts.setdefault(claim.doc_id, []).append(claim.sentence)
    for doc_id, headings in inputs.headings.items():
        if doc_id not in inputs.sentences:
            texts.setdefault(doc_id, []).extend(text for _, text in headings)
    topics = {doc_id: article_topic(lines, domain) for doc_id, lines in texts.items()}
    for claim in inputs.articles:
        topic = section_topic(inputs.headings.get(claim.doc_id, ()), claim.sentence_idx, topics[claim.doc_id],
                              domain)
        frames[claim.claim_id] = assertion_frame(
            claim, inputs.concepts.get((claim.source, claim.doc_id, claim.sentence_idx), ()), topic)
    whole: dict[str, RecordFrame] = {}  # what each record says as a whole, read once for all its claims
    for lit in inputs.literature:
        claim = lit.claim
        record = inputs.records.get(lit.pmid) or RecordFacts(lit.pmid, lit.design)
        if lit.pmid not in whole:
            whole[lit.pmid] = record_frame(record)
        frames[claim.claim_id] = evidence_frame(
            claim, record, inputs.concepts.get((claim.source, claim.doc_id, claim.sentence_idx), ()),
            whole_record=whole[lit.pmid])
    return frames


def compare(inputs: ComparisonInputs, policy: CandidatePolicy, read_text: TextStance | None = None,
            domain: Domain | None = None) -> Comparison:
    """Link every article claim to the literature, decide its verdict, and find the article claims that
    contradict each other. ``read_text`` is the stance model ((claim, evidence) pairs → readings); without it
    only the facts decide. Deterministic for the same inputs, policy and model."""
    domain = domain or load()
    read_text = read_once(read_text) if read_text is not None else None
    frames = claim_frames(inputs, domain)
    field_evidence = graded.field_evidence(inputs.literature, frames, domain)  # found once, for every assertion
    statements = statement_evidence(inputs.records, frames, {lit.pmid for lit in inputs.literature if lit.is_retracted},
                                    domain)
    similarities = inputs.similarities
    journals = list(inputs.journals)
    # before the links: iter_claim_links empties the claim readings' caches once it is done with them
    conflicts = tuple(find_conflicts(list(inputs.articles)))
    links: list[EvidenceLink] = []
    verdicts: list[ClaimVerdict] = []
    # findings about a specific outcome: found by their frame, their direction often only in their words
    by_outcome = {lit.claim.claim_id for key, pool in field_evidence.items() if key.startswith(graded.OUTCOME_POOL)
                  for lit in pool}
    for article, claim_links in iter_claim_links(inputs.articles, inputs.literature, read_text, similarities, policy):
        extra = graded.field_pool(frames[article.claim_id], field_evidence, frames,
                                  [k.literature_claim_id for k in claim_links], domain, limit=policy.max_candidates)
        for pool, reader in (([lit for lit in extra if lit.claim.claim_id not in by_outcome], None),
                             ([lit for lit in extra if lit.claim.claim_id in by_outcome], read_text)):
            cosines = None if similarities is None else [
                similarities.pair(article.claim_id, lit.claim.claim_id) for lit in pool]
            claim_links = claim_links + link_pool(article, pool, reader, similarities=cosines)
        links.extend(claim_links)
        verdict = graded.decide_claim(article, claim_links, journals, frames, statements)
        if verdict is not None:
            verdicts.append(verdict)
    return Comparison(tuple(links), tuple(verdicts), conflicts, frames)
