"""One article judged now, against the literature already stored: ``exoclaims check FILE|URL``.

The article goes through the same normalisation, NLP and claim rules as the nightly run; its claims are then
compared with every literature claim in the database by the same decision
(:func:`pipeline.compare.comparison.compare`), with its sentences embedded on the spot. The database is only
read; ``save`` copies the article into the articles folder, so the next nightly run stores it and its verdicts.
"""

from __future__ import annotations

import functools
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from pipeline.articles.ingest import ArticleFetchError, articles_from_html, fetch_article_url, read_article_file
from pipeline.compare.comparison import ComparisonInputs, compare, is_heading
from pipeline.compare.evidence import CandidatePolicy, Similarities
from pipeline.config import Settings
from pipeline.records import AnalysedDoc, Article
from pipeline.report.query import open_read_only
from pipeline.store import comparison as comparison_store
from pipeline.store.embeddings import ClaimVectors, claim_vectors

# the commonest English function words: most of any English text, little of any other language's
_ENGLISH = frozenset("""the a an and or of to in on for with is are was were be been it this that these those as at
by from not but can may has have had which their its they there than more most also such about into""".split())
# ... and of French, Spanish, German and Italian, none of them an English word (no "a", "die", "non", "per")
_OTHER = frozenset("""le la les des et est une du au aux pour avec dans sur pas qui sont el los las del y es una con
para por como pero más der das den dem und ist nicht mit ein eine einer zu von auf sich sind wird werden il di che è
gli della sono""".split())
_WORD = re.compile(r"[^\W\d_]+")
MIN_ENGLISH_SHARE = 0.15  # English prose runs at 0.35-0.5; French, German or Spanish prose below 0.1
# terse English (a list of claims: "Exosomes stimulate hair growth. Exosome therapy is safe.") runs lower, with none
# of the other languages' function words
MIN_TERSE_ENGLISH_SHARE = 0.05
MIN_WORDS = 5


class CheckError(ValueError):
    """An article that cannot be checked; the message is one line a user can act on."""


@dataclass(frozen=True)
class CheckedAssertion:
    """One claim of the article with its verdict against the stored literature."""

    sentence_idx: int
    sentence: str
    claim_type: str
    verdict: str
    certainty: str | None
    key_pmids: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class CheckResult:
    article: Article
    sentences: int
    claims: int  # every claim found, recommendations included
    assertions: tuple[CheckedAssertion, ...]  # those with a verdict, in document order
    literature_claims: int  # what they were compared with
    records: int


def _function_word_shares(text: str) -> tuple[float, float]:
    """The shares of the text's words that are common English function words, and those of French, Spanish,
    German or Italian."""
    words = [w.casefold() for w in _WORD.findall(text)]
    if not words:
        return 0.0, 0.0
    return sum(w in _ENGLISH for w in words) / len(words), sum(w in _OTHER for w in words) / len(words)


def looks_english(text: str) -> bool:
    """English prose, or terse English with no function words of another language; not French, Spanish, German or
    Italian prose, whatever English terms it borrows."""
    english, other = _function_word_shares(text)
    return english >= MIN_ENGLISH_SHARE or (english >= MIN_TERSE_ENGLISH_SHARE and other < english / 2)


def read_article(source: str, settings: Settings) -> Article:
    """The article at a path or an http(s) URL, normalised as the nightly run does; a file of several glued
    articles gives its first. Raises :class:`CheckError` for what cannot be an English article."""
    if re.match(r"^[a-z][a-z0-9+.-]*://", source, re.I):
        try:
            articles = fetch_article_url(source, limits=settings.articles.fetch)
        except ArticleFetchError as exc:
            raise CheckError(str(exc)) from exc
    else:
        path = Path(source)
        if not path.is_file():
            raise CheckError(f"{source}: no such file")
        with path.open("rb") as fh:
            head = fh.read(1024)
        if head.startswith(b"%PDF"):
            raise CheckError(f"{source}: a PDF; check reads plain text or a web page (save the PDF's text first)")
        if b"\x00" in head:
            raise CheckError(f"{source}: not a text file")
        if path.suffix.lower() in (".html", ".htm") or head.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
            articles = articles_from_html(path.read_bytes().decode("utf-8", errors="replace"), path.stem, path.name)
        else:
            articles = [a for a in read_article_file(path) if a.text.strip()]
    if not articles or not articles[0].text.strip():
        raise CheckError(f"{source}: no text to check (the file or page is empty)")
    article = articles[0]
    words = _WORD.findall(article.text)
    if len(words) < MIN_WORDS:
        raise CheckError(f"{source}: no main text to check (only {len(words)} word{'s' if len(words) != 1 else ''})")
    if not looks_english(article.text):
        raise CheckError(f"{source}: not English (the claim rules and models read English only)")
    return article


def analyse_article(settings: Settings, article: Article) -> AnalysedDoc:
    """The article's sentences, entities and claims, by the nightly run's pipeline."""
    from pipeline.stages import run_nlp

    [analysed] = run_nlp(settings, [article], [])
    return analysed


@dataclass(frozen=True)
class StoredLiterature:
    """What an article is checked against: the literature side of the database and its claims' vectors."""

    inputs: ComparisonInputs  # literature claims, journals, concepts and records; no article claims
    vectors: ClaimVectors


def read_literature(settings: Settings, db_path: Path | None = None, wait_s: float = 120) -> StoredLiterature:
    """The stored literature, read once (the database opened read-only); many articles can be checked against it."""
    from pipeline.stages import encoder

    model = encoder(settings)
    con = open_read_only(db_path or settings.storage.db_path, wait_s)
    try:
        stored = comparison_store.read_inputs(con, model.version, articles=False)
        vectors = claim_vectors(con, "pubmed", model.version)
    finally:
        con.close()
    if not stored.literature:
        raise CheckError("the database holds no literature claims yet: run `exoclaims run` first")
    return StoredLiterature(stored, vectors)


def check_article(settings: Settings, article: Article, db_path: Path | None = None,
                  wait_s: float = 120, literature: StoredLiterature | None = None) -> CheckResult:
    """Judge the article's assertions against the literature stored in the database (opened read-only), or against
    ``literature`` already read (:func:`read_literature`)."""
    from pipeline.stages import encoder, text_stance

    analysed = analyse_article(settings, article)
    model = encoder(settings)
    literature = literature or read_literature(settings, db_path, wait_s)
    stored = literature.inputs
    claims = analysed.claims
    concepts = dict(stored.concepts)
    for entity in analysed.entities:
        if entity.concept_id:
            key = (entity.source, entity.doc_id, entity.sentence_idx)
            concepts[key] = tuple(dict.fromkeys(concepts.get(key, ()) + (entity.concept_id,)))
    similarities = None
    if claims and literature.vectors.claim_ids:
        vectors = model.embed([c.sentence for c in claims])
        similarities = Similarities({c.claim_id: i for i, c in enumerate(claims)}, vectors, literature.vectors.index(),
                                    literature.vectors.matrix)
    headings = {article.article_id: tuple((s.sentence_idx, s.text) for s in analysed.sentences if is_heading(s.text))}
    sentences = {article.article_id: tuple(s.text for s in analysed.sentences)}
    inputs = ComparisonInputs(claims, stored.literature, stored.journals, concepts, stored.records, similarities,
                              headings, sentences)
    policy = CandidatePolicy(settings.compare.max_candidates, settings.compare.min_similarity)
    decided = compare(inputs, policy, functools.partial(text_stance, threads=settings.encoder.thread_count,
                                                        package=settings.compare.stance_model))
    by_claim = {c.claim_id: c for c in claims}
    assertions = tuple(sorted(
        (CheckedAssertion(by_claim[v.claim_id].sentence_idx, by_claim[v.claim_id].sentence,
                          by_claim[v.claim_id].claim_type, v.verdict, v.certainty, v.key_pmids, v.reason)
         for v in decided.verdicts), key=lambda a: a.sentence_idx))
    return CheckResult(article, len(analysed.sentences), len(claims), assertions, len(stored.literature),
                       len({lit.pmid for lit in stored.literature}))


def save_article(settings: Settings, source: str, article: Article) -> Path:
    """Keep the article for the nightly run: a file's copy, or the page's text, in the articles folder."""
    directory = settings.articles.directory
    directory.mkdir(parents=True, exist_ok=True)
    path = Path(source)
    if path.is_file():
        target = directory / path.name
        if target.resolve() != path.resolve():
            shutil.copyfile(path, target)
        return target
    target = directory / f"{article.article_id}.txt"
    target.write_text(article.raw_text, encoding="utf-8")
    return target
