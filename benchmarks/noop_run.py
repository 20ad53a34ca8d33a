"""A nightly run when nothing is new: how long it takes and that it does no NLP work.

    .venv/bin/python benchmarks/noop_run.py [--out benchmarks/results/noop_run.json]

Runs the real Prefect flow twice against the loopback E-utilities server serving the project's fixtures
and a fresh DuckDB file: the first run stores everything, the second finds nothing new. Prefect's
temporary server is started once, before either run, so its start-up is reported apart. Target (issue 6):
the second run under 5 s plus Prefect start-up, with no document through the NLP stage.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import tempfile
import time
from pathlib import Path

from results import write_results  # benchmarks/results.py, beside this script

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "noop_run.json")
    args = parser.parse_args(argv)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    logging.getLogger("pipeline").setLevel(logging.WARNING)

    from prefect.testing.utilities import prefect_test_harness

    from pipeline.config import load_settings
    from pipeline.testing.loopback_eutils import LoopbackEutils

    started = time.monotonic()
    with prefect_test_harness(server_startup_timeout=120), tempfile.TemporaryDirectory() as tmp:
        prefect_start_s = time.monotonic() - started
        from flows.nightly import nightly

        server = LoopbackEutils.start(ROOT / "tests" / "fixtures" / "pubmed")
        try:
            settings = load_settings(env={
                "EXOCLAIMS_EUTILS_URL": server.base_url, "EXOCLAIMS_DB": f"{tmp}/exoclaims.duckdb",
                "EXOCLAIMS_ARCHIVE": f"{tmp}/raw", "EXOCLAIMS_EXPORTS": f"{tmp}/exports",
                "EXOCLAIMS_REPORT": f"{tmp}/report.html"})
            timings = []
            counts = []
            for _ in range(2):
                t0 = time.monotonic()
                result = nightly(settings=settings)
                timings.append(time.monotonic() - t0)
                counts.append(result)
        finally:
            server.__exit__(None, None, None)
    first, second = counts
    results = {
        "benchmark": "no-op nightly run (issue 6, part 1b)",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "corpus": "tests/fixtures/pubmed (8 records) and the 5 seed articles",
        "prefect_server_start_s": round(prefect_start_s, 2),
        "first_run_s": round(timings[0], 2),
        "noop_run_s": round(timings[1], 2),
        "noop_run_new_or_updated_records": second.records_new + second.records_updated,
        "noop_run_articles_reprocessed": second.articles_loaded,
        "noop_run_claims_loaded": second.claims_loaded,
        "target_s": 5.0,
        "meets_target": timings[1] < 5.0 and second.articles_loaded == 0 and second.claims_loaded == 0,
    }
    write_results("noop_run", results, args.out)
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
