"""A run killed (SIGKILL, a real process) at each stage, then restarted, leaves what an uninterrupted run
leaves: no document lost, none stored twice, the same claims, evidence links and verdicts; and the killed run
reads abandoned, naming the stage it died in."""

import os
import signal
import subprocess
import sys
import time

import duckdb
import psutil
import pytest
from prefect.settings import get_current_settings

from helpers import PROJECT, stored_rows

from flows.nightly import nightly
from pipeline.config import DEFAULT_CONFIG, load_settings

pytestmark = pytest.mark.slow  # make test-all

BATCH_DOCS = 2  # 8 articles + 8 records: eight NLP batches, so a kill can land between two of them

# (the stage the run is killed in, the log line that triggers the kill: the stage's entry, or a finished task
# inside it). Until the run's bookkeeping commits (load-duckdb) the next run repeats its search window; after
# it, the records are stored and the next run re-derives the embeddings, comparison, exports and report. Either
# way the killed run is marked abandoned by the next run, with the stage it was in.
KILL_POINTS = [
    ("fetch-pubmed", "entering stage fetch-pubmed"),
    ("nlp-and-claims", "Task run 'load-batch-0'"),  # between two stored batches
    ("load-duckdb", "entering stage load-duckdb"),
    ("embed-sentences", "entering stage embed-sentences"),
    ("compare-claims", "entering stage compare-claims"),
    ("export-records", "entering stage export-records"),
    ("evidence-report", "entering stage evidence-report"),
]


def _config(tmp_path, eutils_url: str):
    config = tmp_path / "pipeline.toml"
    config.write_text(DEFAULT_CONFIG.read_text().replace("batch_docs = 200", f"batch_docs = {BATCH_DOCS}"))
    env = {
        "EXOCLAIMS_CONFIG": str(config),
        "EXOCLAIMS_EUTILS_URL": eutils_url,
        "EXOCLAIMS_DB": str(tmp_path / "exoclaims.duckdb"),
        "EXOCLAIMS_ARCHIVE": str(tmp_path / "raw"),
        "EXOCLAIMS_EXPORTS": str(tmp_path / "exports"),
        "EXOCLAIMS_REPORT": str(tmp_path / "reports" / "evidence-report.html"),
        "NCBI_EMAIL": "tests@example.org",
    }
    return env, load_settings(config, env=env)


def _run_and_kill(env: dict, trigger: str) -> list[str]:
    """`exoclaims run` in its own process, SIGKILLed as soon as ``trigger`` appears in its log; its NLP worker
    processes must end with it."""
    full_env = {**os.environ, **env, "PREFECT_API_URL": get_current_settings().api.url,
                "PREFECT_LOGGING_LEVEL": "INFO"}
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "run"], cwd=PROJECT, env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen, workers = [], []
    deadline = time.monotonic() + 300
    try:
        for line in proc.stdout:
            seen.append(line)
            if trigger in line and ("Task run" not in trigger or "Finished in state Completed" in line):
                workers = psutil.Process(proc.pid).children(recursive=True)
                proc.send_signal(signal.SIGKILL)
                break
            assert time.monotonic() < deadline, "the run never reached the kill point"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(60)
    assert proc.returncode == -signal.SIGKILL, "".join(seen[-20:])
    _, alive = psutil.wait_procs(workers, timeout=30)
    assert not alive, f"worker processes outlived the killed run: {alive}"
    return seen


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, eutils_server_module):
    tmp = tmp_path_factory.mktemp("uninterrupted")
    _, settings = _config(tmp, eutils_server_module.base_url)
    nightly(settings=settings)
    return stored_rows(settings.storage.db_path), (tmp / "exports" / "records.csv").read_text()


@pytest.mark.parametrize("stage,trigger", KILL_POINTS, ids=[k[0] for k in KILL_POINTS])
def test_a_run_killed_then_restarted_equals_an_uninterrupted_run(stage, trigger, tmp_path, eutils_server_module,
                                                                  uninterrupted):
    env, settings = _config(tmp_path, eutils_server_module.base_url)
    _run_and_kill(env, trigger)
    if stage == "nlp-and-claims":
        # the batches finished before the kill are kept; the others are not there yet
        with duckdb.connect(str(settings.storage.db_path), read_only=True) as con:
            stored = con.execute("SELECT (SELECT count(*) FROM articles) + (SELECT count(*) FROM pubmed_articles)"
                                 ).fetchone()[0]
        assert 0 < stored < 16

    nightly(settings=settings)

    rows, records_csv = uninterrupted
    assert stored_rows(settings.storage.db_path) == rows
    assert (tmp_path / "exports" / "records.csv").read_text() == records_csv
    with duckdb.connect(str(settings.storage.db_path), read_only=True) as con:
        runs = con.execute("SELECT status, stage, error FROM runs ORDER BY started_at").fetchall()
    (killed_status, killed_stage, killed_error), last = runs
    assert (killed_status, killed_stage) == ("abandoned", stage)
    assert f"stopped during {stage}" in killed_error
    assert last[:2] == ("succeeded", "evidence-report") and last[2] is None
    assert (tmp_path / "reports" / "evidence-report.html").exists()
