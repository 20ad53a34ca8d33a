"""A disk that fills up while a run archives PubMed's responses: the run stops with a clear error, nothing
stored before is lost or changed, no half-written archive file is left, and the next run, with space
again, catches up. The archive is put on a real, tiny tmpfs (mounting one needs root, as in CI)."""

import dataclasses
import datetime as dt
import subprocess
import uuid

import duckdb
import pytest

from helpers import FIXTURES, make_settings, stored_rows

from flows.nightly import nightly
from pipeline.store.db import DERIVED_TABLES


@pytest.fixture
def tiny_disk(tmp_path):
    mount_point = tmp_path / "tiny-disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", f"tmpfs-{uuid.uuid4().hex[:6]}",
                              str(mount_point)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill up (needs root): {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


def _fill(folder):
    """Fill the filesystem of ``folder`` to the last byte."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 1024)
        except OSError:
            pass
    return filler


def test_a_full_disk_while_archiving_stops_the_run_and_loses_nothing(after_first_run, eutils_server, tiny_disk):
    tmp_path = after_first_run
    settings = make_settings(tmp_path, eutils_server.base_url)
    before = stored_rows(settings.storage.db_path, DERIVED_TABLES + ("pubmed_articles", "articles", "raw_responses"))
    first_archive = {p: p.read_bytes() for p in (tmp_path / "raw").rglob("*") if p.is_file()}

    eutils_server.add_xml((FIXTURES / "pubmed_update" / "exosome_hair_new.xml").read_bytes(),
                          entrez_date=dt.date.today())
    on_full_disk = dataclasses.replace(settings, storage=dataclasses.replace(settings.storage, archive_dir=tiny_disk))
    filler = _fill(tiny_disk)
    state = nightly(settings=on_full_disk, return_state=True)

    assert state.is_failed()
    with duckdb.connect(str(settings.storage.db_path), read_only=True) as con:
        status, error = con.execute("SELECT status, error FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
    assert status == "failed"
    assert "cannot write the raw-response archive" in error and "No space left on device" in error
    # nothing already stored is lost or changed, and no partial archive file is left behind
    assert stored_rows(settings.storage.db_path, DERIVED_TABLES + ("pubmed_articles", "articles", "raw_responses")) == before
    assert {p: p.read_bytes() for p in (tmp_path / "raw").rglob("*") if p.is_file()} == first_archive
    assert [p.name for p in tiny_disk.rglob("*") if p.is_file()] == ["filler"]

    filler.unlink()  # space again: the next run fetches what the failed one could not archive
    counts = nightly(settings=on_full_disk)
    assert counts.records_new == 2
    with duckdb.connect(str(settings.storage.db_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM pubmed_articles").fetchone()[0] == 10
        archived = con.execute("SELECT count(*) FROM raw_responses WHERE path LIKE ?", [f"{tiny_disk}%"]).fetchone()[0]
    assert archived > 0
