import gzip
import json
import logging
import subprocess
import sys
import tracemalloc
from itertools import islice

import pytest

from pipeline.pubmed.bulk import (BulkFileError, bulk_files, iter_batches, iter_bulk_file, iter_file_batches,
                                  verify_md5)
from pipeline.pubmed.parse import Deletion
from pipeline.store import db
from pipeline.testing.synthetic import synthetic_article, synthetic_articles, write_pubmed_set


def _write(path, pmids=(), deletions=(), revision=0):
    return write_pubmed_set(path, (synthetic_article(p, revision=revision) for p in pmids), deletions)


def _delete(*pmids):
    """A DeleteCitation element where NLM may put one: anywhere between the articles."""
    return b"<DeleteCitation>" + b"".join(b'<PMID Version="1">%d</PMID>' % p for p in pmids) + b"</DeleteCitation>\n"


def test_nlm_layout_baseline_first_then_updates_in_number_order(tmp_path, caplog):
    for number in (2, 1):
        _write(tmp_path / "baseline" / f"pubmed25n000{number}.xml.gz", [number])
    for number in (1275, 1274, 10000):
        _write(tmp_path / "updatefiles" / f"pubmed25n{number:04d}.xml.gz", [number])
    _write(tmp_path / "updatefiles" / "pubmed24n1300.xml.gz", [3])  # last year's cycle comes before
    (tmp_path / "updatefiles" / "README.txt").write_text("NLM")
    (tmp_path / "updatefiles" / "pubmed25n1276.xml.gz.part").write_bytes(b"half")
    (tmp_path / "updatefiles" / "pubmed25n1277.xml.gz.md5").write_text("MD5(pubmed25n1277.xml.gz)= " + "0" * 32)
    _write(tmp_path / "pubmed25n0003.xml.gz", [4])  # beside the folders: not part of either
    with caplog.at_level(logging.WARNING, logger="pipeline.pubmed.bulk"):
        files = bulk_files(tmp_path)
    assert [(f.name, f.kind, f.number) for f in files] == [
        ("pubmed24n1300.xml.gz", "update", 1300),
        ("pubmed25n0001.xml.gz", "baseline", 1), ("pubmed25n0002.xml.gz", "baseline", 2),
        ("pubmed25n1274.xml.gz", "update", 1274), ("pubmed25n1275.xml.gz", "update", 1275),
        ("pubmed25n10000.xml.gz", "update", 10000),
    ]
    warned = caplog.text
    for ignored in ("README.txt", "pubmed25n1276.xml.gz.part", "pubmed25n1277.xml.gz.md5", "pubmed25n0003.xml.gz"):
        assert ignored in warned
    assert "pubmed25n0001.xml.gz.md5" not in warned  # a checksum beside its file is expected, not noise


def test_flat_directory_in_number_order_kind_from_its_name(tmp_path, caplog):
    flat = tmp_path / "downloads"
    for number in (1276, 3, 1275):
        _write(flat / f"pubmed25n{number:04d}.xml.gz", [number])
    (flat / "notes.md").write_text("x")
    with caplog.at_level(logging.WARNING, logger="pipeline.pubmed.bulk"):
        files = bulk_files(flat)
    assert [f.number for f in files] == [3, 1275, 1276]
    assert {f.kind for f in files} == {"baseline"}
    assert "notes.md" in caplog.text
    updates = tmp_path / "mirror" / "updatefiles"
    _write(updates / "pubmed25n1280.xml.gz", [1])
    assert [(f.name, f.kind) for f in bulk_files(updates)] == [("pubmed25n1280.xml.gz", "update")]
    with pytest.raises(BulkFileError, match="not a directory"):
        bulk_files(tmp_path / "missing")


def test_md5_is_checked_before_any_record(tmp_path):
    path = _write(tmp_path / "pubmed25n0001.xml.gz", range(91000001, 91000006))
    bulk_file = bulk_files(tmp_path)[0]
    assert verify_md5(bulk_file) is True
    assert [r.pmid for r in iter_bulk_file(bulk_file)] == [str(p) for p in range(91000001, 91000006)]

    md5_path = tmp_path / "pubmed25n0001.xml.gz.md5"
    good = md5_path.read_text()
    md5_path.write_text(good.replace(good.split("= ")[1].strip(), "0123456789abcdef" * 2))
    yielded = []
    with pytest.raises(BulkFileError, match=r"pubmed25n0001\.xml\.gz: MD5 .* does not match 0123456789abcdef"):
        for record in iter_bulk_file(bulk_file):
            yielded.append(record)
    assert yielded == []
    assert len(list(iter_bulk_file(bulk_file, verify=False))) == 5

    md5_path.write_text(good.replace("pubmed25n0001", "pubmed25n0002"))
    with pytest.raises(BulkFileError, match="checksum of pubmed25n0002.xml.gz, not of pubmed25n0001.xml.gz"):
        verify_md5(bulk_file)
    md5_path.write_text("<html>404 Not Found</html>")
    with pytest.raises(BulkFileError, match="not a checksum line"):
        verify_md5(bulk_file)
    md5_path.write_text(f"{good.split('= ')[1].strip()}  pubmed25n0001.xml.gz\n")  # md5sum's format
    assert verify_md5(bulk_file) is True
    md5_path.unlink()
    assert verify_md5(bulk_file) is False and len(list(iter_bulk_file(bulk_file))) == 5
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF  # no checksum to catch this one: gzip or the parser must
    path.write_bytes(bytes(damaged))
    with pytest.raises(BulkFileError, match="pubmed25n0001.xml.gz"):
        list(iter_bulk_file(bulk_file))


def test_truncated_download_is_refused_naming_the_file(tmp_path):
    path = _write(tmp_path / "pubmed25n0007.xml.gz", range(91000001, 91000041))
    bulk_file = bulk_files(tmp_path)[0]
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(BulkFileError, match=r"pubmed25n0007\.xml\.gz: MD5 .*\(corrupt or incomplete download"):
        list(iter_bulk_file(bulk_file))
    (tmp_path / "pubmed25n0007.xml.gz.md5").unlink()
    with pytest.raises(BulkFileError, match=r"pubmed25n0007\.xml\.gz: truncated gzip stream"):
        list(iter_bulk_file(bulk_file))


@pytest.mark.parametrize("content, problem", [
    (gzip.compress(b"<PubmedArticleSet><PubmedArticle><MedlineCitation>"), "malformed or truncated XML"),
    (gzip.compress(b"<html><body>Service unavailable</body></html>"), "expected PubmedArticleSet, got <html>"),
    (b"<PubmedArticleSet></PubmedArticleSet>", "corrupt gzip stream"),
])
def test_unusable_content_is_refused_naming_the_file(tmp_path, content, problem):
    (tmp_path / "pubmed25n0009.xml.gz").write_bytes(content)
    with pytest.raises(BulkFileError, match=rf"pubmed25n0009\.xml\.gz: .*{problem}"):
        list(iter_bulk_file(bulk_files(tmp_path)[0]))


def test_batches_keep_file_order_and_size():
    items = [synthetic_article(p) for p in range(91000001, 91000026)]
    batches = list(iter_batches(_parse(items), size=10, file_name="pubmed25n0001.xml.gz"))
    assert [(b.file_name, b.index, len(b.records), b.deleted_pmids) for b in batches] == [
        ("pubmed25n0001.xml.gz", 0, 10, ()), ("pubmed25n0001.xml.gz", 1, 10, ()), ("pubmed25n0001.xml.gz", 2, 5, ())]
    assert [r.pmid for b in batches for r in b.records] == [str(p) for p in range(91000001, 91000026)]
    assert list(iter_batches([Deletion(("1", "2"))], size=10)) and not list(iter_batches([], size=10))
    with pytest.raises(ValueError, match="at least 1"):
        list(iter_batches([], size=0))


def _parse(articles):
    from pipeline.pubmed.parse import iter_pubmed_xml
    from pipeline.testing.synthetic import FOOTER, HEADER

    return iter_pubmed_xml(HEADER + b"".join(articles) + FOOTER)


def test_deletions_and_re_additions_apply_in_file_order(tmp_path):
    a, b, c, d, e = range(91000001, 91000006)
    _write(tmp_path / "baseline" / "pubmed25n0001.xml.gz", [a, b, c])
    # D added then deleted in the same file; E added, deleted, re-added; B revised twice in one file
    write_pubmed_set(tmp_path / "updatefiles" / "pubmed25n0002.xml.gz",
                     [synthetic_article(d), synthetic_article(b, revision=1), synthetic_article(e),
                      synthetic_article(b, revision=2), _delete(e), synthetic_article(e)], deletions=[a, d])
    _write(tmp_path / "updatefiles" / "pubmed25n0003.xml.gz", [a])  # A comes back
    con = db.connect(tmp_path / "x.duckdb")
    stored_after = []
    for bulk_file in bulk_files(tmp_path):
        for batch in iter_file_batches(bulk_file, size=100):  # one batch would hold a whole file
            db.load_batch(con, "r1", "v", [], batch.records, [], batch.deleted_pmids)
        stored_after.append(sorted(int(r[0]) for r in con.execute("SELECT pmid FROM pubmed_articles").fetchall()))
    assert stored_after == [[a, b, c], [b, c, e], [a, b, c, e]]
    comments = json.loads(con.execute("SELECT comments_corrections FROM pubmed_articles WHERE pmid = ?",
                                      [str(b)]).fetchone()[0])
    assert [c["source"] for c in comments if c["ref_type"] == "ErratumIn"] == ["Erratum 1.", "Erratum 2."]


# -- memory -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    """~20,000 records, ~90 MB of XML, gzip-compressed as NLM ships them (~8 MB)."""
    directory = tmp_path_factory.mktemp("bulk")
    path = write_pubmed_set(directory / "pubmed25n0001.xml.gz", synthetic_articles(20_000))
    uncompressed = 0
    with gzip.open(path) as fh:
        while chunk := fh.read(1 << 20):
            uncompressed += len(chunk)
    return bulk_files(directory)[0], uncompressed


@pytest.mark.slow  # scale: a large generated bulk file
def test_reading_a_file_does_not_hold_it_in_memory(big_file):
    # A reader that loads or parses the whole file before handing out records peaks before its first
    # record; the first 2,000 records show that (tracing all 20,000 takes minutes).
    bulk_file, uncompressed = big_file
    tracemalloc.start()
    try:
        assert sum(1 for _ in islice(iter_bulk_file(bulk_file), 2000)) == 2000
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert uncompressed > 80_000_000
    assert peak < uncompressed / 50, f"peak {peak:,} bytes while reading a {uncompressed:,}-byte file"


_RSS_CHILD = """
import resource, sys
from pathlib import Path
from pipeline.pubmed.bulk import bulk_files, iter_bulk_file
bulk_file = bulk_files(Path(sys.argv[1]))[0]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
count = sum(1 for _ in iter_bulk_file(bulk_file))
print(count, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)
"""


@pytest.mark.slow  # scale: a large generated bulk file
def test_memory_stays_flat_through_the_whole_file(big_file):
    # Peak RSS of a fresh process also sees what tracemalloc cannot: the C memory of lxml's tree.
    bulk_file, uncompressed = big_file
    out = subprocess.run([sys.executable, "-c", _RSS_CHILD, str(bulk_file.path.parent)],
                         capture_output=True, text=True, check=True).stdout.split()
    count, growth = int(out[0]), int(out[1])
    assert count == 20_000
    assert growth < uncompressed / 8, f"peak RSS grew by {growth:,} bytes reading a {uncompressed:,}-byte file"
