"""The evidence report as one self-contained static HTML file.

One file, no external resources and no JavaScript: it opens offline, can be mailed or archived next to
the database, and shows the same thing in every browser. Article sentences, titles and reasons are
untrusted input (marketing pages can carry markup or script), so every piece of text goes through
``html.escape``, attribute values included; the Content-Security-Policy below is the second line of
defence: even markup that slipped through could neither run script nor load anything.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from pipeline.compare.study_design import design_label
from pipeline.report.charts import design_colour, heatmap_table, year_design_chart
from pipeline.report.collect import (
    VERDICTS, ArticleReport, Assertion, EvidenceRef, ReportData, claim_types, read_report,
)

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
PUBMED_URL = "https://pubmed.ncbi.nlm.nih.gov/{pmid}/"
VERDICT_COLOURS = {
    "supported": "#1a7f37", "supported only by preclinical evidence": "#9a6700", "mixed": "#8250df",
    "contradicted": "#cf222e", "not addressed": "#6e7781",
}

STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; margin: 0;
       background: #f6f8fa; }
header, main { max-width: 1100px; margin: 0 auto; padding: 0 1.2rem; }
header { padding-top: 1.2rem; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; }
h2 { font-size: 1.25rem; margin: 1.8rem 0 .6rem; }
section.panel, nav.panel, section.article { background: #fff; border: 1px solid #d0d7de; border-radius: 6px;
       padding: .4rem 1rem 1rem; margin: 1rem 0; }
.meta { color: #59636e; margin: .2rem 0; }
.stale { color: #8a4b00; font-weight: 600; }
.empty { color: #59636e; font-style: italic; }
table { border-collapse: collapse; margin: .4rem 0; }
th, td { border: 1px solid #d0d7de; padding: .25rem .55rem; text-align: left; }
td.num, td.heat, td.total { text-align: right; font-variant-numeric: tabular-nums; }
td.heat.dark { color: #fff; }
td.total, tfoot th { font-weight: 600; background: #f6f8fa; }
caption { text-align: left; color: #59636e; padding-bottom: .3rem; }
.badge { display: inline-block; border-radius: 1em; padding: 0 .6em; font-size: .82rem; font-weight: 600;
         color: #fff; white-space: nowrap; }
.badge.certainty { background: #eaeef2; color: #24292f; border: 1px solid #d0d7de; }
.tag { display: inline-block; border: 1px solid #d0d7de; border-radius: 4px; padding: 0 .35em; font-size: .8rem;
       color: #59636e; }
ol.assertions { padding-left: 1.4rem; }
li.assertion { margin: .8rem 0; }
blockquote.sentence { margin: .3rem 0; padding: .1rem .7rem; border-left: 3px solid #d0d7de; }
p.reason { margin: .2rem 0; color: #59636e; }
ul.evidence { margin: .2rem 0; padding-left: 1.2rem; font-size: .9rem; }
p.more { margin: .1rem 0 0 1.2rem; font-size: .85rem; color: #57606a; }
.stance-contradicts .stance { color: #cf222e; }
.stance-supports .stance { color: #1a7f37; }
svg.chart { max-width: 100%; height: auto; font-size: 11px; }
svg.chart .grid { stroke: #eaeef2; }
svg.chart .axis { stroke: #59636e; }
svg.chart .tick, svg.chart .legend text { fill: #59636e; }
svg.chart .axis-label { fill: #1f2328; font-size: 12px; }
nav ul { columns: 2; padding-left: 1.2rem; }
code { font-size: .85em; }
"""


def _slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "none"


def verdict_badge(verdict: str) -> str:
    colour = VERDICT_COLOURS.get(verdict, "#57606a")
    return (f'<span class="badge verdict verdict-{_slug(verdict)}" data-verdict="{escape(verdict)}" '
            f'style="background-color: {colour}">{escape(verdict)}</span>')


def _design_badge(design: str | None) -> str:
    if not design:
        return '<span class="tag">design unknown</span>'
    colour = design_colour(design)
    text = "#1f2328" if design in ("case_series_or_report", "rct") else "#fff"
    return (f'<span class="badge design" style="background-color: {colour}; color: {text}">'
            f'{escape(design_label(design))}</span>')


def pmid_link(pmid: str, title: str | None = None) -> str:
    """A link to the record on PubMed; anything that is not a plain PMID is shown as text, never linked."""
    if not pmid.isascii() or not pmid.isdigit():
        return f'<span class="pmid">PMID {escape(pmid)}</span>'
    title_attr = f' title="{escape(title)}"' if title else ""
    return (f'<a class="pmid" href="{PUBMED_URL.format(pmid=pmid)}" rel="noopener noreferrer" target="_blank"'
            f'{title_attr}>PMID {pmid}</a>')


def _evidence_item(ref: EvidenceRef) -> str:
    year = f", {ref.pub_year}" if ref.pub_year is not None else ""
    return (f'<li class="stance-{_slug(ref.stance)}">{pmid_link(ref.pmid, ref.title)} {_design_badge(ref.design)}'
            f'{year} <span class="stance">{escape(ref.stance)}</span></li>')


def certainty_badge(certainty: str | None) -> str:
    """The certainty of the evidence behind a verdict (GRADE-style), beside its badge."""
    if not certainty:
        return ""
    return (f'<span class="badge certainty certainty-{_slug(certainty)}" data-certainty="{escape(certainty)}" '
            f'title="certainty of the evidence">{escape(certainty)} certainty</span>')


def _assertion(article_no: int, a: Assertion) -> str:
    tags = [a.claim_type] + [t for t in (a.certainty, a.polarity) if t in ("hedged", "negated")]
    evidence = (f'<ul class="evidence">{"".join(_evidence_item(r) for r in a.evidence)}</ul>' if a.evidence
                else "")
    if len(a.evidence) < a.records_total:
        evidence += (f'<p class="more">The strongest {len(a.evidence)} of {a.records_total} records are listed; '
                     f'all are in the database (<code>evidence_links</code>) and the exports.</p>')
    return (f'<li class="assertion" id="a{article_no}-{a.sentence_idx}-{_slug(a.claim_id)[:12]}" '
            f'data-claim-id="{escape(a.claim_id)}" data-verdict="{escape(a.verdict)}">'
            f'{verdict_badge(a.verdict)} {certainty_badge(a.certainty_of_evidence)} '
            f'{" ".join(f"<span class=tag>{escape(t)}</span>" for t in tags)}'
            f'<blockquote class="sentence">{escape(a.sentence)}</blockquote>'
            f'{f"<p class=reason>{escape(a.reason)}</p>" if a.reason else ""}{evidence}</li>')


def _tally(article: ArticleReport) -> str:
    return " ".join(f'{verdict_badge(v)} <span class="count">{n}</span>'
                    for v, n in article.tally().items() if n)


def _article(no: int, article: ArticleReport) -> str:
    title = article.title or article.article_id
    source = f' · <span class="source">{escape(article.source)}</span>' if article.source else ""
    body = (f'<ol class="assertions">{"".join(_assertion(no, a) for a in article.assertions)}</ol>'
            if article.assertions else '<p class="empty">No checkable assertions with a verdict in this article.</p>')
    return (f'<section class="article" id="article-{no}" data-article-id="{escape(article.article_id)}">'
            f'<h3>{escape(title)}</h3>'
            f'<p class="meta"><code>{escape(article.article_id)}</code>{source} · '
            f'{len(article.assertions)} assertion{"s" if len(article.assertions) != 1 else ""}</p>'
            f'<p class="tally">{_tally(article)}</p>{body}</section>')


def _counts_table(rows: list[tuple[str, int]], caption: str, header: str) -> str:
    body = "".join(f'<tr><th scope="row">{escape(label)}</th><td class="num">{n}</td></tr>' for label, n in rows)
    return (f'<table class="counts"><caption>{escape(caption)}</caption><thead><tr><th scope="col">'
            f'{escape(header)}</th><th scope="col">records</th></tr></thead><tbody>{body}</tbody></table>')


def _records_panel(data: ReportData) -> str:
    if not data.prisma and not data.records_per_design:
        return '<p class="empty">No PubMed records stored yet.</p>'
    parts = [_counts_table([(p.label, p.records) for p in data.prisma], "The records' flow", "stage")]
    if data.records_per_design:
        parts.append(_counts_table([(design_label(d), n) for d, n in data.records_per_design],
                                   "Stored records per study design (strongest first)", "study design"))
    return "".join(parts)


def _chart_panel(data: ReportData) -> str:
    svg = year_design_chart(data.records_per_year)
    if not svg:
        return '<p class="empty">No PubMed records stored yet: nothing to chart.</p>'
    undated = sum(c.records for c in data.records_per_year if c.pub_year is None)
    note = (f" {undated} record{'s state' if undated != 1 else ' states'} no year (the last bar)."
            if undated else "")
    return (f'<figure>{svg}<figcaption class="meta">PubMed records per publication year, stacked by the study '
            f'design the pipeline classified.{escape(note)}</figcaption></figure>')


def _matrix_panel(data: ReportData) -> str:
    if not data.type_verdict:
        return '<p class="empty">No verdicts yet: no checkable assertions were compared with the literature.</p>'
    extra = sorted({c.verdict for c in data.type_verdict} - set(VERDICTS))
    counts = {(c.claim_type, c.verdict): c.assertions for c in data.type_verdict}
    return heatmap_table(claim_types(data), VERDICTS + tuple(extra), counts,
                         "Article assertions per claim type and verdict", "claim type")


def _header(data: ReportData) -> str:
    run = ""
    if data.last_run:
        finished = f", finished {data.last_run.finished_at:%Y-%m-%d %H:%M}" if data.last_run.finished_at else ""
        stage = f": {data.last_run.stage}" if data.last_run.stage and data.last_run.status != "succeeded" else ""
        run = (f' · last run <code>{escape(data.last_run.run_id)}</code> '
               f'({escape(data.last_run.status)}{escape(stage)}{finished})')
    note = data.staleness_note()
    stale = f'<p class="meta stale" role="alert">{escape(note)}</p>' if note else ""
    assertions = data.assertions
    totals = {v: sum(1 for a in assertions if a.verdict == v) for v in VERDICTS}
    summary = " ".join(f"{verdict_badge(v)} {n}" for v, n in totals.items() if n)
    return (f'<header><h1>Exosome hair therapy: what the articles claim, what the literature says</h1>'
            f'<p class="meta">Evidence report generated {data.generated_at:%Y-%m-%d %H:%M}{run}</p>'
            f'<p class="meta">{len(data.articles)} article{"s" if len(data.articles) != 1 else ""}, '
            f'{len(assertions)} checkable assertion{"s" if len(assertions) != 1 else ""} with a verdict. '
            f'{summary}</p>{stale}</header>')


def _nav(data: ReportData) -> str:
    if not data.articles:
        return ""
    items = "".join(f'<li><a href="#article-{no}">{escape(a.title or a.article_id)}</a> '
                    f'({len(a.assertions)})</li>' for no, a in enumerate(data.articles, 1))
    return f'<nav class="panel"><h2>Articles</h2><ul>{items}</ul></nav>'


def render_html(data: ReportData) -> str:
    """The whole report page; every text from the database is escaped."""
    articles = ("".join(_article(no, a) for no, a in enumerate(data.articles, 1)) if data.articles
                else '<p class="empty">No articles stored yet: run the pipeline first.</p>')
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>exosome-claims evidence report</title>
<link rel="icon" href="data:,">
<style>{STYLE}</style>
</head>
<body>
{_header(data)}
<main>
{_nav(data)}
<section class="panel" id="records"><h2>PubMed records</h2>{_records_panel(data)}</section>
<section class="panel" id="records-chart"><h2>Records per year by study design</h2>{_chart_panel(data)}</section>
<section class="panel" id="type-verdict"><h2>Assertion type × verdict</h2>{_matrix_panel(data)}</section>
<section id="articles"><h2>Assertions per article</h2>{articles}</section>
</main>
</body>
</html>
"""


def write_report(db_path: Path | str, out_path: Path | str) -> Path:
    """Read the database (read-only, so a running job is not disturbed) and write the HTML report."""
    out = Path(out_path)
    html = render_html(read_report(db_path))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)  # a reader never sees half a page
    return out


def render_check_html(title: str, source: str, assertions, literature_records: int) -> str:
    """One checked article's assertions with their verdicts (``exoclaims check --format html``): a static
    page like the evidence report's, self-contained and escaped."""
    items = []
    for a in assertions:
        pmids = ", ".join(pmid_link(p) for p in a.key_pmids)
        items.append(f'<li class="assertion" data-verdict="{escape(a.verdict)}">{verdict_badge(a.verdict)} '
                     f'{certainty_badge(a.certainty)} '
                     f'<span class="tag">{escape(a.claim_type)}</span>'
                     f'<blockquote class="sentence">{escape(a.sentence)}</blockquote>'
                     f'<p class="reason">{escape(a.reason)}</p>'
                     + (f'<p class="reason">Key records: {pmids}</p>' if pmids else "") + '</li>')
    body = f'<ol class="assertions">{"".join(items)}</ol>' if items else \
        '<p class="empty">No checkable assertion was found in this article.</p>'
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f'<title>Checked: {escape(title)}</title><style>{STYLE}</style></head><body>'
            f'<header><h1>{escape(title)}</h1><p class="meta">{escape(source)}: {len(assertions)} assertion'
            f'{"s" if len(assertions) != 1 else ""} judged against {literature_records} stored records</p></header>'
            f'<main><section class="article">{body}</section></main></body></html>\n')
