"""``exoclaims query``: formats, saved queries, parameters, read-only enforcement, and what the user
sees while another process holds the database open read-write."""

import csv
import io
import json
import subprocess
import sys
import textwrap
import time

import duckdb
import pytest

from helpers import PROJECT
from pipeline.cli import main
from pipeline.report import query as q


@pytest.fixture()
def db_env(store, monkeypatch):
    monkeypatch.setenv("EXOCLAIMS_DB", str(store))
    return store


SQL = "SELECT pmid, pub_year, authors, has_abstract, title FROM pubmed_articles ORDER BY pmid"


def test_table_format_aligns_and_cuts_long_cells(db_env, capsys):
    assert main(["query", SQL, "--max-width", "20"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["pmid", "pub_year", "authors", "has_abstract", "title"]
    assert set(lines[1].replace(" ", "")) == {"-"} and lines[-1] == "(8 rows)"
    assert all(len(line) <= len(lines[1]) for line in lines[2:-1])  # every row fits the header's widths
    assert any(line.rstrip().endswith("…") for line in lines[2:-1])


def test_csv_and_json_formats_round_trip(db_env, capsys, tmp_path):
    assert main(["query", SQL, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 8 and rows[0]["pmid"] == "90000001" and rows[0]["has_abstract"] == "true"
    assert "; " in rows[0]["authors"]
    assert main(["query", "SELECT pmid, authors, comments_corrections FROM pubmed_articles WHERE is_retracted",
                 "--format", "json", "--out", str(tmp_path / "r.json")]) == 0
    (record,) = json.loads((tmp_path / "r.json").read_text())
    assert record["pmid"] == "90000008" and isinstance(record["authors"], list)
    assert record["comments_corrections"][0]["ref_type"] == "RetractionIn"  # JSON column parsed


def test_parquet_needs_out_and_keeps_types(db_env, tmp_path, capsys):
    assert main(["query", SQL, "--format", "parquet"]) == 1
    assert "--out" in capsys.readouterr().err
    out = tmp_path / "r.parquet"
    assert main(["query", SQL + " -- a trailing comment", "--format", "parquet", "--out", str(out)]) == 0
    con = duckdb.connect()
    assert con.execute(f"SELECT count(*), typeof(any_value(authors)) FROM '{out}'").fetchone() == (8, "VARCHAR[]")
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("sql, message", [
    ("DELETE FROM pubmed_articles", "DELETE statements are refused"),
    ("INSERT INTO screening VALUES ('1', 'include', NULL, NULL, now())", "INSERT statements are refused"),
    ("COPY pubmed_articles TO '/tmp/x.csv'", "COPY statements are refused"),
    ("ATTACH 'other.duckdb' AS o", "ATTACH statements are refused"),
    ("SELECT 1; DROP TABLE runs", "one statement at a time"),
])
def test_statements_that_write_are_refused_and_change_nothing(db_env, capsys, sql, message):
    assert main(["query", sql]) == 1
    assert message in capsys.readouterr().err
    con = duckdb.connect(str(db_env), read_only=True)
    assert con.execute("SELECT count(*) FROM pubmed_articles").fetchone()[0] == 8
    assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    con.close()


def test_the_connection_itself_is_read_only(db_env):
    con = q.open_read_only(db_env, wait_s=0)
    with pytest.raises(duckdb.Error, match="read-only"):
        con.execute("DELETE FROM runs")
    con.close()


def test_parameters_and_saved_queries(db_env, capsys):
    assert main(["query", "records_of_design", "--param", "design=rct", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["pmid"] for r in rows] == ["90000001"]
    assert main(["query", "--saved", "records_of_design"]) == 1
    assert "needs --param design=VALUE" in capsys.readouterr().err
    assert main(["query", "SELECT * FROM pubmed_articles WHERE pub_year >= $year", "--param", "year=2024",
                 "--format", "json"]) == 0
    assert {r["pub_year"] for r in json.loads(capsys.readouterr().out)} == {2024}
    assert main(["query", "recent_runs", "--param", "x=1"]) == 1
    assert "has no parameter $x" in capsys.readouterr().err
    assert main(["query", "no_such_query"]) == 1
    assert "no saved query 'no_such_query'" in capsys.readouterr().err
    assert main(["query", "--list"]) == 0
    listing = capsys.readouterr().out
    assert "evidence_for_assertion --param claim_id=..." in listing and "PRISMA" in listing


def test_every_saved_query_states_its_question_and_runs(db_env):
    saved = q.saved_queries()
    assert len(saved) >= 8
    for query in saved.values():
        assert query.question.endswith(("?", ")")), query.name
        params = {name: "x" for name in query.parameters}
        q.run_query(db_env, query.sql, params, wait_s=0)


def test_second_look_lists_not_addressed_assertions_with_the_records_read_nearest_first(db_env, capsys):
    con = duckdb.connect(str(db_env))
    con.execute("""INSERT INTO claims (claim_id, source, doc_id, sentence_idx, sentence, claim_type) VALUES
                   ('c-wake', 'article', 'art1', 1, 'Exosomes wake dormant follicles.', 'mechanism'),
                   ('c-none', 'article', 'art1', 2, 'Exosomes are loved by all.', 'efficacy')""")
    # two literature claims of one record (it counts once, at its nearest), one of another, none unread
    con.execute("""INSERT INTO evidence_links (article_claim_id, literature_claim_id, pmid, stance, score,
                       evidence_level, design, reason, method, similarity) VALUES
                   ('c-wake', 'c-lit1', '90000001', 'unrelated', 0, 2, 'rct', 'no direction', 'facts', 0.41),
                   ('c-wake', 'c-lit3', '90000001', 'unrelated', 0, 2, 'rct', 'no direction', 'facts', 0.62),
                   ('c-wake', 'c-lit2', '90000006', 'unrelated', 0, 1, 'systematic_review', 'x', 'facts', 0.55)""")
    con.execute("""INSERT INTO claim_verdicts (claim_id, verdict, supporting_pmids, contradicting_pmids, reason) VALUES
                   ('c-wake', 'not addressed', [], [], '2 records on the same topic ...'),
                   ('c-none', 'not addressed', [], [], 'no literature claim about it')""")
    con.close()
    assert main(["query", "second_look", "--format", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)  # the mixed verdict and the one that read nothing are left out
    assert (row["claim_id"], row["n_records_read"], row["best_similarity"]) == ("c-wake", 2, 0.62)
    assert row["nearest_pmids"] == ["90000001", "90000006"]


def test_parameter_names_ignore_strings_and_comments():
    sql = "SELECT '$no', \"$no\" -- $no\n FROM t WHERE a = $yes AND b = $two /* $no */ OR c = $yes"
    assert q.parameter_names(sql) == ["yes", "two"]


def test_missing_database_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EXOCLAIMS_DB", str(tmp_path / "none.duckdb"))
    assert main(["query", "SELECT 1"]) == 1
    assert "run `exoclaims run` first" in capsys.readouterr().err
    assert not (tmp_path / "none.duckdb").exists()


def _writer(path, hold_s: float):
    """A second process that opens the file read-write (as a nightly stage does), writes, holds it, and
    commits another row just before it lets go."""
    script = textwrap.dedent(f"""
        import time, duckdb
        con = duckdb.connect({str(path)!r})
        con.execute("INSERT INTO runs (run_id, started_at, status) VALUES ('writer-1', now(), 'running')")
        print("HOLDING", flush=True)
        time.sleep({hold_s})
        con.execute("INSERT INTO runs (run_id, started_at, status) VALUES ('writer-2', now(), 'running')")
        con.close()
        print("RELEASED", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "HOLDING"
    return proc


def test_query_waits_for_a_writer_then_reads_what_it_committed(db_env, capsys):
    writer = _writer(db_env, hold_s=3)
    try:
        started = time.monotonic()
        assert main(["query", "SELECT run_id FROM runs WHERE run_id LIKE 'writer%' ORDER BY run_id",
                     "--format", "csv", "--wait", "60"]) == 0
        waited = time.monotonic() - started
    finally:
        assert writer.wait(30) == 0  # the writer finished normally: the reader never got in its way
    out, err = capsys.readouterr()
    assert f"is locked by process {writer.pid}" in err and "waiting" in err and "--wait" in err
    assert waited > 1.5
    assert out.split() == ["run_id", "writer-1", "writer-2"]  # a consistent state: both commits, after the writer


def test_query_gives_up_after_wait_with_a_clear_message(db_env, capsys):
    writer = _writer(db_env, hold_s=4)
    try:
        started = time.monotonic()
        assert main(["query", "SELECT 1", "--wait", "0.5"]) == q.EXIT_BUSY
        assert time.monotonic() - started < 3
    finally:
        assert writer.wait(30) == 0
    err = capsys.readouterr().err
    assert f"still locked by process {writer.pid}" in err and "pass a longer --wait" in err
    con = duckdb.connect(str(db_env), read_only=True)  # and the file is intact
    assert con.execute("SELECT count(*) FROM runs WHERE run_id LIKE 'writer%'").fetchone()[0] == 2
    con.close()


def test_a_reader_holds_the_file_only_while_the_query_runs(db_env):
    result = q.run_query(db_env, "SELECT count(*) FROM pubmed_articles", wait_s=0)
    assert result.rows == [(8,)]
    con = duckdb.connect(str(db_env))  # a writer can open it straight after: the reader has let go
    con.close()
