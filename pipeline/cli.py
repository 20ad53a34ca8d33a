"""The ``exoclaims`` command line.

Run the nightly job now, serve it on a schedule, look at the last runs, query the database, export records
for systematic reviews, record screening decisions, and score components (``eval``)."""

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


CONTACT_WARNING = ("exoclaims: warning: NCBI_EMAIL is not set. NCBI asks every E-utilities client for a contact "
                   "address, so it can write to you before blocking a tool that overloads its servers; set one with "
                   "`export NCBI_EMAIL=you@example.org` (or [pubmed] email in the config). Going on without it.")


def warn_without_contact(config: str | None) -> bool:
    """Print :data:`CONTACT_WARNING` once, to stderr, when no contact address is configured; True if printed.
    A config that cannot be read is left to the command itself to report."""
    from pipeline.config import load_settings

    try:
        email = load_settings(config).pubmed.email
    except (OSError, ValueError):
        return False
    if email:
        return False
    print(CONTACT_WARNING, file=sys.stderr, flush=True)
    return True


def cmd_run(args: argparse.Namespace) -> int:
    warn_without_contact(args.config)
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
    warn_without_contact(args.config)
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
    rows = con.execute("""SELECT run_id, status, stage, started_at, records_found, records_new, records_updated,
                                 records_failed, claims_loaded, watermark, error
                          FROM runs ORDER BY started_at DESC LIMIT ?""", [args.limit]).fetchall()
    for row in rows:
        print(" | ".join("" if v is None else str(v) for v in row))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pipeline.config import load_settings
    from pipeline.report.html import write_report
    from pipeline.store.db import StoreError

    settings = load_settings(args.config)
    try:
        out = write_report(settings.storage.db_path, Path(args.out) if args.out else settings.report.path)
    except (FileNotFoundError, StoreError) as exc:
        print(f"exoclaims report: {exc}", file=sys.stderr)
        return 1
    print(f"evidence report written to {out}")
    return 0


def cmd_eval_claims(args: argparse.Namespace) -> int:
    import json

    from pipeline.articles.ingest import read_article_directory
    from pipeline.evaluation.claims import read_gold, score_claim_detection
    from pipeline.config import load_settings
    from pipeline.stages import run_nlp

    settings = load_settings(args.config)
    articles = read_article_directory(settings.articles.directory)
    scores = score_claim_detection(read_gold(Path(args.file)), run_nlp(settings, articles, []))
    print(json.dumps(scores, indent=2))
    return 0


def cmd_eval_stance(args: argparse.Namespace) -> int:
    import json

    from pipeline.config import load_settings
    from pipeline.evaluation.stance import default_model, evaluate_file, evaluate_scifact
    from pipeline.nlp.encoder import ModelMissing

    path = Path(args.file)
    if args.errors and not Path(args.errors).parent.is_dir():
        print(f"exoclaims eval stance: --errors {args.errors}: no such folder", file=sys.stderr)
        return 2
    try:  # a package named here must load; the configured one falls back to the feature model where not installed
        model = default_model(args.model if args.model == "features" or not args.package else "encoder",
                              args.package or load_settings(args.config).compare.stance_model)
    except ModelMissing as exc:
        print(f"exoclaims eval stance: {exc}", file=sys.stderr)
        return 2
    errors: list | None = [] if args.errors else None
    if path.is_dir():
        ids = None
        if args.claims:
            ids = {int(line.split()[0]) for line in Path(args.claims).read_text().splitlines()
                   if line.strip() and not line.startswith("#")}
        scores = evaluate_scifact(path, model, ids, errors)
    else:
        scores = evaluate_file(path, model, errors)
    if errors is not None:
        with open(args.errors, "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(e, ensure_ascii=False) + "\n" for e in errors)
    print(json.dumps(scores, indent=2))
    return 0


def cmd_eval_verdicts(args: argparse.Namespace) -> int:
    import json

    import duckdb

    from pipeline.evaluation.verdicts import evaluate_database
    from pipeline.report import query as q

    try:
        scores = evaluate_database(Path(args.file), Path(args.db) if args.db else _db_path(args), args.wait,
                                   split=args.split)
    except q.QueryError as exc:
        print(f"exoclaims eval verdicts: {exc}", file=sys.stderr)
        return q.EXIT_BUSY if isinstance(exc, q.DatabaseBusy) else 1
    except (OSError, ValueError, duckdb.Error) as exc:
        print(f"exoclaims eval verdicts: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(scores, indent=2, ensure_ascii=False))
    return 0


def cmd_eval_paraphrases(args: argparse.Namespace) -> int:
    import json

    import duckdb

    from pipeline.check import CheckError
    from pipeline.config import load_settings
    from pipeline.evaluation.paraphrases import evaluate_file
    from pipeline.report import query as q

    settings = load_settings(args.config)
    progress = logging.getLogger("pipeline.evaluation.paraphrases")  # "N of M assertions judged" on stderr
    if not progress.handlers:
        progress.addHandler(logging.StreamHandler(sys.stderr))
    progress.setLevel(logging.INFO)
    try:
        figures = evaluate_file(settings, Path(args.file), Path(args.db) if args.db else _db_path(args))
    except q.QueryError as exc:
        print(f"exoclaims eval paraphrases: {exc}", file=sys.stderr)
        return q.EXIT_BUSY if isinstance(exc, q.DatabaseBusy) else 1
    except (OSError, ValueError, duckdb.Error, CheckError) as exc:
        print(f"exoclaims eval paraphrases: {exc}", file=sys.stderr)
        return 1
    if args.moved:
        with open(args.moved, "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(m, ensure_ascii=False) + "\n" for m in figures["moved"])
    print(json.dumps({k: v for k, v in figures.items() if k != "moved"}, indent=2, ensure_ascii=False))
    return 0


def cmd_eval_agreement(args: argparse.Namespace) -> int:
    import json

    from pipeline.evaluation.agreement import evaluate_agreement

    try:
        figures = evaluate_agreement(Path(args.a), Path(args.b), split=args.split)
    except (OSError, ValueError) as exc:
        print(f"exoclaims eval agreement: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from pipeline.check import CheckError, check_article, read_article, save_article
    from pipeline.config import load_settings
    from pipeline.nlp.encoder import ModelMissing
    from pipeline.report import query as q

    settings = load_settings(args.config)
    try:
        article = read_article(args.source, settings)
        result = check_article(settings, article, Path(args.db) if args.db else None, args.wait)
    except q.QueryError as exc:
        print(f"exoclaims check: {exc}", file=sys.stderr)
        return q.EXIT_BUSY if isinstance(exc, q.DatabaseBusy) else 1
    except (CheckError, ModelMissing, OSError) as exc:
        print(f"exoclaims check: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        out = json.dumps({"article": {"source": article.source, "title": article.title},
                          "sentences": result.sentences, "claims": result.claims,
                          "compared_with": {"literature_claims": result.literature_claims, "records": result.records},
                          "assertions": [asdict(a) for a in result.assertions]}, indent=2, ensure_ascii=False) + "\n"
    elif args.format == "html":
        from pipeline.report.html import render_check_html

        out = render_check_html(article.title, article.source, result.assertions, result.records)
    else:
        rows = [(a.sentence_idx, a.verdict, a.certainty or "", ", ".join(a.key_pmids), a.sentence, a.reason)
                for a in result.assertions]
        out = (f"{article.title} ({article.source}): {result.sentences} sentences, {len(result.assertions)} "
               f"assertions judged against the claims of {result.records} stored records\n")
        out += q.format_table(q.QueryResult(("#", "verdict", "certainty", "key PMIDs", "sentence", "reason"),
                                            ("INTEGER",) + ("VARCHAR",) * 5, rows), args.max_width)
    if args.out:
        from pipeline.report.exports import write_atomically

        write_atomically(Path(args.out), out)
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(out)
    if args.save:
        saved = save_article(settings, args.source, article)
        print(f"saved {saved}: the next `exoclaims run` stores it with its verdicts", file=sys.stderr)
    return 0


def cmd_models_eval(args: argparse.Namespace) -> int:
    import json
    import warnings

    from pipeline.config import load_settings
    from pipeline.evaluation.models import evaluate_ner_file

    settings = load_settings(args.config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        scores = evaluate_ner_file(args.file, model=args.model, candidates=settings.nlp.ner_models)
    print(json.dumps(scores, indent=2))
    return 0


def _db_path(args: argparse.Namespace) -> Path:
    from pipeline.config import load_settings

    return load_settings(args.config).storage.db_path


def cmd_query(args: argparse.Namespace) -> int:
    from pipeline.report import query as q

    try:
        if args.list:
            for saved in q.saved_queries().values():
                params = " ".join(f"--param {p}=..." for p in saved.parameters)
                print(f"{saved.name}{' ' + params if params else ''}\n    {saved.question}")
            return 0
        if args.saved and args.sql:
            raise q.QueryError("give either SQL or --saved NAME, not both")
        if args.saved:
            sql = q.resolve_saved(args.saved).sql
        elif args.sql and not any(ch.isspace() for ch in args.sql.strip()):
            sql = q.resolve_saved(args.sql.strip()).sql  # one word: a saved query's name
        elif args.sql:
            sql = args.sql
        else:
            raise q.QueryError("give SQL, a saved query's name, or --list")
        params = q.parse_params(args.param)
        path = _db_path(args)
        if args.format == "parquet":
            if not args.out:
                raise q.QueryError("--format parquet needs --out FILE")
            n = q.query_to_parquet(path, sql, args.out, params, wait_s=args.wait)
            print(f"{n} rows written to {args.out}", file=sys.stderr)
            return 0
        text = q.render(q.run_query(path, sql, params, wait_s=args.wait), args.format, args.max_width)
        if args.out:
            from pipeline.report.exports import write_atomically

            write_atomically(Path(args.out), text)
        else:
            sys.stdout.write(text)
        return 0
    except q.DatabaseBusy as exc:
        print(f"exoclaims query: {exc}", file=sys.stderr)
        return q.EXIT_BUSY
    except q.QueryError as exc:
        print(f"exoclaims query: {exc}", file=sys.stderr)
        return 1


def cmd_search(args: argparse.Namespace) -> int:
    from pipeline.config import load_settings
    from pipeline.nlp.encoder import ModelMissing, sentence_encoder
    from pipeline.report import query as q
    from pipeline.store.search import SEARCH_COLUMNS, NoEmbeddings, search_literature

    settings = load_settings(args.config)
    try:
        encoder = sentence_encoder(settings.encoder.package, settings.encoder.thread_count,
                                   settings.encoder.batch_size)
        con = q.open_read_only(settings.storage.db_path, args.wait, lambda m: print(m, file=sys.stderr))
        try:
            hits = search_literature(con, encoder, " ".join(args.text), args.limit)
        finally:
            con.close()
    except q.DatabaseBusy as exc:
        print(f"exoclaims search: {exc}", file=sys.stderr)
        return q.EXIT_BUSY
    except (q.QueryError, ModelMissing, NoEmbeddings, ValueError) as exc:
        print(f"exoclaims search: {exc}", file=sys.stderr)
        return 1
    result = q.QueryResult(SEARCH_COLUMNS, ("VARCHAR", "VARCHAR", "VARCHAR", "INTEGER", "VARCHAR", "DOUBLE"),
                           [tuple(getattr(h, c) for c in SEARCH_COLUMNS) for h in hits])
    sys.stdout.write(q.render(result, args.format, args.max_width))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    import duckdb

    from pipeline.report import query as q
    from pipeline.report.exports import read_export_records, render_export, write_atomically, write_exports

    try:
        con = q.open_read_only(_db_path(args), wait_s=args.wait)
    except q.QueryError as exc:
        print(f"exoclaims export: {exc}", file=sys.stderr)
        return q.EXIT_BUSY if isinstance(exc, q.DatabaseBusy) else 1
    try:
        if args.format == "all":
            from pipeline.config import load_settings

            directory = Path(args.out) if args.out else load_settings(args.config).exports.directory
            files = write_exports(con, directory, included_only=args.included_only)
            print(f"{files.records} records: " + ", ".join(str(p) for p in files.paths.values()))
            return 0
        records = read_export_records(con, included_only=args.included_only)
    except duckdb.CatalogException as exc:
        print(f"exoclaims export: {exc} (a database from before schema version 5? the next `exoclaims run` "
              "upgrades it)", file=sys.stderr)
        return 1
    finally:
        con.close()
    text = render_export(records, args.format)
    if args.out:
        write_atomically(Path(args.out), text)
        print(f"{len(records)} records written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_screen(args: argparse.Namespace) -> int:
    import getpass

    from pipeline.report import query as q
    from pipeline.report import screening
    from pipeline.store import db

    reviewer = args.reviewer or getpass.getuser()
    clear, pmids, decisions = False, [], []
    try:
        if args.from_csv:
            if args.items:
                raise screening.ScreeningError("give PMIDs and a decision, or --from-csv FILE, not both")
            decisions = screening.read_decisions_csv(args.from_csv, reviewer=reviewer)
        else:
            *pmids, word = args.items or [""]
            clear = word.strip().lower() == "clear"
            decision = None if clear or not pmids else screening.normalise_decision(word)
            if not (clear or decision):
                raise screening.ScreeningError("usage: exoclaims screen PMID [PMID ...] include|exclude|maybe|clear")
            decisions = [screening.ScreeningDecision(p, decision, args.reason, reviewer) for p in pmids]
        path = _db_path(args)
        if not path.exists():
            raise screening.ScreeningError(f"no database at {path}: run `exoclaims run` first (or set EXOCLAIMS_DB)")
        con = q.wait_for_unlock(lambda: db.connect(path, wait_s=0), path, args.wait)
        try:
            if clear:
                n = screening.clear_decisions(con, pmids)
                print(f"cleared {n} screening decision{'s' if n != 1 else ''}")
                return 0
            n = screening.record_decisions(con, decisions, allow_unknown=args.allow_unknown)
        finally:
            con.close()
    except q.DatabaseBusy as exc:
        print(f"exoclaims screen: {exc}", file=sys.stderr)
        return q.EXIT_BUSY
    except (screening.ScreeningError, db.StoreError) as exc:
        print(f"exoclaims screen: {exc}", file=sys.stderr)
        return 1
    print(f"recorded {n} screening decision{'s' if n != 1 else ''}")
    return 0


def _db_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--db", metavar="FILE", default=None,
                        help=f"DuckDB file {what}, opened read-only (default: the configured one, or $EXOCLAIMS_DB)")


def _wait_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", type=float, default=120, metavar="SECONDS",
                        help="how long to wait while a run holds the file (default 120)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="exoclaims", description=__doc__)
    parser.add_argument("--config", default=None, help="TOML config (default config/pipeline.toml or $EXOCLAIMS_CONFIG)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the whole job now (PubMed, articles, NLP, claims, DuckDB)").set_defaults(fn=cmd_run)
    sub.add_parser("serve", help="serve the job on the configured nightly schedule").set_defaults(fn=cmd_serve)
    runs = sub.add_parser("runs", help="list the last runs recorded in the database")
    runs.add_argument("--limit", type=int, default=10)
    runs.set_defaults(fn=cmd_runs)
    report = sub.add_parser("report", help="write the evidence report (one static HTML file) from the database")
    report.add_argument("--out", default=None, help="HTML file to write (default [report] path in the config, "
                                                    "or $EXOCLAIMS_REPORT)")
    report.set_defaults(fn=cmd_report)
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
                                     "and corpus.jsonl[.gz] (each claim against the whole abstracts it cites)")
    stance.add_argument("--model", choices=("encoder", "features"), default=None,
                        help="the stacked cross-encoder (default, where installed) or the feature model alone")
    stance.add_argument("--package", metavar="NAME|DIR", default=None,
                        help="the cross-encoder's model package: installed by name, or a package's folder such as a "
                             "candidate not installed (default: [compare] stance_model, or $EXOCLAIMS_STANCE_MODEL)")
    stance.add_argument("--claims", metavar="FILE", help="SciFact folder only: score these claim ids (one a line)")
    stance.add_argument("--errors", metavar="FILE", help="write the misread pairs here, one JSON object a line "
                        "(claim, the evidence as the model read it, gold, predicted, probabilities)")
    stance.set_defaults(fn=cmd_eval_stance)
    verdicts = eval_sub.add_parser(
        "verdicts", help="the database's verdicts against a reviewer's labels (JSONL as verdicts_dev.jsonl: article, "
                         "quote, checkable, verdict, certainty, ...): accuracy, per-verdict P/R/F1, over- and "
                         "under-claims, certainty agreement, claim detection, figures per kind of assertion, one row "
                         "per assertion, as JSON (docs/evaluation.md)")
    verdicts.add_argument("file", help="gold labels, one JSON object per line; or a folder of such files")
    verdicts.add_argument("--split", metavar="NAME", default=None,
                          help="only the articles a split.json beside the gold files lists under NAME (dev, heldout)")
    _db_option(verdicts, "to score")
    _wait_option(verdicts)
    verdicts.set_defaults(fn=cmd_eval_verdicts)
    paraphrases = eval_sub.add_parser(
        "paraphrases", help="do verdicts survive rewording? Each assertion of a JSONL file (id, title, previous, "
                            "sentence, paraphrases) and each rewording of it judged on its own against the stored "
                            "literature, as `check` does: the share of rewordings that keep the verdict, and which "
                            "move it up or down, as JSON (tests/fixtures/paraphrases/)")
    paraphrases.add_argument("file", help="assertions and their rewordings, one JSON object per line")
    _db_option(paraphrases, "holding the literature")
    paraphrases.add_argument("--moved", metavar="FILE", help="write each rewording that moved the verdict here, one "
                             "JSON object a line (original, rewording, both verdicts and reasons)")
    paraphrases.set_defaults(fn=cmd_eval_paraphrases)
    agree = eval_sub.add_parser(
        "agreement", help="how often two labellers agree on the same articles (two gold files or folders as for "
                          "`eval verdicts`): agreement and Cohen's kappa on checkability, verdict, kind, core and "
                          "certainty, and each labeller scored against the other as the pipeline is, as JSON")
    agree.add_argument("a", help="the first labeller's gold file or folder")
    agree.add_argument("b", help="the second labeller's gold file or folder (only articles both labelled count)")
    agree.add_argument("--split", metavar="NAME", default=None,
                       help="only the articles a split.json beside the gold files lists under NAME")
    agree.set_defaults(fn=cmd_eval_agreement)
    check = sub.add_parser(
        "check", help="judge one article (a text or HTML file, or a URL) against the literature already stored, "
                      "now; stores nothing unless --save")
    check.add_argument("source", metavar="FILE|URL")
    check.add_argument("--format", choices=("table", "json", "html"), default="table")
    check.add_argument("--out", metavar="FILE", default=None, help="write there instead of to stdout")
    check.add_argument("--save", action="store_true",
                       help="also keep the article in the articles folder, so the next run stores it and its verdicts")
    _db_option(check, "holding the literature")
    _wait_option(check)
    check.add_argument("--max-width", type=int, default=70, help="table column width (default 70)")
    check.set_defaults(fn=cmd_check)
    models = sub.add_parser("models", help="the statistical NLP models")
    models_sub = models.add_subparsers(dest="what", required=True)
    models_eval = models_sub.add_parser(
        "eval", help="score an NER model on an IOB file (token TAB tag, blank line between sentences): precision, "
                     "recall and F1 overall and per label, exact span match, labels case-insensitive, as JSON")
    models_eval.add_argument("file")
    models_eval.add_argument("--model", default=None, help="model name or path (default: the configured NER model "
                                                           "whose labels best match the file)")
    models_eval.set_defaults(fn=cmd_models_eval)
    query = sub.add_parser(
        "query", help="run read-only SQL (or a saved query from config/queries/) on the database and print the "
                      "result; waits for a running job to finish its current stage",
        description="Run one read-only SQL statement on the DuckDB file. A single word is the name of a saved "
                    "query in config/queries/. Named parameters ($name) take --param name=value. Exit status "
                    "75: the file stayed locked by a run for longer than --wait.")
    query.add_argument("sql", nargs="?", help="SQL in quotes, or a saved query's name")
    query.add_argument("--saved", metavar="NAME", help="run config/queries/NAME.sql")
    query.add_argument("--list", action="store_true", help="list the saved queries and the questions they answer")
    query.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="a value for $NAME in the SQL (repeatable)")
    query.add_argument("--format", choices=("table", "csv", "json", "parquet"), default="table")
    query.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout (parquet: required)")
    _wait_option(query)
    query.add_argument("--max-width", type=int, default=60, help="table format: cut longer cells (default 60)")
    query.set_defaults(fn=cmd_query)
    search = sub.add_parser(
        "search", help="the literature nearest in meaning to a question or assertion: one row per record (PMID, "
                       "title, design, year, its closest sentence, cosine similarity), best first",
        description="Encode TEXT with the pipeline's sentence encoder and rank the stored abstracts by the cosine "
                    "similarity of their closest sentence (DuckDB's array_cosine_similarity). Words need not match.")
    search.add_argument("text", nargs="+", help="a question, an assertion, or a few words")
    search.add_argument("--limit", type=int, default=10, help="records to show (default 10)")
    search.add_argument("--format", choices=("table", "csv", "json"), default="table")
    search.add_argument("--max-width", type=int, default=60, help="table format: cut longer cells (default 60)")
    _wait_option(search)
    search.set_defaults(fn=cmd_search)
    export = sub.add_parser(
        "export", help="stored records as RIS, BibTeX or CSV with design, evidence level, screening decision and "
                       "the article claims they back (the nightly run writes all of them to [exports] directory)")
    export.add_argument("--format", choices=("ris", "bibtex", "csv", "all"), default="all",
                        help="'all' writes records.ris, records.bib, records.csv and prisma_counts.csv into --out "
                             "(a directory; default [exports] directory)")
    export.add_argument("--out", metavar="PATH", help="file (directory for 'all'); default stdout")
    export.add_argument("--included-only", action="store_true",
                        help="only records screened 'include' (default: every stored record)")
    _wait_option(export)
    export.set_defaults(fn=cmd_export)
    screen = sub.add_parser(
        "screen", help="record screening decisions: exoclaims screen PMID [PMID ...] include|exclude|maybe|clear",
        description="Record (or clear) screening decisions in the table screening, which the pipeline never "
                    "overwrites. --from-csv reads the pmid and screening_decision (+ screening_reason, "
                    "screening_reviewer) columns of a filled-in copy of records.csv.")
    screen.add_argument("items", nargs="*", metavar="PMID... DECISION")
    screen.add_argument("--reason", help="why (kept with the decision)")
    screen.add_argument("--reviewer", help="who decided (default: the login name)")
    screen.add_argument("--from-csv", metavar="FILE", help="import decisions from a CSV")
    screen.add_argument("--allow-unknown", action="store_true", help="accept PMIDs that are not stored records")
    _wait_option(screen)
    screen.set_defaults(fn=cmd_screen)
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
