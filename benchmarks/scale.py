"""Full nightly runs on generated corpora of growing size: records/s per stage, peak memory, DuckDB load rate
and the saved analyst queries on the largest database.

    .venv/bin/python benchmarks/scale.py --sizes 1000 10000 50000 [--nlp shipped|lexicon] [--workers 2]
    .venv/bin/python benchmarks/scale.py --sizes 50000 --keep-other-sizes   # re-measure one size
    .venv/bin/python benchmarks/scale.py --sizes 10000 --stance-model DIR --out ...  # a candidate stance package

Each size gets a fresh DuckDB file and a loopback E-utilities server serving that many generated records in
the real PubmedArticleSet format (``pipeline.testing.synthetic``), plus the five seed articles. The real
Prefect flow runs once per size (on one temporary Prefect server started before the first); per-stage
times come from its task runs:

- fetch+parse: the ``fetch-pubmed`` task (esearch with the history server, efetch in batches, parse, archive)
- NLP: first NLP task start to last NLP task end (the tasks run in parallel on the configured task runner);
  the share of that spent turning parsed documents into sentences, entities and claims is measured
  separately on a sample (``claims``)
- load: the ``load-batch-*`` tasks plus the run's bookkeeping (``load-duckdb``); rows/s counts every row
  written to pubmed_articles, sentences, entities and claims
- compare, exports, report: their tasks

``--nlp lexicon`` runs the concept lexicon alone (``model = "blank:en"``, no statistical models): the rest of
the pipeline at full scale in minutes. ``--nlp shipped`` uses the shipped models (about 10 abstracts/s per
process on a 2-core machine, so 50k records take over an hour). Memory is sampled every 0.2 s over the flow
process and its worker processes. Results: ``benchmarks/results/scale_<nlp>.json`` and ``benchmarks/results.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from results import machine, write_results  # noqa: E402  (benchmarks/results.py, beside this script)

STAGES = ("fetch-pubmed", "select-changed", "load-duckdb", "embed-sentences", "compare-claims", "export-records",
          "evidence-report")


class MemorySampler(threading.Thread):
    """Peak resident memory of this process and of every process it starts (the NLP workers)."""

    def __init__(self, interval_s: float = 0.2):
        super().__init__(daemon=True)
        import psutil

        self.process = psutil.Process()
        self.interval_s = interval_s
        self.peak_self = 0
        self.peak_worker = 0
        self.peak_total = 0
        self._done = threading.Event()

    def run(self):
        import psutil

        while not self._done.is_set():
            try:
                own = self.process.memory_info().rss
                workers = []
                for child in self.process.children(recursive=True):
                    try:
                        workers.append(child.memory_info().rss)
                    except psutil.Error:
                        pass
            except psutil.Error:
                continue
            self.peak_self = max(self.peak_self, own)
            self.peak_worker = max([self.peak_worker, *workers])
            self.peak_total = max(self.peak_total, own + sum(workers))
            self._done.wait(self.interval_s)

    def stop(self) -> dict:
        self._done.set()
        self.join()
        mib = 1024 * 1024
        return {"flow_process_mib": round(self.peak_self / mib), "largest_worker_mib": round(self.peak_worker / mib),
                "all_processes_mib": round(self.peak_total / mib)}


def _task_runs(flow_run_id) -> list:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs, offset = [], 0
        while True:
            page = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                                         limit=200, offset=offset)
            runs += page
            if len(page) < 200:
                return runs
            offset += 200


def _stage_times(task_runs) -> dict:
    def seconds(names):
        chosen = [t for t in task_runs if any(t.name.startswith(n) for n in names) and t.start_time and t.end_time]
        return chosen

    out = {}
    for stage in STAGES:
        runs = seconds([stage])
        out[stage] = round(sum((t.end_time - t.start_time).total_seconds() for t in runs), 3)
    nlp = seconds(["nlp-and-claims-"])
    out["nlp-and-claims (wall)"] = round((max(t.end_time for t in nlp) - min(t.start_time for t in nlp))
                                         .total_seconds(), 3) if nlp else 0.0
    out["nlp-and-claims (task sum)"] = round(sum((t.end_time - t.start_time).total_seconds() for t in nlp), 3)
    out["nlp tasks"] = len(nlp)
    batches = seconds(["load-batch-"])
    out["load-batch (sum)"] = round(sum((t.end_time - t.start_time).total_seconds() for t in batches), 3)
    return out


def _claims_share(settings, sample: list) -> dict:
    """Time spent in nlp.pipe versus turning its output into sentences, entities and claims, on a sample."""
    from pipeline import stages
    from pipeline.claims import extract
    from pipeline.nlp import analyse

    nlp = stages.nlp_pipeline(settings.nlp)
    roles = stages.role_classifier(settings.nlp)
    units = [analyse.unit_from_record(r) for r in sample]
    t0 = time.perf_counter()
    docs = list(nlp.pipe([u.text for u in units], batch_size=settings.nlp.batch_size))
    pipe_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for doc, unit in zip(docs, units):
        extract.with_claims(analyse._to_records(doc, unit, roles))
    claims_s = time.perf_counter() - t0
    return {"documents": len(units), "spacy_pipe_s": round(pipe_s, 3), "claims_s": round(claims_s, 3),
            "claims_docs_per_s": round(len(units) / claims_s, 1) if claims_s else None}


def _queries(db_path: Path, repeats: int = 3) -> dict:
    import duckdb

    from pipeline.report.query import run_query, saved_queries

    with duckdb.connect(str(db_path), read_only=True) as con:
        design = con.execute("SELECT study_design FROM pubmed_articles GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
                             ).fetchone()[0]
        claim_id = con.execute("SELECT claim_id FROM verdicts ORDER BY n_supports DESC NULLS LAST, claim_id LIMIT 1").fetchone()
    params = {"design": design, "claim_id": claim_id[0] if claim_id else ""}
    out = {}
    for name, query in saved_queries().items():
        bound = {p: params[p] for p in query.parameters}
        times, rows = [], 0
        for _ in range(repeats):
            t0 = time.perf_counter()
            rows = len(run_query(db_path, query.sql, bound).rows)
            times.append(time.perf_counter() - t0)
        out[name] = {"median_s": round(statistics.median(times), 4), "rows": rows}
    return out


def _table_rows(db_path: Path) -> dict:
    import duckdb

    with duckdb.connect(str(db_path), read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in
                ("pubmed_articles", "articles", "sentences", "entities", "claims", "evidence_links", "claim_verdicts")}


def run_size(size: int, nlp_mode: str, workers: int, batch_docs: int, tmp: Path, stance_model: str | None = None
             ) -> dict:
    from flows.nightly import nightly
    from pipeline.config import ExecutionSettings, load_settings
    from pipeline.pubmed.parse import parse_pubmed_xml
    from pipeline.testing.loopback_eutils import LoopbackEutils
    from pipeline.testing.synthetic import add_to_loopback, synthetic_articles, write_pubmed_set

    env = {"EXOCLAIMS_DB": str(tmp / "exoclaims.duckdb"), "EXOCLAIMS_ARCHIVE": str(tmp / "raw"),
           "EXOCLAIMS_EXPORTS": str(tmp / "exports"), "EXOCLAIMS_REPORT": str(tmp / "report.html"),
           "NCBI_EMAIL": "benchmarks@example.org"}
    if nlp_mode == "lexicon":
        env.update({"EXOCLAIMS_MODEL": "blank:en", "EXOCLAIMS_NER_MODELS": "", "EXOCLAIMS_SENTENCE_ROLES": ""})
    if stance_model:
        env["EXOCLAIMS_STANCE_MODEL"] = stance_model
    empty = tmp / "empty-fixtures"
    empty.mkdir()
    t0 = time.perf_counter()
    with LoopbackEutils.start(empty) as server:
        pmids = add_to_loopback(server, synthetic_articles(size, seed=0))
        generate_s = time.perf_counter() - t0
        settings = load_settings(env={**env, "EXOCLAIMS_EUTILS_URL": server.base_url})
        settings = dataclasses.replace(
            settings, execution=ExecutionSettings(task_runner="processes", workers=workers, batch_docs=batch_docs),
            pubmed=dataclasses.replace(settings.pubmed, max_attempts=3, backoff_s=0.1))
        sampler = MemorySampler()
        sampler.start()
        t0 = time.perf_counter()
        state = nightly(settings=settings, return_state=True)
        total_s = time.perf_counter() - t0
        memory = sampler.stop()
    counts = state.result()
    stages_s = _stage_times(_task_runs(state.state_details.flow_run_id))
    rows = _table_rows(settings.storage.db_path)
    written = rows["pubmed_articles"] + rows["sentences"] + rows["entities"] + rows["claims"]
    load_s = stages_s["load-batch (sum)"] + stages_s["load-duckdb"]
    docs = size + rows["articles"]
    sample_file = tmp / "sample.xml"
    write_pubmed_set(sample_file, synthetic_articles(min(300, size), seed=1, start_pmid=80_000_000), gz=False)
    sample, _ = parse_pubmed_xml(sample_file.read_bytes())

    def rate(n, s):
        return round(n / s, 1) if s else None

    return {
        "records": size,
        "records_stored": rows["pubmed_articles"],
        "records_new": counts.records_new,
        "generate_and_serve_s": round(generate_s, 2),
        "total_s": round(total_s, 2),
        "stage_s": stages_s,
        "records_per_s": {
            "fetch+parse": rate(size, stages_s["fetch-pubmed"]),
            "nlp_and_claims (wall)": rate(docs, stages_s["nlp-and-claims (wall)"]),
            "load": rate(size, load_s),
            "whole_run": rate(size, total_s),
        },
        "claims_sample": _claims_share(settings, sample),
        "load_rows_per_s": rate(written, load_s),
        "table_rows": rows,
        "db_file_mib": round(settings.storage.db_path.stat().st_size / 2**20, 1),
        "peak_memory": memory,
        "pmids_served": len(pmids),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--nlp", choices=("shipped", "lexicon"), default="lexicon")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch-docs", type=int, default=200)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--stance-model", metavar="NAME|DIR",
                        help="the comparison's stance package (default: [compare] stance_model): a candidate's cost")
    parser.add_argument("--keep-other-sizes", action="store_true",
                        help="keep the runs of other sizes already in the result file (re-measure one size)")
    args = parser.parse_args(argv)
    out = args.out or ROOT / "benchmarks" / "results" / f"scale_{args.nlp}.json"
    kept = []
    if args.keep_other_sizes and out.exists():
        kept = [r for r in json.loads(out.read_text())["runs"] if r["records"] not in args.sizes]
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    logging.getLogger("pipeline").setLevel(logging.WARNING)

    from prefect.testing.utilities import prefect_test_harness

    runs: list[dict] = []
    figures: dict = {}
    with prefect_test_harness(server_startup_timeout=120):
        for size in sorted(args.sizes):
            with tempfile.TemporaryDirectory() as tmp:
                print(f"running {size} records ({args.nlp} NLP) ...", file=sys.stderr, flush=True)
                result = run_size(size, args.nlp, args.workers, args.batch_docs, Path(tmp), args.stance_model)
                result["saved_queries"] = _queries(Path(tmp) / "exoclaims.duckdb")
                runs.append(result)
                print(f"  {size}: {result['total_s']} s, {result['records_per_s']}", file=sys.stderr, flush=True)
            figures = _figures(sorted(kept + runs, key=lambda r: r["records"]), args)
            write_results(out.stem, figures, out)  # after every size: a long run that stops keeps the rest
    print(out)
    return figures


def _configured_stance_model() -> str:
    """What the comparison reads when ``--stance-model`` is not given: ``[compare] stance_model``."""
    from pipeline.config import load_settings

    return load_settings().compare.stance_model


def _figures(runs: list[dict], args) -> dict:
    base = runs[0]
    slowest = max(runs[-1]["saved_queries"].values(), key=lambda q: q["median_s"])
    return {
        "benchmark": "full nightly runs on generated corpora (issue 6, parts 1a, 1c, 1d)",
        "machine": machine(),
        "nlp": args.nlp,
        "workers": args.workers,
        "batch_docs": args.batch_docs,
        "stance_model": args.stance_model or _configured_stance_model(),
        "runs": runs,
        # linear growth keeps seconds per record flat from the smallest to the largest corpus
        "seconds_per_record_relative_to_smallest": {
            str(r["records"]): round((r["total_s"] / r["records"]) / (base["total_s"] / base["records"]), 2)
            for r in runs},
        "saved_queries_target_s": 1.0,
        "saved_queries_largest_corpus": runs[-1]["records"],
        "saved_queries_meet_target": slowest["median_s"] < 1.0,
    }


if __name__ == "__main__":
    main()
