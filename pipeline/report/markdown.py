"""A compact Markdown digest of the evidence report, for the Prefect artifact of each run.

The Prefect UI shows Markdown, not a whole page, so the digest keeps the numbers an analyst checks
first (record counts, the type × verdict matrix, verdicts per article, the most contradicted
assertions) and points at the HTML file for the rest. Text from the database is untrusted: HTML is
escaped and table pipes and line breaks are neutralised so a sentence cannot break the layout.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from pipeline.compare.study_design import design_label
from pipeline.report.collect import VERDICTS, ReportData, claim_types, read_report
from pipeline.report.html import PUBMED_URL

TOP_CONTRADICTED = 5
MAX_SENTENCE = 200


def _md(text: str | None, limit: int | None = None) -> str:
    text = " ".join((text or "").split())
    if limit and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    text = escape(text, quote=False)
    for ch in "\\|*_`[]":
        text = text.replace(ch, "\\" + ch)
    return text


def _pmid(pmid: str) -> str:
    return f"[{pmid}]({PUBMED_URL.format(pmid=pmid)})" if pmid.isascii() and pmid.isdigit() else _md(pmid)


def report_markdown(data: ReportData, html_path: Path | str | None = None) -> str:
    assertions = data.assertions
    lines = [f"# Evidence report: {len(data.articles)} articles, {len(assertions)} assertions with a verdict", ""]
    if note := data.staleness_note():
        lines += [f"**{_md(note)}**", ""]
    if html_path:
        lines += [f"Full report (one static HTML file): `{_md(str(html_path))}`", ""]
    lines += ["| records | count |", "| --- | ---: |"]
    lines += [f"| {_md(p.label)} | {p.records} |" for p in data.prisma]
    lines += [f"| study design: {_md(design_label(d))} | {n} |" for d, n in data.records_per_design]
    lines.append("")
    if data.type_verdict:
        extra = sorted({c.verdict for c in data.type_verdict} - set(VERDICTS))
        columns = VERDICTS + tuple(extra)
        counts = {(c.claim_type, c.verdict): c.assertions for c in data.type_verdict}
        lines += ["| claim type | " + " | ".join(_md(v) for v in columns) + " | total |",
                  "| --- |" + " ---: |" * (len(columns) + 1)]
        for t in claim_types(data):
            row = [counts.get((t, v), 0) for v in columns]
            lines.append(f"| {_md(t)} | " + " | ".join(map(str, row)) + f" | {sum(row)} |")
        lines.append("")
    else:
        lines += ["No verdicts yet: no checkable assertions were compared with the literature.", ""]
    if data.articles:
        lines += ["| article | assertions | " + " | ".join(_md(v) for v in VERDICTS) + " |",
                  "| --- | ---: |" + " ---: |" * len(VERDICTS)]
        for article in data.articles:
            tally = article.tally()
            lines.append(f"| {_md(article.title or article.article_id, 80)} | {len(article.assertions)} | "
                         + " | ".join(str(tally[v]) for v in VERDICTS) + " |")
        lines.append("")
    against = {a.claim_id: [r.pmid for r in a.evidence if r.stance in ("contradicts", "both")] for a in assertions}
    contradicted = sorted((a for a in assertions if a.records_against and a.verdict in ("contradicted", "mixed")),
                          key=lambda a: (-a.records_against, a.verdict != "contradicted", a.claim_id))
    if contradicted:
        titles = {a.claim_id: article.title or article.article_id for article in data.articles
                  for a in article.assertions}
        lines += ["## Most contradicted assertions", ""]
        for a in contradicted[:TOP_CONTRADICTED]:
            pmids = against[a.claim_id]
            more = f" and {a.records_against - len(pmids)} more" if a.records_against > len(pmids) else ""
            lines.append(f"1. **{_md(a.verdict)}**: “{_md(a.sentence, MAX_SENTENCE)}” ({_md(titles[a.claim_id], 60)}); "
                         f"contradicted by {a.records_against} record{'s' if a.records_against != 1 else ''}: "
                         f"{', '.join(_pmid(p) for p in pmids)}{more}")
        lines.append("")
    return "\n".join(lines)


def report_summary(db_path: Path | str, html_path: Path | str | None = None) -> str:
    """The digest straight from the database (read-only), for the flow's artifact."""
    return report_markdown(read_report(db_path), html_path)
