"""The nightly Prefect flow: it only wires library stages (``pipeline.stages``) together."""

from __future__ import annotations

import time
from collections import deque
from contextlib import ExitStack
from typing import Iterable

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.logging import get_run_logger
from prefect.states import Failed
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

from pipeline import stages
from pipeline.config import ExecutionSettings, Settings, load_settings
from pipeline.pubmed.bulk import BulkFileError
from pipeline.pubmed.eutils import EutilsError
from pipeline.records import NlpTotals
from pipeline.report.summary import run_summary_markdown
from pipeline.store.db import LoadCounts, LoadPlan, RunResults
from pipeline.store.runlock import RunInProgress, exclusive_run
from pipeline.workers import exit_with_parent


open_run = task(stages.open_run, name="open-run")
ingest_articles = task(stages.ingest_articles, name="ingest-articles")
fetch_pubmed = task(stages.harvest_pubmed, name="fetch-pubmed")
plan_changes = task(stages.plan_changes, name="select-changed")
analyse_batch = task(stages.analyse_batch, name="nlp-and-claims", task_run_name="nlp-and-claims-{batch.index}")
store_batch = task(stages.store_batch, name="load-batch", task_run_name="load-batch-{batch.index}")
record_load = task(stages.record_load, name="load-duckdb")
pending_bulk_files = task(stages.pending_bulk_files, name="list-bulk-files")
start_bulk_file = task(stages.start_bulk_file, name="start-bulk-file", task_run_name="start-{bulk_file.name}")
finish_bulk_file = task(stages.finish_bulk_file, name="finish-bulk-file", task_run_name="finish-{bulk_file.name}")
embed = task(stages.embed_sentences, name="embed-sentences")
compare = task(stages.compare_claims, name="compare-claims")
export = task(stages.export_records, name="export-records")
evidence_report = task(stages.write_evidence_report, name="evidence-report")


@flow(name="exoclaims-nightly", log_prints=True)
def nightly(config_path: str | None = None, settings: Settings | None = None) -> LoadCounts:
    """One run. Its ``runs`` row says ``running`` and the stage it is in until the last stage is done, then
    ``succeeded``, or ``failed`` with the stage and the error when a stage raises. When PubMed cannot be
    harvested the articles are still stored, every later stage runs, and the flow run ends Failed with a
    one-line message (no traceback: it is an outage, not a bug). A second run started while one is going on
    the same database stops at once, writing nothing."""
    settings = settings or load_settings(config_path)
    try:
        with exclusive_run(settings.storage.db_path):
            return _run(settings)
    except RunInProgress as exc:
        get_run_logger().error(str(exc))
        return Failed(message=str(exc))


mark_failed = task(stages.mark_failed, name="mark-run-failed")


def _run(settings: Settings):
    run = open_run(settings)
    try:
        return _stages(settings, run, time.monotonic())
    except Exception as exc:
        # the run's row says why it stopped (a full disk, a broken model); what it stored stays stored
        mark_failed(settings, run.run_id, f"{type(exc).__name__}: {exc}")
        raise


def _stages(settings: Settings, run: stages.RunContext, started: float):
    logger = get_run_logger()

    def stage(name: str) -> None:
        stages.enter_stage(settings, run.run_id, name)

    stage("ingest-articles")
    articles = ingest_articles(settings)
    nlp_version = stages.current_nlp_version(settings)
    stage("bulk-files")
    bulk_totals, bulk_error = load_bulk_files(settings, run.run_id, nlp_version)
    errors = [bulk_error] if bulk_error else []
    harvest, archived = None, []
    stage("fetch-pubmed")
    try:
        harvest, archived = fetch_pubmed.with_options(
            retries=settings.pubmed.task_retries, retry_delay_seconds=settings.pubmed.task_retry_delay_s,
        )(settings, run)
    except EutilsError as exc:
        errors.append(str(exc))
        logger.error("PubMed harvest failed; storing the article results only: %s", exc)
    error = "; ".join(errors) or None
    records = list(harvest.records.values()) if harvest else []
    stage("select-changed")
    plan = plan_changes(settings, articles, records, nlp_version)
    logger.info("NLP needed for %d/%d articles and %d/%d records", len(plan.articles), len(articles),
                len(plan.records), len(records))
    batches = stages.nlp_batches(plan.articles, plan.records, settings.execution.batch_docs)
    stage("nlp-and-claims")
    nlp_totals = analyse_and_store(settings, run.run_id, nlp_version, batches, len(batches)) + bulk_totals
    # the documents are stored batch by batch; the bookkeeping needs ids and counts only, and passing the
    # records to a task would make Prefect hash all of them for its cache key
    results = RunResults(
        run_id=run.run_id,
        nlp_version=nlp_version,
        deleted_pmids=harvest.deleted if harvest else [],
        failed_pmids=harvest.failed if harvest else {},
        fetched_pmids=list(harvest.records) if harvest else [],
        raw_responses=archived,
        records_found=len(harvest.found) if harvest else 0,
        query_pmids=harvest.query_pmids if harvest else {},
        search_from=harvest.search_from if harvest else None,
        watermark=harvest.watermark if harvest else None,
    )
    stage("load-duckdb")
    counts = record_load(settings, results, plan, nlp_totals.claims, error=error)
    stage("embed-sentences")
    embed(settings)
    stage("compare-claims")
    compared = compare(settings, run.run_id)
    stage("export-records")
    exported = export(settings)
    stage("evidence-report")
    report = evidence_report(settings)
    create_markdown_artifact(key="exoclaims-evidence-report", markdown=report.markdown,
                             description="exosome-claims evidence report")
    status = stages.close_run(settings, run.run_id, error)  # once, after the last stage
    summary = run_summary_markdown(results, counts, status, error, time.monotonic() - started, nlp_totals)
    create_markdown_artifact(key="exoclaims-run-summary", markdown=summary, description="exosome-claims nightly run")
    logger.info("run %s %s: %d new, %d updated, %d unchanged, %d deleted, %d failed records; %d articles; %d claims; "
                "%d verdicts, %d evidence links; exports in %s; report %s", run.run_id, status, counts.records_new,
                counts.records_updated, counts.records_unchanged, counts.records_deleted, len(results.failed_pmids),
                counts.articles_loaded, counts.claims_loaded, compared.verdicts, compared.links, exported.directory, report.path)
    if error:
        return Failed(message=error)
    return counts


def analyse_and_store(settings: Settings, run_id: str, nlp_version: str, batches: Iterable[stages.NlpBatch],
                      total: int | None = None) -> NlpTotals:
    """The NLP stage: one task per batch on the task runner named in ``[execution]``, each batch stored as
    soon as it is done, in order. ``batches`` may be a stream (a bulk file being read): at most two batches
    per worker are in flight, so memory stays bounded whatever the corpus size."""
    totals = NlpTotals()
    logger = get_run_logger()
    window = 2 * settings.execution.worker_count
    in_flight: deque = deque()

    def store_oldest():
        batch, future = in_flight.popleft()
        analysed = future.result()
        totals.add(analysed, store_batch(settings, run_id, nlp_version, batch, analysed))
        logger.info("%s: stored NLP batch %d%s (%d documents, %d deletions)", batch.source, batch.index + 1,
                    f"/{total}" if total else "", len(batch), len(batch.deleted_pmids))

    with ExitStack() as stack:
        runner = None
        for batch in batches:
            if runner is None:  # started on the first batch: a run with nothing to analyse starts no workers
                runner = stack.enter_context(task_runner(settings.execution))
            in_flight.append((batch, runner.submit(analyse_batch, {"settings": settings, "batch": batch})))
            if len(in_flight) >= window:
                store_oldest()
        while in_flight:
            store_oldest()
    return totals


def load_bulk_files(settings: Settings, run_id: str, nlp_version: str) -> tuple[NlpTotals, str | None]:
    """The bulk source: each pending baseline/update file, in order, streamed through the NLP stage and
    marked done once all its batches are stored (a file a killed run left half-loaded is read again; its
    stored batches are unchanged and skip NLP). A file that cannot be used (checksum mismatch, corrupt gzip,
    out of order) stops the bulk source at that file, since later updates must not overtake it, and is
    returned as the error; the E-utilities harvest still runs."""
    totals = NlpTotals()
    try:
        for bulk_file in pending_bulk_files(settings):
            start_bulk_file(settings, bulk_file, run_id)
            reader = stages.BulkFileReader(settings, bulk_file, nlp_version)
            totals += analyse_and_store(settings, run_id, nlp_version, reader)
            finish_bulk_file(settings, bulk_file, run_id, reader.records_kept, reader.deletions)
    except BulkFileError as exc:
        get_run_logger().error("bulk files: %s; the files after it wait for the next run", exc)
        return totals, f"bulk files: {exc}"
    return totals, None


def task_runner(execution: ExecutionSettings):
    """The Prefect task runner named in ``[execution]``."""
    if execution.task_runner == "threads":
        return ThreadPoolTaskRunner(max_workers=execution.worker_count)
    if execution.task_runner == "dask":
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError as exc:
            raise RuntimeError('[execution] task_runner = "dask" needs prefect-dask: uv sync --extra dask') from exc
        if execution.dask_address:
            return DaskTaskRunner(address=execution.dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": execution.worker_count, "threads_per_worker": 1,
                                              "processes": True, "dashboard_address": None})
    return ProcessPoolTaskRunner(max_workers=execution.worker_count, initializer=exit_with_parent)


def nightly_deployment(settings: Settings, config_path: str | None, timezone: str):
    """The served deployment: the nightly flow on the configured cron schedule."""
    from prefect.schedules import Cron

    return nightly.to_deployment(
        name="exoclaims-nightly",
        schedule=Cron(settings.schedule.cron, timezone=timezone),
        parameters={"config_path": config_path},
        description="PubMed + articles -> NLP -> claims -> DuckDB, nightly",
    )
