"""PubMed's baseline and update files as a second source: the nightly flow streams them in batches through
the NLP stage, applies their deletions, and loads each file once."""

import dataclasses

import duckdb
import pytest
from prefect.exceptions import FailedRun

from helpers import FIXTURES, make_settings, stored_rows

from flows.nightly import nightly
from pipeline.config import BulkSettings, ExecutionSettings, load_settings
from pipeline.pubmed.parse import parse_pubmed_xml
from pipeline.pubmed.topic import TopicFilter
from pipeline.store.db import content_hash
from pipeline.testing.loopback_eutils import LoopbackEutils
from pipeline.testing.synthetic import DEFAULT_START_PMID, bulk_name, synthetic_article, write_bulk_layout, write_pubmed_set


def _settings(tmp_path, server, bulk_dir, runner="threads"):
    """Records from bulk files (and the loopback server) only: no articles, whose NLP and comparison would only
    slow these tests down."""
    settings = make_settings(tmp_path, server.base_url)
    topic = load_settings(env={}).bulk.topic
    (tmp_path / "no-articles").mkdir(exist_ok=True)
    return dataclasses.replace(settings, bulk=BulkSettings(directory=bulk_dir, topic=topic),
                               articles=dataclasses.replace(settings.articles, directory=tmp_path / "no-articles"),
                               execution=ExecutionSettings(task_runner=runner, workers=2, batch_docs=8))


def _expected(bulk_dir, topic) -> dict:
    """PMID → content hash of the records as they stand after every file, kept by the topic filter."""
    records, _ = parse_pubmed_xml((bulk_dir / "loopback" / "synthetic.xml").read_bytes())
    keep = TopicFilter(topic)
    return {r.pmid: content_hash(r) for r in records if keep.matches(r)}


# on the process pool (two workers, each loading the models) under make test-all
@pytest.mark.parametrize("runner, records", [("threads", 12), pytest.param("processes", 40, marks=pytest.mark.slow)])
def test_baseline_and_update_files_are_loaded_once_in_order_with_their_deletions(tmp_path, runner, records):
    bulk_dir = tmp_path / "pubmed"
    files = write_bulk_layout(bulk_dir, records=records, files=2, updates=1, loopback=True)
    update = parse_pubmed_xml(__import__("gzip").decompress(files[-1].read_bytes()))
    deleted_in_update = update[1]
    assert deleted_in_update  # the update file withdraws a baseline record
    (tmp_path / "no-fixtures").mkdir()
    with LoopbackEutils.start(tmp_path / "no-fixtures") as server:
        settings = _settings(tmp_path, server, bulk_dir, runner)
        expected = _expected(bulk_dir, settings.bulk.topic)
        assert 0 < len(expected) <= records + 1

        nightly(settings=settings)
        with duckdb.connect(str(settings.storage.db_path), read_only=True) as con:
            stored = dict(con.execute("SELECT pmid, content_sha256 FROM pubmed_articles").fetchall())
            files_done = con.execute("SELECT name, kind, status FROM bulk_files ORDER BY name").fetchall()
            orphans = con.execute("SELECT count(*) FROM sentences WHERE source = 'pubmed' AND doc_id NOT IN "
                                  "(SELECT pmid FROM pubmed_articles)").fetchone()[0]
            analysed = con.execute("SELECT count(DISTINCT doc_id) FROM sentences WHERE source = 'pubmed'").fetchone()[0]
        # the revised record has its update's content, the deleted one is gone with everything derived from it
        assert stored == expected
        assert not set(deleted_in_update) & set(stored) and orphans == 0
        assert analysed == sum(1 for pmid in stored)  # every stored record went through NLP
        assert files_done == [(bulk_name(1), "baseline", "done"), (bulk_name(2), "baseline", "done"),
                              (bulk_name(3), "update", "done")]

        before = stored_rows(settings.storage.db_path)
        nightly(settings=settings)  # nothing new: no file is read again, nothing changes
        assert stored_rows(settings.storage.db_path) == before

        # the next daily update withdraws one more record and revises another
        victim, revised = sorted(stored)[:2]
        write_pubmed_set(bulk_dir / "updatefiles" / bulk_name(4), [synthetic_article(int(revised), 0, revision=7)],
                         deletions=[victim])
        nightly(settings=settings)
        with duckdb.connect(str(settings.storage.db_path), read_only=True) as con:
            pmids = {p for (p,) in con.execute("SELECT pmid FROM pubmed_articles").fetchall()}
            derived = con.execute("SELECT count(*) FROM claims WHERE source = 'pubmed' AND doc_id = ?",
                                  [victim]).fetchone()[0]
            loaded = con.execute("SELECT count(*) FROM bulk_files WHERE status = 'done'").fetchone()[0]
        assert victim not in pmids and derived == 0 and loaded == 4
        assert pmids == set(stored) - {victim} or revised not in expected


def test_a_bad_bulk_file_stops_the_bulk_source_at_that_file_but_not_the_eutilities_harvest(tmp_path):
    bulk_dir = tmp_path / "pubmed"
    first, second, update = write_bulk_layout(bulk_dir, records=12, files=2, updates=1)
    checksum = second.with_name(second.name + ".md5")
    good_checksum = checksum.read_text()
    checksum.write_text(f"MD5({second.name})= {'0' * 32}\n")  # a download that went wrong
    with LoopbackEutils.start(FIXTURES / "pubmed") as server:
        settings = _settings(tmp_path, server, bulk_dir)
        with pytest.raises(FailedRun, match=rf"bulk files: .*{second.name}: MD5 .* does not match"):
            nightly(settings=settings)
        with duckdb.connect(str(settings.storage.db_path), read_only=True) as con:
            files = dict(con.execute("SELECT name, status FROM bulk_files").fetchall())
            fixture_records = con.execute("SELECT count(*) FROM pubmed_articles WHERE CAST(pmid AS BIGINT) < ?",
                                          [DEFAULT_START_PMID]).fetchone()[0]
            status, error, watermark = con.execute(
                "SELECT status, error, watermark FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
        # the file before it is loaded, the bad one is not (it is read again next run), the update after it
        # waits; E-utilities went on
        assert files[first.name] == "done" and files.get(second.name) != "done" and update.name not in files
        assert fixture_records == 8 and watermark is not None
        assert status == "failed" and second.name in error

        checksum.write_text(good_checksum)  # fetched again
        nightly(settings=settings)
        with duckdb.connect(str(settings.storage.db_path), read_only=True) as con:
            files = dict(con.execute("SELECT name, status FROM bulk_files").fetchall())
            status = con.execute("SELECT status FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()[0]
        assert files == {first.name: "done", second.name: "done", update.name: "done"} and status == "succeeded"
