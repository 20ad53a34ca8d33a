"""End-to-end runs of the Prefect nightly flow against the loopback E-utilities server and a real
DuckDB file."""

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap

import duckdb
import pytest

from helpers import FIXTURES, PROJECT, make_settings, stored_rows
from prefect.exceptions import FailedRun

from flows.nightly import nightly
from pipeline.cli import CONTACT_WARNING, main, warn_without_contact
from pipeline.pubmed.archive import records_from_archive
from pipeline.store.db import content_hash
from pipeline.testing.loopback_eutils import Fault

CONTENT_TABLES = ("pubmed_articles", "articles", "sentences", "entities", "claims", "fetch_failures",
                  "evidence_links", "claim_verdicts", "article_conflict_pairs", "sentence_embeddings")


def _db(settings):
    return duckdb.connect(str(settings.storage.db_path), read_only=True)


def _snapshot(settings) -> dict:
    return stored_rows(settings.storage.db_path, CONTENT_TABLES, provenance=True)


def _latest_summary_artifact() -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["exoclaims-run-summary"])),
            sort=ArtifactSort.CREATED_DESC, limit=1)
    return artifacts[0].data


def _count(settings, sql):
    with _db(settings) as con:
        return con.execute(sql).fetchone()[0]


def test_first_run_then_incremental_run_picks_up_only_new_records(tmp_path, eutils_server):
    settings = make_settings(tmp_path, eutils_server.base_url)
    counts = nightly(settings=settings)
    assert counts.records_new == 8 and counts.articles_loaded == 8
    assert _count(settings, "SELECT count(*) FROM pubmed_articles") == 8
    assert _count(settings, "SELECT count(*) FROM pubmed_articles WHERE NOT has_abstract") == 1
    assert _count(settings, "SELECT count(*) FROM claims WHERE source = 'pubmed'") > 0
    assert _count(settings, "SELECT count(*) FROM claims WHERE source = 'article'") > 50
    # the first run takes everything; its watermark is today
    first_search = eutils_server.requests_for("esearch")[0]
    assert first_search["mindate"] == "1800/01/01"
    with _db(settings) as con:
        status, stage, watermark, finished_at, error = con.execute(
            "SELECT status, stage, watermark, finished_at, error FROM runs").fetchone()
        compared_by = con.execute("SELECT run_id FROM comparison_state").fetchone()[0]
    assert status == "succeeded" and stage == "evidence-report" and error is None and watermark == dt.date.today()
    # succeeded is written once, after the last stage: after the report was written
    report_written = dt.datetime.fromtimestamp((tmp_path / "reports" / "evidence-report.html").stat().st_mtime)
    assert finished_at > report_written
    assert compared_by == _count(settings, "SELECT run_id FROM runs")
    summary = _latest_summary_artifact()
    assert "| new records | 8 |" in summary and "succeeded" in summary
    # every checkable assertion of the seed articles has a verdict with a reason; the supported ones name PMIDs
    with _db(settings) as con:
        assert con.execute("SELECT count(*) FROM verdicts").fetchone()[0] == con.execute(
            "SELECT count(*) FROM claims WHERE source = 'article' AND claim_type <> 'recommendation'").fetchone()[0]
        assert con.execute("SELECT count(*) FROM verdicts WHERE reason IS NULL OR reason = ''").fetchone()[0] == 0
        rows = con.execute("SELECT sentence, verdict, pmids, reason FROM verdicts").fetchall()
        conflicts = con.execute("SELECT sentence_a, sentence_b, reason FROM article_conflicts").fetchall()
        literature_roles = {r[0] for r in con.execute("SELECT DISTINCT role FROM literature_claims").fetchall()}
    assert literature_roles <= {"RESULTS", "CONCLUSIONS", None}
    clinical = next(r for r in rows if r[0].startswith("Clinical studies have shown that exosomal hair restoration"))
    assert clinical[1] != "not addressed" and "90000001" in clinical[2]  # the RCT
    assert "90000002" not in clinical[2]  # a mouse study says nothing about clinical studies
    assert all(r[2] for r in rows if r[1] in ("supported", "contradicted", "mixed"))
    assert any("no rigorous human studies" in a + b and "Clinical studies have shown" in a + b for a, b, _ in conflicts)
    # the run wrote the evidence report and its digest
    assert (tmp_path / "reports" / "evidence-report.html").stat().st_size > 10_000
    # every raw response is archived with its checksum
    assert _count(settings, "SELECT count(*) FROM raw_responses WHERE utility = 'efetch'") == 1
    assert all(p.suffix == ".gz" for p in (tmp_path / "raw").rglob("*") if p.is_file())
    # ... so the records can be parsed again without the network
    with _db(settings) as con:
        entries = [dict(zip(("utility", "path", "sha256", "fetched_at"), row)) for row in
                   con.execute("SELECT utility, path, sha256, fetched_at FROM raw_responses").fetchall()]
        stored = {r[0]: r[1] for r in con.execute("SELECT pmid, content_sha256 FROM pubmed_articles").fetchall()}
    reparsed, _ = records_from_archive(entries)
    assert {r.pmid: content_hash(r) for r in reparsed} == stored

    new_pmids = eutils_server.add_xml((FIXTURES / "pubmed_update" / "exosome_hair_new.xml").read_bytes(),
                                      entrez_date=dt.date.today())
    eutils_server.state.requests.clear()
    counts = nightly(settings=settings)
    assert counts.records_new == 2 and counts.records_updated == 0
    second_search = eutils_server.requests_for("esearch")[-1]
    expected_from = dt.date.today() - dt.timedelta(days=settings.pubmed.overlap_days)
    assert second_search["mindate"] == expected_from.strftime("%Y/%m/%d")
    fetched = {i for p in eutils_server.requests_for("efetch") for i in p.get("id", "").split(",") if i}
    assert _count(settings, "SELECT count(*) FROM pubmed_articles") == 10
    with _db(settings) as con:
        nlp_pmids = {r[0] for r in con.execute(
            "SELECT DISTINCT doc_id FROM sentences s JOIN pubmed_articles p ON p.pmid = s.doc_id "
            "WHERE p.updated_run_id = (SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1)").fetchall()}
    assert nlp_pmids == set(new_pmids) and not fetched
    assert counts.articles_loaded == 0  # articles unchanged: not re-processed


def test_rerun_changes_nothing(after_first_run, eutils_server):
    settings = make_settings(after_first_run, eutils_server.base_url, overlap_days=100000)
    before = _snapshot(settings)
    counts = nightly(settings=settings)  # the overlap makes the second run see every record again
    assert counts.records_new == 0 and counts.records_unchanged == 8 and counts.claims_loaded == 0
    assert _snapshot(settings) == before
    with _db(settings) as con:  # the unchanged comparison is the second run's now: it found it current
        second, confirmed = con.execute("SELECT (SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1), "
                                        "(SELECT run_id FROM comparison_state)").fetchone()
    assert confirmed == second


def test_updated_record_replaces_old_version_and_derived_rows(after_first_run, eutils_server):
    settings = make_settings(after_first_run, eutils_server.base_url, overlap_days=100000)
    xml = (FIXTURES / "pubmed" / "exosome_hair_set1.xml").read_bytes()
    revised = xml.replace(b"ADSC-Exos significantly increased hair density", b"ADSC-Exos did not increase hair density")
    eutils_server.add_xml(revised)
    counts = nightly(settings=settings)
    assert counts.records_updated == 1 and counts.records_new == 0
    with _db(settings) as con:
        sentences = [r[0] for r in con.execute(
            "SELECT text FROM sentences WHERE doc_id = '90000001' ORDER BY sentence_idx").fetchall()]
        assert any("did not increase hair density" in s for s in sentences)
        assert not any("significantly increased" in s for s in sentences)
        assert con.execute("SELECT count(*) FROM claims WHERE doc_id = '90000001' AND sentence LIKE "
                           "'%significantly increased%'").fetchone()[0] == 0
        # the comparison is redone: the revised trial now contradicts the article claims it supported
        stances = {r[0] for r in con.execute("SELECT stance FROM evidence_links WHERE pmid = '90000001' AND "
                                              "design = 'rct'").fetchall()}
        assert "contradicts" in stances


def test_faults_are_retried_and_a_failed_batch_is_fetched_next_run(tmp_path, eutils_server):
    settings = make_settings(tmp_path, eutils_server.base_url, batch_size=3, max_attempts=4)
    eutils_server.inject(Fault("efetch", status=429, retry_after=0), Fault("efetch", status=503),
                         Fault("efetch", truncate=True), Fault("esearch", status=502))
    # then one batch fails all of its attempts
    eutils_server.inject(*[Fault("efetch", status=500) for _ in range(settings.pubmed.max_attempts)])
    counts = nightly(settings=settings)
    failed = _count(settings, "SELECT count(*) FROM fetch_failures")
    assert 1 <= failed <= 3 and counts.records_new == 8 - failed
    assert _count(settings, "SELECT records_failed FROM runs") == failed

    counts = nightly(settings=settings)
    assert counts.records_new == failed
    assert _count(settings, "SELECT count(*) FROM fetch_failures") == 0
    assert _count(settings, "SELECT count(*) FROM pubmed_articles") == 8


def test_unreachable_eutils_stores_articles_and_raises_one_clear_error(after_first_run, eutils_server):
    tmp_path = after_first_run
    settings = make_settings(tmp_path, eutils_server.base_url)
    before = _snapshot(settings)["pubmed_articles"]
    with _db(settings) as con:
        con.execute  # noqa: B018 (just proving the file opens read-only)
    con = duckdb.connect(str(settings.storage.db_path))
    con.execute("DELETE FROM articles")
    con.execute("DELETE FROM sentences WHERE source = 'article'")
    con.close()
    unreachable = make_settings(tmp_path, "http://127.0.0.1:9/entrez/eutils/")
    with pytest.raises(FailedRun, match="cannot reach E-utilities host 127.0.0.1:9"):
        nightly(settings=unreachable)
    assert _snapshot(settings)["pubmed_articles"] == before
    assert _count(settings, "SELECT count(*) FROM articles") == 8
    with _db(settings) as con:
        status, error = con.execute("SELECT status, error FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
    assert status == "failed" and "127.0.0.1:9" in error


def test_a_stage_that_raises_fails_the_run_naming_the_stage_and_the_report_says_whose_verdicts_it_shows(
        after_first_run, eutils_server, monkeypatch):
    from pipeline.report.html import write_report
    from pipeline.store import comparison as comparison_store

    settings = make_settings(after_first_run, eutils_server.base_url)
    report = after_first_run / "reports" / "evidence-report.html"
    exports = {p: p.read_bytes() for p in (after_first_run / "exports").iterdir()}
    report_before = report.read_bytes()
    with _db(settings) as con:
        first_run = con.execute("SELECT run_id FROM runs").fetchone()[0]
    seen = {}

    def broken_read(con, model_version):
        seen["row"] = con.execute("SELECT status, stage FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
        raise RuntimeError("injected fault while reading the comparison's inputs")

    monkeypatch.setattr(comparison_store, "read_inputs", broken_read)
    with pytest.raises(RuntimeError, match="injected fault"):
        nightly(settings=settings)
    assert seen["row"] == ("running", "compare-claims")  # while it ran, the row said how far it had got
    with _db(settings) as con:
        run_id, status, stage, error, finished_at = con.execute(
            "SELECT run_id, status, stage, error, finished_at FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
    assert (status, stage) == ("failed", "compare-claims") and finished_at is not None
    assert error == "compare-claims: RuntimeError: injected fault while reading the comparison's inputs"
    # neither the exports nor the report were rewritten by the failed run: they describe the first run's comparison
    assert {p: p.read_bytes() for p in (after_first_run / "exports").iterdir()} == exports
    assert report.read_bytes() == report_before
    # a report written now says the verdicts come from the earlier run's comparison
    page = write_report(settings.storage.db_path, after_first_run / "later.html").read_text(encoding="utf-8")
    assert (f"The last run, {run_id}, failed during compare-claims, before its comparison was done: these verdicts "
            f"come from the comparison of run {first_run}") in page
    assert "these verdicts come from" not in report_before.decode()


@pytest.mark.slow  # `exoclaims run` in its own process, with its own Prefect server
def test_cli_against_unreachable_host_exits_nonzero_with_one_line(tmp_path):
    config = (PROJECT / "config" / "pipeline.toml").read_text()
    assert "max_attempts = 5" in config and "task_retries = 1" in config and "backoff_s = 1.0" in config
    config = config.replace("max_attempts = 5", "max_attempts = 2").replace("task_retries = 1", "task_retries = 0")
    config = config.replace("backoff_s = 1.0", "backoff_s = 0.01")
    (tmp_path / "pipeline.toml").write_text(config)
    env = {**os.environ, "EXOCLAIMS_EUTILS_URL": "http://127.0.0.1:9/entrez/eutils/",
           "EXOCLAIMS_DB": str(tmp_path / "cli.duckdb"), "EXOCLAIMS_ARCHIVE": str(tmp_path / "raw"),
           "EXOCLAIMS_EXPORTS": str(tmp_path / "exports"), "EXOCLAIMS_REPORT": str(tmp_path / "report.html")}
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "--config", str(tmp_path / "pipeline.toml"), "run"],
                          cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    if not os.environ.get("NCBI_EMAIL"):  # said once, first, and the run went on to try the host
        assert proc.stderr.count("NCBI_EMAIL is not set") == 1
        assert proc.stderr.splitlines()[0] == CONTACT_WARNING
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("exoclaims run failed: cannot reach E-utilities host 127.0.0.1:9"), proc.stderr[-2000:]
    con = duckdb.connect(str(tmp_path / "cli.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 8
    con.close()


def test_run_killed_inside_the_load_transaction_leaves_previous_state(after_first_run, eutils_server):
    settings = make_settings(after_first_run, eutils_server.base_url)
    before = _snapshot(settings)
    # a second process starts loading a run with every table rewritten, then is SIGKILLed mid-transaction
    script = textwrap.dedent(f"""
        import sys, time
        from pipeline.store import db
        from pipeline.records import Article
        real_insert = db.insert_rows
        def insert_then_hang(con, table, columns, rows):
            n = real_insert(con, table, columns, rows)
            if table == "sentences":
                print("IN-TRANSACTION", flush=True)
                time.sleep(120)
            return n
        db.insert_rows = insert_then_hang
        con = db.connect({str(settings.storage.db_path)!r})
        db.start_run(con, "killed-run")
        art = Article("000_67518fd690d0f3e4", "x", "t", "raw", "text", 0)
        from pipeline.records import AnalysedDoc, Sentence
        doc = AnalysedDoc("article", art.article_id, (Sentence("article", art.article_id, 0, 0, 4, "text"),), (), ())
        db.load_run(con, db.RunResults(run_id="killed-run", nlp_version="other", articles=[art], analysed=[doc]))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "IN-TRANSACTION"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    assert _snapshot(settings) == before
    counts = nightly(settings=settings)  # the next run goes on normally
    assert counts.records_new == 0
    with _db(settings) as con:
        statuses = dict(con.execute("SELECT run_id, status FROM runs").fetchall())
    assert statuses["killed-run"] == "abandoned"
    assert _snapshot(settings) == before


def _cli_env(tmp_path, eutils_url: str) -> dict:
    return {"EXOCLAIMS_EUTILS_URL": eutils_url, "EXOCLAIMS_DB": str(tmp_path / "cli.duckdb"),
            "EXOCLAIMS_ARCHIVE": str(tmp_path / "raw"), "EXOCLAIMS_EXPORTS": str(tmp_path / "exports"),
            "EXOCLAIMS_REPORT": str(tmp_path / "report.html")}


def test_run_without_a_contact_address_says_how_to_give_one_then_runs(tmp_path, eutils_server, monkeypatch, capsys):
    (tmp_path / "no-articles").mkdir()  # the records alone: the articles would only slow the run down
    for name, value in {**_cli_env(tmp_path, eutils_server.base_url), "PREFECT_LOGGING_EXTRA_LOGGERS": "pipeline",
                        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                        "EXOCLAIMS_ARTICLES": str(tmp_path / "no-articles")}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NCBI_EMAIL", raising=False)
    assert main(["run"]) == 0
    err = capsys.readouterr().err
    assert err.count("NCBI_EMAIL is not set") == 1 and err.splitlines()[0] == CONTACT_WARNING
    assert "export NCBI_EMAIL=" in CONTACT_WARNING and "contact" in CONTACT_WARNING
    with duckdb.connect(str(tmp_path / "cli.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM pubmed_articles").fetchone()[0] == 8
    assert all("email" not in params for params in eutils_server.requests_for("esearch"))  # none to send

    monkeypatch.setenv("NCBI_EMAIL", "analyst@example.org")
    assert warn_without_contact(None) is False
    assert "NCBI_EMAIL" not in capsys.readouterr().err


def test_serve_without_a_contact_address_warns_before_serving(tmp_path):
    env = {**os.environ, **_cli_env(tmp_path, "http://127.0.0.1:9/entrez/eutils/")}
    env.pop("NCBI_EMAIL", None)
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "serve"], cwd=PROJECT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stderr.readline().rstrip("\n")
    finally:
        proc.kill()
        proc.wait(30)
    assert first == CONTACT_WARNING


def test_served_deployment_runs_nightly_on_the_configured_cron():
    from flows.nightly import nightly_deployment
    from pipeline.config import load_settings

    settings = load_settings(env={})
    deployment = nightly_deployment(settings, None, "Europe/Berlin")
    (schedule,) = deployment.schedules
    assert schedule.schedule.cron == "0 2 * * *" and schedule.schedule.timezone == "Europe/Berlin"
    assert deployment.name == "exoclaims-nightly"


def test_a_foreign_database_file_stops_the_run_before_anything_is_written(tmp_path, eutils_server):
    from pipeline.store.db import StoreError

    settings = make_settings(tmp_path, eutils_server.base_url)
    foreign = duckdb.connect(str(settings.storage.db_path))
    foreign.execute("CREATE TABLE invoices (id INTEGER)")
    foreign.close()
    with pytest.raises(StoreError, match="another application"):
        nightly(settings=settings)
    assert eutils_server.requests_for("esearch") == []
    with _db(settings) as con:
        assert [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()] == ["invoices"]


def test_a_run_started_while_another_is_going_stops_and_writes_nothing(tmp_path, eutils_server):
    settings = make_settings(tmp_path, eutils_server.base_url)
    script = ("import time; from pipeline.store.runlock import exclusive_run\n"
              f"with exclusive_run({str(settings.storage.db_path)!r}):\n    print('locked', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        state = nightly(settings=settings, return_state=True)
    finally:
        holder.kill()
        holder.wait()
    assert state.is_failed() and f"another exoclaims run is in progress" in state.message
    assert f"PID {holder.pid}" in state.message
    assert not settings.storage.db_path.exists() and not eutils_server.requests_for("esearch")
