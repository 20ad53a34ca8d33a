import hashlib

import duckdb
import pytest

from pipeline.pubmed.bulk import BulkFileError, bulk_files
from pipeline.store import db
from pipeline.store.bulk_files import (BulkFileChanged, BulkFileOutOfOrder, mark_done, mark_started,
                                       pending_bulk_files)
from pipeline.testing.synthetic import synthetic_articles, write_pubmed_set


@pytest.fixture()
def files(tmp_path):
    nlm = tmp_path / "nlm"
    for number, start in ((1, 91000001), (2, 91000011)):
        write_pubmed_set(nlm / "baseline" / f"pubmed25n000{number}.xml.gz", synthetic_articles(10, start_pmid=start))
    write_pubmed_set(nlm / "updatefiles" / "pubmed25n0003.xml.gz", synthetic_articles(3, start_pmid=91000021),
                     deletions=["91000001"])
    return bulk_files(tmp_path / "nlm")


def _names(files):
    return [f.name for f in files]


def test_done_files_are_not_pending_and_their_load_is_recorded(tmp_path, files):
    con = db.connect(tmp_path / "x.duckdb")
    first, second, update = files
    assert _names(pending_bulk_files(con, reversed(files))) == _names(files)
    mark_started(con, first, "run-1")
    assert _names(pending_bulk_files(con, files)) == _names(files)  # loading is not loaded
    mark_done(con, first, "run-1", records=10, deletions=0)
    mark_started(con, second, "run-1")
    mark_done(con, second, "run-1", records=10, deletions=0)
    assert pending_bulk_files(con, files) == [update]
    row = con.execute("""SELECT kind, number, size_bytes, sha256, records, deletions, run_id, status,
                                finished_at >= started_at FROM bulk_files WHERE name = ?""", [first.name]).fetchone()
    assert row == ("baseline", 1, first.path.stat().st_size, hashlib.sha256(first.path.read_bytes()).hexdigest(),
                   10, 0, "run-1", "done", True)
    mark_started(con, update, "run-2")
    mark_done(con, update, "run-2", records=3, deletions=1)
    assert pending_bulk_files(con, files) == []
    assert con.execute("SELECT kind, deletions FROM bulk_files WHERE number = 3").fetchone() == ("update", 1)
    with pytest.raises(BulkFileError, match="pubmed25n0001.xml.gz was already loaded by run run-1"):
        mark_started(con, first, "run-3")


def test_a_file_a_killed_run_left_half_loaded_is_loaded_again(tmp_path, files):
    con = db.connect(tmp_path / "x.duckdb")
    mark_started(con, files[0], "run-1")  # ... and the run dies
    assert pending_bulk_files(con, files)[0] == files[0]
    mark_started(con, files[0], "run-2")
    with pytest.raises(BulkFileError, match="not being loaded by run run-1"):
        mark_done(con, files[0], "run-1", records=10, deletions=0)
    mark_done(con, files[0], "run-2", records=10, deletions=0)
    assert con.execute("SELECT run_id, status FROM bulk_files").fetchall() == [("run-2", "done")]
    with pytest.raises(BulkFileError, match="not being loaded"):
        mark_done(con, files[1], "run-2", records=10, deletions=0)


def test_a_done_file_whose_content_changed_is_refused(tmp_path, files):
    con = db.connect(tmp_path / "x.duckdb")
    for bulk_file in files[:2]:
        mark_started(con, bulk_file, "run-1")
        mark_done(con, bulk_file, "run-1", records=10, deletions=0)
    path = files[1].path
    original = path.read_bytes()
    damaged = bytearray(original)
    damaged[100] ^= 0xFF  # same size, other content
    path.write_bytes(bytes(damaged))
    with pytest.raises(BulkFileChanged, match=r"pubmed25n0002\.xml\.gz has changed since run run-1 loaded it .*"
                                              r"NLM never rewrites a published file"):
        pending_bulk_files(con, files)
    assert pending_bulk_files(con, files, rehash_done=False) == [files[2]]  # sizes only: cheap, blind to this
    write_pubmed_set(path, synthetic_articles(12, start_pmid=91000011))  # a different file under the same name
    with pytest.raises(BulkFileChanged, match="pubmed25n0002.xml.gz has changed"):
        pending_bulk_files(con, files, rehash_done=False)
    path.write_bytes(original)
    assert pending_bulk_files(con, files) == [files[2]]


def test_a_missing_earlier_file_is_not_applied_after_later_updates(tmp_path, files):
    con = db.connect(tmp_path / "x.duckdb")
    mark_started(con, files[1], "run-1")
    mark_done(con, files[1], "run-1", records=10, deletions=0)
    assert pending_bulk_files(con, files) == [files[0], files[2]]  # a PMID is in one baseline file only
    mark_started(con, files[2], "run-1")
    mark_done(con, files[2], "run-1", records=3, deletions=1)
    with pytest.raises(BulkFileOutOfOrder, match=r"pubmed25n0001.xml.gz is not loaded yet, but the later "
                                                 r"pubmed25n0003.xml.gz is: .* 'pubmed25n0003.xml.gz'"):
        pending_bulk_files(con, files)


def test_bulk_files_table_constraints(tmp_path):
    con = db.connect(tmp_path / "x.duckdb")
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO bulk_files (name, kind, number, status) VALUES ('a', 'baseline', 1, 'half')")
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO bulk_files (name, kind, number, status) VALUES ('a', 'daily', 1, 'done')")


def test_upgrade_from_schema_5_adds_bulk_files(tmp_path, monkeypatch):
    from pipeline.store import migrations

    path = tmp_path / "old.duckdb"
    monkeypatch.setattr(migrations, "MIGRATIONS", [m for m in migrations.MIGRATIONS if m[0] <= 5])
    db.connect(path).close()
    monkeypatch.undo()
    con = db.connect(path)
    assert con.execute("SELECT name FROM schema_migrations WHERE version = 6").fetchone() == (
        "PubMed baseline and update files loaded",)
    assert con.execute("SELECT count(*) FROM bulk_files").fetchone() == (0,)
