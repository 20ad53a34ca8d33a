"""``exoclaims``: run the nightly job now, serve it on a schedule, or look at the last runs."""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import sys
from pathlib import Path


def _prefect_env() -> None:
    # Library modules log through the standard logging module; let Prefect show those logs too.
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "pipeline")
    # No telemetry from the temporary local server (and no failed DNS lookups on offline machines).
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Prefect's 20 s default is too short for its temporary server on a busy 2-core machine.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    logging.getLogger("pipeline").setLevel(logging.INFO)


def _local_timezone() -> str:
    if os.environ.get("TZ"):
        return os.environ["TZ"]
    localtime = Path("/etc/localtime")
    if localtime.is_symlink() and "zoneinfo/" in str(localtime.resolve()):
        return str(localtime.resolve()).split("zoneinfo/", 1)[1]
    return "UTC"


def cmd_run(args: argparse.Namespace) -> int:
    _prefect_env()
    # The verdict line is printed at exit, after Prefect has stopped its temporary server and logged
    # that, so the last line a user (or cron mail) sees is the one that says what happened.
    verdict: list[str] = []
    atexit.register(lambda: verdict and print(verdict[0], file=sys.stderr if verdict[0].startswith("exoclaims run failed") else sys.stdout, flush=True))
    from flows.nightly import nightly

    state = nightly(config_path=args.config, return_state=True)
    if not state.is_completed():
        verdict.append(f"exoclaims run failed: {state.message}")
        return 1
    counts = state.result()
    verdict.append(f"exoclaims run succeeded: {counts.records_new} new, {counts.records_updated} updated, "
                   f"{counts.records_deleted} deleted records; {counts.articles_loaded} articles; "
                   f"{counts.claims_loaded} claims")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    _prefect_env()
    from prefect import serve

    from flows.nightly import nightly_deployment
    from pipeline.config import load_settings

    settings = load_settings(args.config)
    timezone = _local_timezone() if settings.schedule.timezone == "local" else settings.schedule.timezone
    print(f"serving exoclaims-nightly on cron '{settings.schedule.cron}' ({timezone}); Ctrl-C stops", flush=True)
    serve(nightly_deployment(settings, args.config, timezone))
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from pipeline.config import load_settings
    from pipeline.store import db

    settings = load_settings(args.config)
    con = db.connect(settings.storage.db_path, read_only=True)
    rows = con.execute("""SELECT run_id, status, started_at, records_found, records_new, records_updated,
                                 records_failed, claims_loaded, watermark, error
                          FROM runs ORDER BY started_at DESC LIMIT ?""", [args.limit]).fetchall()
    for row in rows:
        print(" | ".join("" if v is None else str(v) for v in row))
    return 0


def cmd_eval_claims(args: argparse.Namespace) -> int:
    import json

    from pipeline.articles.ingest import read_article_directory
    from pipeline.claims.evaluate import read_gold, score_claim_detection
    from pipeline.config import load_settings
    from pipeline.stages import run_nlp

    settings = load_settings(args.config)
    articles = read_article_directory(settings.articles.directory)
    scores = score_claim_detection(read_gold(Path(args.file)), run_nlp(settings, articles, []))
    print(json.dumps(scores, indent=2))
    return 0


def cmd_eval_stance(args: argparse.Namespace) -> int:
    import json

    from pipeline.compare.stance_eval import evaluate_file, evaluate_scifact

    path = Path(args.file)
    print(json.dumps(evaluate_scifact(path) if path.is_dir() else evaluate_file(path), indent=2))
    return 0


def cmd_models_eval(args: argparse.Namespace) -> int:
    import json
    import warnings

    from pipeline.config import load_settings
    from pipeline.models.evaluate import evaluate_ner_file

    settings = load_settings(args.config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        scores = evaluate_ner_file(args.file, model=args.model, candidates=settings.nlp.ner_models)
    print(json.dumps(scores, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="exoclaims", description=__doc__)
    parser.add_argument("--config", default=None, help="TOML config (default config/pipeline.toml or $EXOCLAIMS_CONFIG)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the whole job now (PubMed, articles, NLP, claims, DuckDB)").set_defaults(fn=cmd_run)
    sub.add_parser("serve", help="serve the job on the configured nightly schedule").set_defaults(fn=cmd_serve)
    runs = sub.add_parser("runs", help="list the last runs recorded in the database")
    runs.add_argument("--limit", type=int, default=10)
    runs.set_defaults(fn=cmd_runs)
    evaluate = sub.add_parser("eval", help="measure a component against labelled data")
    eval_sub = evaluate.add_subparsers(dest="what", required=True)
    claims = eval_sub.add_parser("claims", help="claim detection on hand-labelled article sentences (TSV: doc_id, "
                                                "claim_type or none, sentence), printed as JSON")
    claims.add_argument("file", nargs="?", default=str(Path(__file__).resolve().parent.parent / "tests" / "fixtures"
                                                       / "claims" / "article_claims_heldout.tsv"))
    claims.set_defaults(fn=cmd_eval_claims)
    stance = eval_sub.add_parser("stance", help="claim-evidence stance on a HealthVer-format CSV (id, evidence, "
                                                "claim, label: Supports/Refutes/Neutral): per-label P/R/F1 and "
                                                "macro-F1, as JSON")
    stance.add_argument("file", help="a HealthVer-format CSV, or a directory with SciFact's claims_train.jsonl "
                                     "and corpus.jsonl[.gz]")
    stance.set_defaults(fn=cmd_eval_stance)
    models = sub.add_parser("models", help="the statistical NLP models")
    models_sub = models.add_subparsers(dest="what", required=True)
    models_eval = models_sub.add_parser(
        "eval", help="score an NER model on an IOB file (token TAB tag, blank line between sentences): precision, "
                     "recall and F1 overall and per label, exact span match, labels case-insensitive, as JSON")
    models_eval.add_argument("file")
    models_eval.add_argument("--model", default=None, help="model name or path (default: the configured NER model "
                                                           "whose labels best match the file)")
    models_eval.set_defaults(fn=cmd_models_eval)
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
