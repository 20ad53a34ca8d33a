"""The run summary as Markdown (shown as a Prefect artifact and printed by the CLI)."""

from __future__ import annotations

from pipeline.records import NlpTotals
from pipeline.store.db import LoadCounts, RunResults


def run_summary_markdown(results: RunResults, counts: LoadCounts, status: str, error: str | None,
                         seconds: float, nlp: NlpTotals) -> str:
    by_type = nlp.claims_by_type
    lines = [
        f"# exosome-claims run `{results.run_id}`: {status}",
        "",
        "| what | count |",
        "| --- | ---: |",
        f"| PubMed records found (search window from {results.search_from or 'the beginning'}) | {results.records_found} |",
        f"| new records | {counts.records_new} |",
        f"| updated records | {counts.records_updated} |",
        f"| unchanged records | {counts.records_unchanged} |",
        f"| deleted records | {counts.records_deleted} |",
        f"| records that failed to fetch (retried next run) | {len(results.failed_pmids)} |",
        f"| articles (re)processed | {counts.articles_loaded} |",
        f"| documents through NLP | {nlp.documents} |",
        f"| claims extracted | {counts.claims_loaded} |",
        f"| raw responses archived | {len(results.raw_responses)} |",
        f"| run time (s) | {seconds:.1f} |",
        "",
    ]
    if by_type:
        lines += ["| claim type | count |", "| --- | ---: |"]
        lines += [f"| {name} | {n} |" for name, n in sorted(by_type.items())]
        lines.append("")
    if results.watermark:
        lines.append(f"Next run searches from the watermark {results.watermark} (minus the overlap).")
    if error:
        lines.append(f"\n**Error:** {error}")
    return "\n".join(lines)
