"""The NCBI API key goes to NCBI and nowhere else: not into log lines, exception messages, Prefect
(flow-run parameters, logs, artifacts, states), the response archive, the DuckDB file, the exports
or the HTML report. Every test first checks that the server really received the key, so none of
them can pass because the key was never used."""

from __future__ import annotations

import gzip
import logging
import os
import sqlite3
import subprocess
import sys
import time
import traceback
from pathlib import Path

import duckdb
import pytest

from helpers import PROJECT, make_settings
from pipeline.config import PubmedSettings
from pipeline.pubmed.eutils import EutilsClient, EutilsError, EutilsUnavailable
from pipeline.testing.loopback_eutils import Fault

# Shaped like an NCBI key (36 hex digits), with a prefix no fixture or log line holds by chance.
SECRET = "5ec7e7c0ffee0000a1b2c3d4e5f60718293a"
# a truncated quote ("...api-key": "5ec7e7c0ffee00...) is a leak too
NEEDLES = (SECRET, SECRET[:12])


def _holding_secret(places: dict[str, bytes | str]) -> list[str]:
    """Names of the places whose content holds the key or a telling piece of it."""
    found = []
    for name, content in places.items():
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
        if any(needle in text for needle in NEEDLES):
            found.append(name)
    return found


def _log_text(caplog) -> str:
    parts = [caplog.text]
    for record in caplog.records:
        parts.append(record.getMessage())
        if record.exc_info:
            parts.append("".join(traceback.format_exception(*record.exc_info)))
    return "\n".join(parts)


def _client(url: str, **overrides) -> EutilsClient:
    settings = PubmedSettings(queries=("q",), eutils_url=url, email="dev@example.org", api_key=SECRET,
                              backoff_s=0.01, max_attempts=2, timeout_s=5, **overrides)
    return EutilsClient(settings, sleep=lambda s: None)


def _failure_text(exc: BaseException) -> str:
    """Everything a log handler or Prefect could print about the exception, causes included."""
    return "".join(traceback.format_exception(exc)) + repr(exc)


@pytest.mark.parametrize("failure", ["ncbi-400", "error-200", "http-500", "dropped"])
def test_client_errors_and_log_lines_never_quote_the_key(echoing_eutils, caplog, failure):
    caplog.set_level(logging.DEBUG)
    client = _client(echoing_eutils.base_url)
    if failure in ("ncbi-400", "error-200"):
        for _ in range(2):
            echoing_eutils.echo_key_once("esearch", failure)
        expected = EutilsError
    else:
        echoing_eutils.inject(*[Fault("esearch", status=500, drop=failure == "dropped") for _ in range(2)])
        expected = EutilsUnavailable if failure == "dropped" else EutilsError
    with pytest.raises(expected) as raised:
        client.esearch("exosomes")
    assert echoing_eutils.requests_for("esearch")[0]["api_key"] == SECRET
    message = _failure_text(raised.value)
    if failure == "ncbi-400":
        assert "API key invalid" in message and "[redacted]" in message  # the error stays readable
    assert _holding_secret({"exception": message, "logs": _log_text(caplog)}) == []


def test_unreachable_host_error_does_not_quote_the_key(caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(EutilsUnavailable) as raised:
        _client("http://127.0.0.1:9/entrez/eutils/").esearch("x")
    assert _holding_secret({"exception": _failure_text(raised.value), "logs": _log_text(caplog)}) == []


def test_redaction_also_covers_api_key_in_urls():
    client = _client("http://127.0.0.1:9/entrez/eutils/")
    text = "GET https://eutils.ncbi.nlm.nih.gov/entrez/eutils/efetch.fcgi?db=pubmed&api_key=other-key-123&id=1"
    assert client.redact(text).endswith("api_key=[redacted]&id=1")
    assert client.redact(f"key {SECRET} rejected") == "key [redacted] rejected"


# --- whole runs: every place a run writes to ---------------------------------------------------------------


def _duckdb_contents(path: Path) -> dict[str, str]:
    """Every row of every table and view, as text, plus the raw bytes of the database files."""
    places: dict[str, bytes | str] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()]
        assert {"runs", "raw_responses", "fetch_failures", "pubmed_articles"} <= set(tables)
        for table in tables:
            places[f"duckdb:{table}"] = repr(con.execute(f'SELECT * FROM "{table}"').fetchall())
    for file in path.parent.glob(path.name + "*"):
        places[f"file:{file.name}"] = file.read_bytes()
    return places


def _archive_contents(root: Path) -> dict[str, bytes]:
    files = [p for p in root.rglob("*") if p.is_file()]
    assert files and all(p.name.endswith(".xml.gz") for p in files)
    return {f"archive:{p.name}": gzip.decompress(p.read_bytes()) for p in files}


def _files_under(root: Path, label: str, newer_than: float = 0.0) -> dict[str, bytes]:
    return {f"{label}:{p.relative_to(root)}": p.read_bytes() for p in root.rglob("*")
            if p.is_file() and p.stat().st_mtime >= newer_than}


def _sqlite_dump(path: str) -> str:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return "\n".join(con.iterdump())
    finally:
        con.close()


def _prefect_contents(db_path: str, started: float) -> dict[str, bytes | str]:
    """The Prefect server's whole database (flow-run parameters, states, logs, artifacts) as SQL text,
    plus any result files Prefect persisted during the run."""
    import prefect.settings
    from prefect.client.orchestration import get_client
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=30)
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_runs(limit=1, sort="START_TIME_DESC")[0]
        artifacts = client.read_artifacts()
        logs = client.read_logs()
    assert {"exoclaims-run-summary", "exoclaims-evidence-report"} <= {a.key for a in artifacts}
    assert logs, "the run wrote no logs to Prefect"
    # the settings object is a stored flow-run parameter; its key is masked, not dropped
    assert flow_run.parameters["settings"]["pubmed"]["api_key"] == "**********"
    places: dict[str, bytes | str] = {
        "prefect:flow-run": flow_run.model_dump_json(),
        "prefect:artifacts": "\n".join(a.model_dump_json() for a in artifacts),
        "prefect:logs": "\n".join(log.message for log in logs),
        "prefect:database": _sqlite_dump(db_path),
    }
    storage = Path(prefect.settings.PREFECT_LOCAL_STORAGE_PATH.value())
    if storage.is_dir():
        places.update(_files_under(storage, "prefect-results", newer_than=started))
    return places


def _run_outputs(db: Path, archive: Path, exports: Path, report: Path) -> dict[str, bytes | str]:
    places: dict[str, bytes | str] = {"report": report.read_bytes()}
    places.update(_duckdb_contents(db))
    places.update(_archive_contents(archive))
    places.update(_files_under(exports, "exports"))
    return places


def _queue_failures(server) -> None:
    """A rate limit, a 5xx and one efetch batch refused with NCBI's key-quoting 400."""
    server.inject(Fault("efetch", status=429, retry_after=0), Fault("esearch", status=500))
    server.echo_key_once("efetch", "ncbi-400")


def test_nightly_run_keeps_the_key_out_of_prefect_archive_db_exports_and_report(
        tmp_path, echoing_eutils, prefect_server, caplog, capfd):
    from flows.nightly import nightly

    caplog.set_level(logging.DEBUG)
    settings = make_settings(tmp_path, echoing_eutils.base_url, api_key=SECRET, batch_size=3)
    _queue_failures(echoing_eutils)
    started = time.time()
    nightly(settings=settings)

    sent = [params for _, params in echoing_eutils.state.requests]
    assert sent and all(params.get("api_key") == SECRET for params in sent)
    with duckdb.connect(str(settings.storage.db_path), read_only=True) as con:
        failures = [r[0] for r in con.execute("SELECT error FROM fetch_failures").fetchall()]
    assert failures and all("API key invalid" in e for e in failures)  # the refused batch was recorded

    places = _run_outputs(settings.storage.db_path, settings.storage.archive_dir, settings.exports.directory,
                          settings.report.path)
    places.update(_prefect_contents(prefect_server, started))
    captured = capfd.readouterr()
    places.update({"caplog": _log_text(caplog), "stdout": captured.out, "stderr": captured.err})
    assert _holding_secret(places) == []


@pytest.mark.slow  # `exoclaims run` in its own process, with its own Prefect server
def test_cli_run_keeps_the_key_out_of_its_output_and_prefect_home(tmp_path, echoing_eutils):
    _queue_failures(echoing_eutils)
    prefect_home = tmp_path / "prefect-home"
    env = {**os.environ, "NCBI_API_KEY": SECRET, "NCBI_EMAIL": "tests@example.org",
           "EXOCLAIMS_EUTILS_URL": echoing_eutils.base_url, "EXOCLAIMS_DB": str(tmp_path / "cli.duckdb"),
           "EXOCLAIMS_ARCHIVE": str(tmp_path / "raw"), "EXOCLAIMS_EXPORTS": str(tmp_path / "exports"),
           "EXOCLAIMS_REPORT": str(tmp_path / "report.html"), "PREFECT_HOME": str(prefect_home),
           "PREFECT_LOGGING_LEVEL": "DEBUG"}
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "run"], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    sent = [params for _, params in echoing_eutils.state.requests]
    assert sent and all(params.get("api_key") == SECRET for params in sent)
    assert "API key invalid" in proc.stderr + proc.stdout  # the refused batch was logged ...

    places = _run_outputs(tmp_path / "cli.duckdb", tmp_path / "raw", tmp_path / "exports", tmp_path / "report.html")
    places.update({"stdout": proc.stdout, "stderr": proc.stderr})
    places.update(_files_under(prefect_home, "prefect-home"))
    prefect_dbs = list(prefect_home.rglob("*.db"))
    assert prefect_dbs, "the run left no Prefect database to search"
    for db_file in prefect_dbs:
        places[f"prefect-home-sql:{db_file.name}"] = _sqlite_dump(str(db_file))
    assert _holding_secret(places) == []  # ... without the key
