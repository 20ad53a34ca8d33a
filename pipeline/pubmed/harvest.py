"""Incremental PubMed harvest: esearch on the history server by Entrez date, efetch in batches.

A run searches each configured query for records entered since the last watermark (minus a small
overlap), splits result sets larger than esearch can page through into date ranges, fetches them in
batches, archives every raw response, and retries earlier failed PMIDs by id list. A batch that still
fails after the client's retries is reported with its PMIDs, never dropped.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from pipeline.config import PubmedSettings
from pipeline.pubmed.archive import ResponseArchive
from pipeline.pubmed.eutils import EutilsClient, EutilsError, EutilsUnavailable
from pipeline.pubmed.parse import parse_pubmed_xml
from pipeline.records import PubmedRecord

log = logging.getLogger(__name__)

EARLIEST = dt.date(1800, 1, 1)


@dataclass
class HarvestResult:
    records: dict[str, PubmedRecord] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    found: set[str] = field(default_factory=set)
    per_query: dict[str, int] = field(default_factory=dict)  # PMIDs per query; one two queries return counts twice
    query_pmids: dict[str, list[str]] = field(default_factory=dict)  # the PMIDs themselves (PRISMA counts)
    search_from: dt.date | None = None
    watermark: dt.date | None = None


def _fmt(day: dt.date) -> str:
    return day.strftime("%Y/%m/%d")


def search_window(settings: PubmedSettings, watermark: dt.date | None, today: dt.date) -> dt.date | None:
    """First Entrez date to ask for: watermark minus overlap, or the back window on a first run."""
    if watermark is not None:
        return watermark - dt.timedelta(days=settings.overlap_days)
    if settings.back_window_days > 0:
        return today - dt.timedelta(days=settings.back_window_days)
    return None


class Harvester:
    def __init__(self, client: EutilsClient, archive: ResponseArchive, settings: PubmedSettings):
        self.client = client
        self.archive = archive
        self.settings = settings

    def _ranges(self, query: str, lo: dt.date, hi: dt.date) -> list[tuple[dt.date, dt.date, int]]:
        """Date ranges whose result sets each fit under esearch's paging limit."""
        result = self.client.esearch(query, mindate=_fmt(lo), maxdate=_fmt(hi), retmax=0, usehistory=False)
        self.archive.save("esearch", {"term": query, "mindate": _fmt(lo), "maxdate": _fmt(hi), "retmax": 0}, result.raw)
        if result.count <= self.settings.max_ids_per_search:
            return [(lo, hi, result.count)] if result.count else []
        if lo >= hi:
            log.error("%d records entered on %s alone exceed the esearch limit; fetching the first %d",
                      result.count, lo, self.settings.max_ids_per_search)
            return [(lo, hi, result.count)]
        mid = lo + (hi - lo) / 2
        return self._ranges(query, lo, mid) + self._ranges(query, mid + dt.timedelta(days=1), hi)

    def _fetch(self, result: HarvestResult, wanted: list[str], **efetch_args) -> None:
        """Fetch one batch; ``wanted`` are the PMIDs it should hold (kept as failures if it fails)."""
        ids = wanted
        params_note = {k: v for k, v in efetch_args.items() if k != "ids"} or {"id": ",".join(ids)}
        try:
            body = self.client.efetch(**efetch_args, validate=parse_pubmed_xml)
        except EutilsUnavailable:
            raise
        except EutilsError as exc:
            log.error("efetch batch of %d PMIDs failed, kept for the next run: %s", len(ids), exc)
            for pmid in ids:
                result.failed[pmid] = str(exc)
            return
        self.archive.save("efetch", {"db": "pubmed", **params_note}, body)
        records, deleted = parse_pubmed_xml(body)
        for record in records:
            result.records[record.pmid] = record
            result.failed.pop(record.pmid, None)
        result.deleted.extend(deleted)
        missing = set(ids) - {r.pmid for r in records} - set(deleted)
        if missing:
            log.warning("efetch returned no record for %d PMIDs (withdrawn?): %s", len(missing), sorted(missing)[:10])

    def harvest(self, queries: tuple[str, ...], since: dt.date | None, until: dt.date,
                retry_pmids: list[str] = ()) -> HarvestResult:
        result = HarvestResult(search_from=since)
        batch = self.settings.batch_size
        retry = list(retry_pmids)
        for start in range(0, len(retry), batch):
            ids = retry[start:start + batch]
            log.info("re-fetching %d PMIDs that failed in earlier runs", len(ids))
            self._fetch(result, ids, ids=ids)
        for query in queries:
            query_ids: dict[str, None] = {}
            for lo, hi, count in self._ranges(query, since or EARLIEST, until):
                retmax = min(count, self.settings.max_ids_per_search)
                search = self.client.esearch(query, mindate=_fmt(lo), maxdate=_fmt(hi), retmax=retmax)
                self.archive.save("esearch", {"term": query, "mindate": _fmt(lo), "maxdate": _fmt(hi),
                                              "retmax": retmax, "usehistory": "y"}, search.raw)
                ids = list(search.ids)
                result.found.update(ids)
                query_ids.update(dict.fromkeys(ids))
                log.info("query window %s..%s: %d records, fetching in batches of %d", lo, hi, len(ids), batch)
                n_batches = (len(ids) + batch - 1) // batch
                for number, start in enumerate(range(0, len(ids), batch), 1):
                    wanted = ids[start:start + batch]
                    if all(i in result.records for i in wanted):
                        continue  # already fetched for an earlier query
                    self._fetch(result, wanted, webenv=search.webenv, query_key=search.query_key,
                                retstart=start, retmax=batch)
                    log.info("efetch batch %d/%d: %d records so far, %d failed", number, n_batches,
                             len(result.records), len(result.failed))
            result.query_pmids[query] = list(query_ids)
            result.per_query[query] = len(query_ids)
        result.found.update(retry)
        result.watermark = until
        return result
