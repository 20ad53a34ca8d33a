"""The nightly Prefect flow: it only wires library stages (``pipeline.stages``) together."""

from __future__ import annotations

import time

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.logging import get_run_logger
from prefect.states import Failed

from pipeline import stages
from pipeline.config import Settings, load_settings
from pipeline.pubmed.eutils import EutilsError
from pipeline.report.summary import run_summary_markdown
from pipeline.store.db import LoadCounts, RunResults
from pipeline.store.runlock import RunInProgress, exclusive_run


open_run = task(stages.open_run, name="open-run")
ingest_articles = task(stages.ingest_articles, name="ingest-articles")
fetch_pubmed = task(stages.harvest_pubmed, name="fetch-pubmed")
select_changed = task(stages.select_changed, name="select-changed")
run_nlp = task(stages.run_nlp, name="nlp-and-claims")
load = task(stages.load_results, name="load-duckdb")
compare = task(stages.compare_claims, name="compare-claims")
export = task(stages.export_records, name="export-records")
evidence_report = task(stages.write_evidence_report, name="evidence-report")


@flow(name="exoclaims-nightly", log_prints=True)
def nightly(config_path: str | None = None, settings: Settings | None = None) -> LoadCounts:
    """One run. When PubMed cannot be harvested the articles are still stored and the flow run ends
    Failed with a one-line message (no traceback: it is an outage, not a bug). A second run started
    while one is going on the same database stops at once, writing nothing."""
    settings = settings or load_settings(config_path)
    try:
        with exclusive_run(settings.storage.db_path):
            return _run(settings)
    except RunInProgress as exc:
        get_run_logger().error(str(exc))
        return Failed(message=str(exc))


def _run(settings: Settings):
    started = time.monotonic()
    logger = get_run_logger()
    run = open_run(settings)
    articles = ingest_articles(settings)
    error = None
    harvest, archived = None, []
    try:
        harvest, archived = fetch_pubmed.with_options(
            retries=settings.pubmed.task_retries, retry_delay_seconds=settings.pubmed.task_retry_delay_s,
        )(settings, run)
    except EutilsError as exc:
        error = str(exc)
        logger.error("PubMed harvest failed; storing the article results only: %s", error)
    nlp_version = stages.current_nlp_version(settings)
    records = list(harvest.records.values()) if harvest else []
    changed_articles, changed_records = select_changed(settings, articles, records, nlp_version)
    logger.info("NLP needed for %d/%d articles and %d/%d records", len(changed_articles), len(articles),
                len(changed_records), len(records))
    analysed = run_nlp(settings, changed_articles, changed_records)
    results = RunResults(
        run_id=run.run_id,
        nlp_version=nlp_version,
        articles=articles,
        records=records,
        analysed=analysed,
        deleted_pmids=harvest.deleted if harvest else [],
        failed_pmids=harvest.failed if harvest else {},
        fetched_pmids=list(harvest.records) if harvest else [],
        raw_responses=archived,
        records_found=len(harvest.found) if harvest else 0,
        query_pmids=harvest.query_pmids if harvest else {},
        search_from=harvest.search_from if harvest else None,
        watermark=harvest.watermark if harvest else None,
    )
    status = "failed" if error else "succeeded"
    counts = load(settings, results, status=status, error=error)
    compared = compare(settings)
    exported = export(settings)
    report = evidence_report(settings)
    create_markdown_artifact(key="exoclaims-evidence-report", markdown=report.markdown,
                             description="exosome-claims evidence report")
    summary = run_summary_markdown(results, counts, status, error, time.monotonic() - started)
    create_markdown_artifact(key="exoclaims-run-summary", markdown=summary, description="exosome-claims nightly run")
    logger.info("run %s %s: %d new, %d updated, %d unchanged, %d deleted, %d failed records; %d articles; %d claims; "
                "%d verdicts, %d evidence links; exports in %s; report %s", run.run_id, status, counts.records_new,
                counts.records_updated, counts.records_unchanged, counts.records_deleted, len(results.failed_pmids),
                counts.articles_loaded, counts.claims_loaded, compared.verdicts, compared.links, exported.directory, report.path)
    if error:
        return Failed(message=error)
    return counts


def nightly_deployment(settings: Settings, config_path: str | None, timezone: str):
    """The served deployment: the nightly flow on the configured cron schedule."""
    from prefect.schedules import Cron

    return nightly.to_deployment(
        name="exoclaims-nightly",
        schedule=Cron(settings.schedule.cron, timezone=timezone),
        parameters={"config_path": config_path},
        description="PubMed + articles -> NLP -> claims -> DuckDB, nightly",
    )
