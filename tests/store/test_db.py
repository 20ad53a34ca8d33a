import subprocess
import sys
import time

import duckdb
import pytest

from pipeline.records import Article
from pipeline.store import db
from pipeline.store.migrations import MIGRATIONS, schema_version


def test_new_file_is_migrated_once(tmp_path):
    path = tmp_path / "x.duckdb"
    con = db.connect(path)
    assert schema_version(con) == max(v for v, _, _ in MIGRATIONS)
    con.close()
    con = db.connect(path)  # second open applies nothing again
    assert con.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"pubmed_articles", "articles", "sentences", "entities", "claims", "runs"} <= tables


def test_foreign_duckdb_file_is_refused(tmp_path):
    path = tmp_path / "other.duckdb"
    other = duckdb.connect(str(path))
    other.execute("CREATE TABLE accounts (id INTEGER)")
    other.close()
    with pytest.raises(db.StoreError, match="another application"):
        db.connect(path)


def test_corrupt_file_is_refused(tmp_path):
    path = tmp_path / "corrupt.duckdb"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(db.StoreError, match="not a usable DuckDB database"):
        db.connect(path)


def _hold_read_only(path, seconds):
    """Another process (an analyst's query) holding the file read-only for ``seconds``."""
    script = (f"import duckdb, time; con = duckdb.connect({str(path)!r}, read_only=True); print('open', flush=True); "
              f"time.sleep({seconds}); con.close()")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "open"
    return proc


def test_a_stage_waits_for_a_reader_to_let_go_then_writes(tmp_path, caplog):
    path = tmp_path / "x.duckdb"
    db.connect(path).close()
    reader = _hold_read_only(path, 2)
    started = time.monotonic()
    con = db.connect(path)  # the writer waits instead of failing
    con.execute("INSERT INTO runs (run_id, started_at, status) VALUES ('r', now(), 'running')")
    con.close()
    assert time.monotonic() - started >= 1 and reader.wait() == 0
    assert any("locked by process" in r.getMessage() for r in caplog.records)


def test_a_stage_gives_up_on_a_long_lock_with_a_clear_error(tmp_path):
    path = tmp_path / "x.duckdb"
    db.connect(path).close()
    reader = _hold_read_only(path, 5)
    with pytest.raises(db.StoreError, match=r"in use by another process: .* locked by process \d+"):
        db.connect(path, wait_s=1)
    reader.wait()


def test_failed_load_rolls_back_everything(tmp_path, monkeypatch):
    con = db.connect(tmp_path / "x.duckdb")
    db.start_run(con, "r1")
    article = Article("a1", "a1.txt", "T", "raw", "text", 0)
    db.load_run(con, db.RunResults(run_id="r1", nlp_version="v1", articles=[article]))
    db.start_run(con, "r2")
    real = db.insert_rows

    def fail_on_claims(con_, table, columns, rows):
        if table == "claims":
            raise RuntimeError("disk full")
        return real(con_, table, columns, rows)

    monkeypatch.setattr(db, "insert_rows", fail_on_claims)
    changed = Article("a1", "a1.txt", "T2", "raw2", "text2", 0)
    with pytest.raises(RuntimeError, match="disk full"):
        db.load_run(con, db.RunResults(run_id="r2", nlp_version="v1", articles=[changed]))
    assert con.execute("SELECT title FROM articles").fetchall() == [("T",)]
    assert con.execute("SELECT status FROM runs WHERE run_id = 'r2'").fetchone() == ("running",)


def test_insert_rows_handles_nulls_and_lists(tmp_path):
    con = db.connect(tmp_path / "x.duckdb")
    db.insert_rows(con, "concepts", ("concept_id", "canonical_name", "label", "aliases"),
                   [("C1", None, "L", ["a", "b"]), ("C2", "n", None, None)])
    assert con.execute("SELECT * FROM concepts ORDER BY concept_id").fetchall() == [
        ("C1", None, "L", ["a", "b"]), ("C2", "n", None, None)]


def test_deleted_citation_removes_the_record_and_its_derived_rows(tmp_path):
    from helpers import FIXTURES
    from pipeline.pubmed.parse import parse_pubmed_xml
    from pipeline.records import AnalysedDoc, Claim, Sentence

    records, _ = parse_pubmed_xml((FIXTURES / "pubmed" / "exosome_hair_set1.xml").read_bytes())
    con = db.connect(tmp_path / "x.duckdb")
    db.start_run(con, "r1")
    doc = AnalysedDoc("pubmed", "90000001", (Sentence("pubmed", "90000001", 0, 0, 5, "Text."),), (),
                      (Claim("c1", "pubmed", "90000001", 0, "Text.", "efficacy", "affirmed", "asserted",
                             None, None, "none"),))
    db.load_run(con, db.RunResults(run_id="r1", nlp_version="v", records=records, analysed=[doc]))
    db.start_run(con, "r2")
    counts = db.load_run(con, db.RunResults(run_id="r2", nlp_version="v", deleted_pmids=["90000001", "123"]))
    assert counts.records_deleted == 1
    assert con.execute("SELECT count(*) FROM pubmed_articles").fetchone()[0] == len(records) - 1
    for table in ("sentences", "claims"):
        assert con.execute(f"SELECT count(*) FROM {table} WHERE doc_id = '90000001'").fetchone()[0] == 0


def test_upgrade_from_schema_1_backfills_study_design(tmp_path, monkeypatch):
    from pipeline.store import migrations

    path = tmp_path / "old.duckdb"
    monkeypatch.setattr(migrations, "MIGRATIONS", [m for m in MIGRATIONS if m[0] == 1])
    con = db.connect(path)
    con.execute("""INSERT INTO pubmed_articles (pmid, version, title, abstract, pub_types, mesh_terms)
                   VALUES ('1', 1, 'Exosomes for hair loss: a randomised trial', '60 men with AGA were treated.',
                           ['Randomized Controlled Trial'], ['Humans'])""")
    con.close()
    monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS)
    con = db.connect(path)
    row = con.execute("SELECT study_design, evidence_level, population, sample_size, design_signal "
                      "FROM pubmed_articles").fetchone()
    assert row == ("rct", 2, "human", 60, "publication type: Randomized Controlled Trial")


def test_designs_decided_by_older_rules_are_decided_again(tmp_path, monkeypatch):
    from pipeline.compare import study_design

    con = db.connect(tmp_path / "exoclaims.duckdb")
    con.execute("""INSERT INTO pubmed_articles (pmid, version, title, abstract, pub_types, mesh_terms, study_design,
                       evidence_level, design_signal, design_rules)
                   VALUES ('1', 1, 'Exosomes for hair loss: a randomised trial', '60 men with AGA were treated.',
                           ['Randomized Controlled Trial'], ['Humans'], 'other', 8, 'no design signal', 'old-rules'),
                          ('2', 1, 'Hair cycle', 'Mice were injected with exosomes.', [], ['Animals', 'Mice'],
                           'animal', 5, 'MeSH: Mice', ?)""", [study_design.rules_version()])
    assert db.refresh_study_designs(con) == 1  # only the record decided by other rules
    rows = con.execute("SELECT pmid, study_design, evidence_level, sample_size, design_rules FROM pubmed_articles "
                       "ORDER BY pmid").fetchall()
    assert rows == [("1", "rct", 2, 60, study_design.rules_version()),
                    ("2", "animal", 5, None, study_design.rules_version())]
    assert db.refresh_study_designs(con) == 0  # nothing left to decide: a no-op run does no work

    # a database from before migration 7 has no rules version on its records: all are decided again
    con.execute("UPDATE pubmed_articles SET design_rules = NULL")
    assert db.refresh_study_designs(con) == 2
    con.close()
