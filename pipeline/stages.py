"""The nightly job's stages as plain functions; ``flows/nightly.py`` wires them into Prefect tasks.

fetch → parse → normalise → NLP → claims → store. Each function takes typed inputs and returns typed
outputs, so the same job can be run from a notebook without Prefect.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

from spacy.language import Language

from pipeline.articles.ingest import ArticleFetchError, fetch_article_url, read_article_directory
from pipeline.config import NlpSettings, Settings
from pipeline.nlp.analyse import analyse_docs, unit_from_article, unit_from_record
from pipeline.nlp.loader import build_pipeline, load_sentence_roles, pipeline_version
from pipeline.pubmed import bulk
from pipeline.pubmed.archive import ResponseArchive
from pipeline.pubmed.bulk import BulkFile
from pipeline.pubmed.eutils import EutilsClient
from pipeline.pubmed.harvest import Harvester, HarvestResult, search_window
from pipeline.pubmed.topic import TopicFilter
from pipeline.records import AnalysedDoc, Article, ParsedDoc, PubmedRecord, TextUnit
from pipeline.report.exports import ExportFiles, write_exports
from pipeline.claims import extract
from pipeline.compare import certainty, comparison, directness, domain, evidence, frames, graded, stance, \
    stance_encoder, verdicts
from pipeline.nlp import analyse
from pipeline.report.html import write_report
from pipeline.report.markdown import report_summary
from pipeline.store import bulk_files as bulk_files_store
from pipeline.nlp.encoder import SentenceEncoder, sentence_encoder
from pipeline.store import comparison as comparison_store
from pipeline.store import db, embeddings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunContext:
    run_id: str
    started: dt.datetime
    watermark: dt.date | None
    retry_pmids: tuple[str, ...]


def open_run(settings: Settings, today: dt.date | None = None) -> RunContext:
    """Register a run in the store and read what the last runs left: watermark and failed PMIDs."""
    run_id = dt.datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    with db.connect(settings.storage.db_path) as con:
        db.start_run(con, run_id)
        return RunContext(run_id, dt.datetime.now(), db.last_watermark(con), tuple(db.pending_failures(con)))


def ingest_articles(settings: Settings) -> list[Article]:
    articles = read_article_directory(settings.articles.directory)
    for url in settings.articles.urls:
        try:
            articles.extend(fetch_article_url(url, limits=settings.articles.fetch))
        except ArticleFetchError as exc:
            log.warning("skipping article URL: %s", exc)
    log.info("ingested %d articles (%d look-alike characters folded)", len(articles),
             sum(a.folded_chars for a in articles))
    return articles


def harvest_pubmed(settings: Settings, run: RunContext, today: dt.date | None = None) -> tuple[HarvestResult, list[dict]]:
    today = today or dt.date.today()
    since = search_window(settings.pubmed, run.watermark, today)
    archive = ResponseArchive(settings.storage.archive_dir, run.run_id)
    client = EutilsClient(settings.pubmed)
    harvester = Harvester(client, archive, settings.pubmed)
    log.info("searching PubMed at %s for records entered %s..%s", client.host, since or "the beginning", today)
    result = harvester.harvest(settings.pubmed.queries, since, today, list(run.retry_pmids))
    log.info("PubMed: %d records found, %d fetched, %d deleted, %d failed (%d requests)", len(result.found),
             len(result.records), len(result.deleted), len(result.failed), client.request_count)
    return result, archive.entries


@functools.lru_cache(maxsize=2)
def nlp_pipeline(nlp_settings: NlpSettings) -> Language:
    """Loaded once per process (model loading dominates small runs)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return build_pipeline(nlp_settings.model, Path(nlp_settings.lexicon), nlp_settings.ner_models)


@functools.lru_cache(maxsize=2)
def role_classifier(nlp_settings: NlpSettings):
    """The sentence-role model for unstructured abstracts, or None when none is configured."""
    return load_sentence_roles(nlp_settings.sentence_roles) if nlp_settings.sentence_roles else None


def current_nlp_version(settings: Settings) -> str:
    nlp = nlp_pipeline(settings.nlp)
    models = settings.nlp.ner_models + ((settings.nlp.sentence_roles,) if settings.nlp.sentence_roles else ())
    detector = f"+detector:{claim_detector_version(settings)}" if settings.nlp.claim_detector else ""
    return pipeline_version(nlp, settings.nlp.model, models) + f"+claims:{claim_rules_version()}" + detector


@functools.cache  # the code this process runs, even if the files change under a served deployment
def claim_rules_version() -> str:
    """Changes whenever the code that turns NLP output into sentences, entities and claims changes, so
    stored documents are processed again with the new rules."""
    digest = hashlib.sha256()
    for module in (analyse, extract):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:12]


def claim_detector_version(settings: Settings) -> str:
    """The learned detector's models, its veto, its threshold where one is set and the encoder it reads: a change
    re-reads the articles."""
    from pipeline.claims.detector import detector_digest

    threshold = settings.nlp.claim_detector_threshold
    chosen = "" if threshold is None else f"/threshold{threshold:g}"
    return f"{detector_digest()[:8]}/veto{settings.nlp.claim_detector_veto:g}{chosen}/{encoder(settings).version}"


def plan_changes(settings: Settings, articles: list[Article], records: list[PubmedRecord],
                 nlp_version: str) -> db.LoadPlan:
    """Only documents whose content or NLP version changed since they were stored need work."""
    with db.connect(settings.storage.db_path) as con:
        return db.plan_load(con, articles, records, nlp_version)


@dataclass(frozen=True)
class NlpBatch:
    """One NLP task's documents."""

    index: int
    articles: tuple[Article, ...]
    records: tuple[PubmedRecord, ...]
    deleted_pmids: tuple[str, ...] = ()  # applied after the batch's documents are stored
    source: str = "E-utilities"  # or the bulk file's name, for progress logs

    def __len__(self) -> int:
        return len(self.articles) + len(self.records)


def nlp_batches(articles: list[Article], records: list[PubmedRecord], size: int) -> list[NlpBatch]:
    """Split the documents to analyse into batches of ``size`` (articles first: they are few)."""
    docs: list[Article | PubmedRecord] = [*articles, *records]
    batches = []
    for index, start in enumerate(range(0, len(docs), size)):
        chunk = docs[start:start + size]
        batches.append(NlpBatch(index, tuple(d for d in chunk if isinstance(d, Article)),
                                tuple(d for d in chunk if isinstance(d, PubmedRecord))))
    return batches


def run_nlp(settings: Settings, articles: list[Article], records: list[PubmedRecord]) -> list[AnalysedDoc]:
    nlp = nlp_pipeline(settings.nlp)
    units: list[TextUnit] = [unit_from_article(a) for a in articles] + [unit_from_record(r) for r in records]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scispaCy's empty global matcher warning
        parsed = list(analyse_docs(nlp, units, batch_size=settings.nlp.batch_size, roles=role_classifier(settings.nlp)))
    return claims_of(settings, parsed)


def claims_of(settings: Settings, parsed: list[ParsedDoc]) -> list[AnalysedDoc]:
    """The claim stage: the rules on every document and, when ``[nlp] claim_detector`` is on, the learned
    detector on the sentences of articles (abstracts keep the rules alone: they are many, and their claims are
    read from results and conclusions)."""
    detections: dict[str, list] = {}
    if settings.nlp.claim_detector:
        from pipeline.claims.detector import claim_detector

        model = encoder(settings)
        for doc in parsed:
            if doc.source == "article" and doc.sentences:
                texts = [s.text for s in doc.sentences]
                detections[doc.doc_id] = claim_detector().detect(texts, model.embed(texts), model.version,
                                                                 settings.nlp.claim_detector_veto,
                                                                 settings.nlp.claim_detector_threshold)
    return [extract.with_claims(doc, detections.get(doc.doc_id)) for doc in parsed]


def analyse_batch(settings: Settings, batch: NlpBatch) -> list[AnalysedDoc]:
    """NLP and claims for one batch; runs in whichever process or Dask worker the task runner picks (the
    pipeline is loaded once per worker process)."""
    return run_nlp(settings, list(batch.articles), list(batch.records))


def store_batch(settings: Settings, run_id: str, nlp_version: str, batch: NlpBatch,
                analysed: list[AnalysedDoc]) -> int:
    """Write one analysed batch (one transaction); returns the claims written."""
    with db.connect(settings.storage.db_path) as con:
        return db.load_batch(con, run_id, nlp_version, batch.articles, batch.records, analysed, batch.deleted_pmids)


def pending_bulk_files(settings: Settings) -> list[BulkFile]:
    """The configured bulk files not loaded yet, in the order they must be applied. Files loaded before are
    checked by size only here (hashing a whole baseline every night would take an hour)."""
    if settings.bulk.directory is None:
        return []
    with db.connect(settings.storage.db_path) as con:
        return bulk_files_store.pending_bulk_files(con, bulk.bulk_files(settings.bulk.directory), rehash_done=False)


def start_bulk_file(settings: Settings, bulk_file: BulkFile, run_id: str) -> None:
    with db.connect(settings.storage.db_path) as con:
        bulk_files_store.mark_started(con, bulk_file, run_id)


def finish_bulk_file(settings: Settings, bulk_file: BulkFile, run_id: str, records_kept: int, deletions: int) -> None:
    with db.connect(settings.storage.db_path) as con:
        bulk_files_store.mark_done(con, bulk_file, run_id, records_kept, deletions)


class BulkFileReader:
    """The NLP batches of one bulk file, streamed: the records on the topic whose content or NLP version
    changed, each batch with the deletions that follow its records in the file."""

    def __init__(self, settings: Settings, bulk_file: BulkFile, nlp_version: str):
        self.settings, self.bulk_file, self.nlp_version = settings, bulk_file, nlp_version
        self.topic = TopicFilter(settings.bulk.topic)
        self.records_read = self.records_kept = self.records_changed = self.deletions = 0

    def __iter__(self):
        for part in bulk.iter_file_batches(self.bulk_file, self.settings.execution.batch_docs):
            kept = [r for r in part.records if self.topic.matches(r)]
            plan = plan_changes(self.settings, [], kept, self.nlp_version)
            self.records_read += len(part.records)
            self.records_kept += len(kept)
            self.records_changed += len(plan.records)
            self.deletions += len(part.deleted_pmids)
            yield NlpBatch(part.index, (), tuple(plan.records), part.deleted_pmids, source=self.bulk_file.name)
        log.info("%s: %d records read, %d on the topic, %d through NLP, %d deletions", self.bulk_file.name,
                 self.records_read, self.records_kept, self.records_changed, self.deletions)


def record_load(settings: Settings, results: db.RunResults, plan: db.LoadPlan, claims_loaded: int,
                error: str | None = None) -> db.LoadCounts:
    """The run's bookkeeping and watermark, after every batch is stored (the run stays running)."""
    lexicon = nlp_pipeline(settings.nlp).get_pipe("exoclaims_concepts").lexicon
    with db.connect(settings.storage.db_path) as con:
        if redecided := db.refresh_study_designs(con):
            log.info("study-design rules changed: decided the design of %d stored records again", redecided)
        return db.record_load(con, results, plan, claims_loaded, lexicon, error=error)


def encoder(settings: Settings) -> SentenceEncoder:
    """The process's sentence encoder, loaded once (``[encoder]`` in the config)."""
    return sentence_encoder(settings.encoder.package, settings.encoder.thread_count, settings.encoder.batch_size)


@dataclass(frozen=True)
class EmbeddingCounts:
    encoded: int  # distinct sentence texts encoded by this call
    model_version: str


def embed_sentences(settings: Settings) -> EmbeddingCounts:
    """Encode every stored sentence text that has no vector from the current encoder yet, a chunk per
    transaction; earlier encoders' vectors are dropped. A second call encodes nothing."""
    model = encoder(settings)
    with db.connect(settings.storage.db_path) as con:
        embeddings.fill_text_hashes(con)
        if dropped := embeddings.drop_other_versions(con, model.version):
            log.info("dropped %d sentence embeddings of earlier encoders", dropped)
        todo = embeddings.count_missing(con, model.version)
        if not todo:
            log.info("every sentence already has an embedding from %s", model.version)
            return EmbeddingCounts(0, model.version)
        log.info("encoding %d sentence texts with %s (%d threads)", todo, model.version, settings.encoder.thread_count)
        done = 0
        for chunk in embeddings.missing_texts(con, model.version, settings.encoder.chunk):
            vectors = model.embed([text for _, text in chunk])
            done += embeddings.store_embeddings(con, model.version, [h for h, _ in chunk], vectors)
            log.info("encoded %d/%d sentence texts", done, todo)
        return EmbeddingCounts(done, model.version)


@functools.cache  # the code this process runs, even if the files change under a served deployment
def comparison_method_version() -> str:
    """Changes whenever the linking or verdict rules or the stance model change, so stored verdicts
    are recomputed."""
    digest = hashlib.sha256()
    for path in (evidence.__file__, verdicts.__file__, stance.__file__, stance.WEIGHTS_PATH):
        digest.update(Path(path).read_bytes())
    # the frames, directness and certainty rules, the comparison that runs them, and the domain file they read
    for path in (frames.__file__, graded.__file__, directness.__file__, certainty.__file__, domain.__file__,
                 comparison.__file__):
        digest.update(Path(path).read_bytes())
    digest.update(domain.load().version.encode())
    return digest.hexdigest()[:12]


def stance_model(threads: int = 1, package: str = stance_encoder.STANCE_PACKAGE) -> stance_encoder.EncoderStance:
    """The stance model of the comparison: the fine-tuned cross-encoder (docs/stance.md), loaded once;
    ``package`` is ``[compare] stance_model``."""
    return stance_encoder.encoder_stance(package, threads)


def text_stance(pairs: list[tuple[str, str]], threads: int = 1, package: str = stance_encoder.STANCE_PACKAGE
                ) -> list[tuple[str, float, tuple[float, float, float]]]:
    """(label, probability, (P(supports), P(contradicts), P(unrelated))) for (article sentence, literature
    sentence) pairs, by the stance model; the probabilities are calibrated on dev data."""
    return [(p.label, p.score, tuple(p.probabilities[s] for s in stance.STANCES))
            for p in stance_model(threads, package).predict_many(pairs)]


def compare_claims(settings: Settings, run_id: str | None = None) -> comparison_store.ComparisonCounts:
    """Link every article claim to the literature, decide verdicts and find conflicts between articles.

    Recomputed from everything stored (a new record can change an old verdict), skipped when neither
    the claims nor the rules changed since the last comparison. The store is read once, the decision
    (:func:`pipeline.compare.comparison.compare`) runs with the database closed, so analysts can query it
    meanwhile, and its result is written once, in one transaction. ``run_id`` is recorded as the run that made
    the comparison, or found it current."""
    model_version = encoder(settings).version
    threads = settings.encoder.thread_count
    policy = evidence.CandidatePolicy(settings.compare.max_candidates, settings.compare.min_similarity)
    package = settings.compare.stance_model
    method = f"{comparison_method_version()}|{model_version}|{stance_model(threads, package).version}|{policy}"
    with db.connect(settings.storage.db_path) as con:
        inputs = comparison_store.read_inputs(con, model_version)
        fingerprint = inputs.fingerprint(method)
        if fingerprint == comparison_store.stored_fingerprint(con):
            comparison_store.confirm_comparison(con, run_id)
            counts = comparison_store.stored_counts(con)
            log.info("comparison unchanged since the last run (%d links, %d verdicts)", counts.links, counts.verdicts)
            return counts
    try:
        decided = comparison.compare(inputs, policy, functools.partial(text_stance, threads=threads, package=package))
    finally:
        stance.clear_text_caches()
    with db.connect(settings.storage.db_path) as con:
        counts = comparison_store.write_comparison(con, decided, fingerprint, run_id)
    log.info("compared %d article claims with %d literature claims: %d links, verdicts %s, %d conflicts "
             "between articles", len(inputs.articles), len(inputs.literature), counts.links,
             decided.verdict_counts(), counts.conflicts)
    return counts


def export_records(settings: Settings) -> ExportFiles:
    """RIS, BibTeX and CSV of every stored record, and the PRISMA counts, in ``[exports] directory``.

    Read-only: it runs after the load and comparison, and leaves the file to analysts' queries."""
    with db.connect(settings.storage.db_path, read_only=True) as con:
        files = write_exports(con, settings.exports.directory)
    log.info("exported %d records to %s", files.records, files.directory)
    return files


@dataclass(frozen=True)
class EvidenceReport:
    path: Path  # the static HTML page
    markdown: str  # the same, condensed, for the Prefect artifact


def write_evidence_report(settings: Settings) -> EvidenceReport:
    """Write the HTML evidence report of everything stored; return it with its Markdown digest."""
    path = write_report(settings.storage.db_path, settings.report.path)
    log.info("evidence report written to %s", path)
    return EvidenceReport(path, report_summary(settings.storage.db_path, path))


def enter_stage(settings: Settings, run_id: str, stage: str) -> None:
    """Record the stage the run is in, so a run that dies is marked with where it died."""
    with db.connect(settings.storage.db_path) as con:
        db.enter_stage(con, run_id, stage)
    log.info("run %s: entering stage %s", run_id, stage)


def close_run(settings: Settings, run_id: str, error: str | None = None) -> str:
    """Write the run's status once its last stage is done: 'failed' when a source could not be read (``error``),
    else 'succeeded'. Returns the status."""
    status = "failed" if error else "succeeded"
    with db.connect(settings.storage.db_path) as con:
        db.close_run(con, run_id, status, error)
    return status


def mark_failed(settings: Settings, run_id: str, error: str) -> None:
    """Close a run that raised: 'failed', with the stage it was in and the error."""
    with db.connect(settings.storage.db_path) as con:
        db.fail_run(con, run_id, error)
