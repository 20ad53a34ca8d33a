"""NLM's PubMed baseline and update files as a second source beside E-utilities, streamed file by file.

NLM publishes PubMed as gzip-compressed ``PubmedArticleSet`` files (``pubmed25n0001.xml.gz`` …) in two
folders: ``baseline/`` (the yearly snapshot) and ``updatefiles/`` (the daily changes since). Update
numbers continue after the baseline's, so number order is the order to apply them in; a record appears
again in a later file when it is revised, and ``<DeleteCitation>`` withdraws PMIDs.

Which files are read, in which order (:func:`bulk_files`):

- a directory holding ``baseline/`` and/or ``updatefiles/`` (NLM's layout, as mirrored from its FTP
  site): the files of those folders, the kind given by the folder. Files beside the folders are ignored.
- a flat directory: its files in number order. Named ``baseline`` or ``updatefiles`` it gives its files
  that kind; otherwise nothing tells baseline from update files apart, and all are recorded as
  ``baseline``. The order is right either way, since update numbers continue after the baseline's.

Baseline files come first, then update files, each in number order; with files of more than one yearly
cycle (``25`` in ``pubmed25n``) in the folders, each cycle's files come before the next cycle's. Anything
else in the folders (``README.txt``, a half-downloaded ``.part``) is ignored with a logged warning; the
``.md5`` beside each file is checked when present.

A file is parsed as it is decompressed (never read whole), so memory stays bounded whatever its size.
Use :func:`iter_file_batches` to get it in batches for the NLP stage; apply the batches in order, each one's
records before its deletions (what :func:`pipeline.store.db.load_batch` does).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Literal

from pipeline.pubmed.parse import Deletion, MalformedResponse, iter_pubmed_xml
from pipeline.records import PubmedRecord

log = logging.getLogger(__name__)

Kind = Literal["baseline", "update"]

FILE_NAME = re.compile(r"^pubmed(\d{2})n(\d{4,})\.xml\.gz$")
_FOLDERS: dict[str, Kind] = {"baseline": "baseline", "updatefiles": "update"}
_KIND_ORDER = {"baseline": 0, "update": 1}
# "MD5(pubmed25n0001.xml.gz)= <hex>" as NLM writes it (openssl), or "<hex>  NAME" as md5sum does
_MD5_OPENSSL = re.compile(r"^MD5\s*\((?P<name>[^)]+)\)\s*=\s*(?P<md5>[0-9a-fA-F]{32})\s*$")
_MD5_SUM = re.compile(r"^(?P<md5>[0-9a-fA-F]{32})\s+\*?(?P<name>\S+)\s*$")
_CHUNK = 1 << 18


class BulkFileError(ValueError):
    """A baseline or update file that cannot be used (checksum mismatch, truncated, malformed)."""


@dataclass(frozen=True)
class BulkFile:
    """One of NLM's files; :func:`bulk_files` finds them."""

    path: Path
    name: str  # pubmed25n0001.xml.gz
    kind: Kind
    number: int  # 1 for pubmed25n0001.xml.gz

    @property
    def year(self) -> int:
        """The two-digit year of the baseline cycle the file belongs to (25 for pubmed25n…)."""
        return int(FILE_NAME.match(self.name).group(1))

    @property
    def md5_path(self) -> Path:
        return self.path.with_name(self.name + ".md5")

    @property
    def sort_key(self) -> tuple[int, int, int]:
        return self.year, _KIND_ORDER[self.kind], self.number


@dataclass(frozen=True)
class BulkBatch:
    """A slice of one file for the NLP stage and the store.

    Apply batches in order, and within a batch ``records`` before ``deleted_pmids``. Each PMID is in
    ``records`` once (its last version in the batch); a record the same batch deletes afterwards is left
    out, and a record that re-adds a PMID deleted earlier in the file starts a new batch.
    """

    file_name: str
    index: int  # 0, 1, … within the file
    records: tuple[PubmedRecord, ...]
    deleted_pmids: tuple[str, ...]


# -- finding files --------------------------------------------------------------------------------

def _scan(folder: Path, kind: Kind, found: dict[str, BulkFile]) -> None:
    for path in sorted(folder.iterdir()):
        if path.name.endswith(".md5") and FILE_NAME.match(path.name[: -len(".md5")]):
            if not path.with_name(path.name[: -len(".md5")]).is_file():
                log.warning("ignoring %s: checksum without its data file (download incomplete?)", path)
            continue
        match = FILE_NAME.match(path.name)
        if match is None or not path.is_file():
            log.warning("ignoring %s: not a PubMed baseline or update file (pubmedYYnNNNN.xml.gz)", path)
            continue
        if path.name in found:
            raise BulkFileError(f"{path.name} is both in {found[path.name].path.parent} and {folder}; "
                                "a baseline or update file name is unique")
        found[path.name] = BulkFile(path, path.name, kind, int(match.group(2)))


def bulk_files(directory: Path | str) -> list[BulkFile]:
    """The baseline and update files under ``directory``, in the order to apply them (module docstring)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise BulkFileError(f"{directory} is not a directory")
    found: dict[str, BulkFile] = {}
    folders = [(directory / name, kind) for name, kind in _FOLDERS.items() if (directory / name).is_dir()]
    if folders:
        for path in sorted(directory.iterdir()):
            if path.name not in _FOLDERS:
                log.warning("ignoring %s: only the baseline/ and updatefiles/ folders of %s are read", path, directory)
        for folder, kind in folders:
            _scan(folder, kind, found)
    else:
        _scan(directory, _FOLDERS.get(directory.name, "baseline"), found)
    return sorted(found.values(), key=lambda f: f.sort_key)


# -- checksums ------------------------------------------------------------------------------------

def file_digest(path: Path | str, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def expected_md5(bulk_file: BulkFile) -> str | None:
    """The checksum NLM published beside the file, or None when there is no ``.md5`` file."""
    md5_path = bulk_file.md5_path
    if not md5_path.is_file():
        return None
    text = md5_path.read_text(encoding="ascii", errors="replace").strip()
    match = _MD5_OPENSSL.match(text) or _MD5_SUM.match(text)
    if match is None:
        raise BulkFileError(f"{md5_path}: not a checksum line (expected 'MD5({bulk_file.name})= <32 hex digits>')")
    if Path(match.group("name")).name != bulk_file.name:
        raise BulkFileError(f"{md5_path}: is the checksum of {match.group('name')}, not of {bulk_file.name}")
    return match.group("md5").lower()


def verify_md5(bulk_file: BulkFile) -> bool:
    """Check the file against its ``.md5``; False when there is none, :class:`BulkFileError` on a mismatch."""
    expected = expected_md5(bulk_file)
    if expected is None:
        return False
    actual = file_digest(bulk_file.path, "md5")
    if actual != expected:
        raise BulkFileError(f"{bulk_file.path}: MD5 {actual} does not match {expected} in {bulk_file.md5_path.name} "
                            "(corrupt or incomplete download; fetch it again)")
    return True


# -- reading --------------------------------------------------------------------------------------

def iter_bulk_file(bulk_file: BulkFile, verify: bool = True) -> Iterator[PubmedRecord | Deletion]:
    """Records and deletions of one file in file order, decompressed and parsed as a stream.

    With ``verify`` the ``.md5`` is checked first, before anything is yielded. A truncated or corrupt
    gzip stream or malformed XML raises :class:`BulkFileError` naming the file; the records yielded
    before the error are then not the whole file.
    """
    if verify:
        verify_md5(bulk_file)
    try:
        with gzip.open(bulk_file.path, "rb") as stream:
            yield from iter_pubmed_xml(stream)
    except MalformedResponse as exc:
        raise BulkFileError(f"{bulk_file.path}: {exc}") from exc
    except EOFError as exc:
        raise BulkFileError(f"{bulk_file.path}: truncated gzip stream ({exc}); fetch it again") from exc
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise BulkFileError(f"{bulk_file.path}: corrupt gzip stream ({exc}); fetch it again") from exc
    except OSError as exc:
        raise BulkFileError(f"{bulk_file.path}: cannot be read ({exc})") from exc


def iter_batches(items: Iterable[PubmedRecord | Deletion], size: int, file_name: str = "") -> Iterator[BulkBatch]:
    """Group a file's records into batches of at most ``size`` records, deletions kept in stream order."""
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    index = 0
    records: dict[str, PubmedRecord] = {}
    deleted: dict[str, None] = {}

    def flush() -> BulkBatch:
        nonlocal index, records, deleted
        batch = BulkBatch(file_name, index, tuple(records.values()), tuple(deleted))
        index, records, deleted = index + 1, {}, {}
        return batch

    for item in items:
        if isinstance(item, Deletion):
            for pmid in item.pmids:
                records.pop(pmid, None)
                deleted[pmid] = None
            continue
        if item.pmid in deleted:
            # the batch applies its deletions last, so a re-added record must come in a later batch
            yield flush()
        records.pop(item.pmid, None)  # a later version in the same file replaces the earlier one
        records[item.pmid] = item
        if len(records) >= size:
            yield flush()
    if records or deleted:
        yield flush()


def iter_file_batches(bulk_file: BulkFile, size: int, verify: bool = True) -> Iterator[BulkBatch]:
    """:func:`iter_bulk_file` in :func:`iter_batches`."""
    return iter_batches(iter_bulk_file(bulk_file, verify=verify), size, bulk_file.name)
