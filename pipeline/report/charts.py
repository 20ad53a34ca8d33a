"""The report's charts as inline SVG and HTML, drawn in Python.

Why not a charting library: the page must work offline with no JavaScript and a CSP that forbids
loading anything, and two simple charts do not justify a dependency. Every label is escaped, because
designs and claim types come from the database, not from this code.
"""

from __future__ import annotations

import math
from collections import defaultdict
from html import escape
from typing import Mapping, Sequence

from pipeline.compare.study_design import design_label
from pipeline.report.collect import DESIGNS, UNCLASSIFIED, YearDesignCount

# Okabe-Ito colours (distinguishable with the common colour-vision deficiencies), strongest design first
DESIGN_COLOURS = {
    "systematic_review": "#0072B2", "rct": "#56B4E9", "non_randomised_clinical": "#009E73",
    "case_series_or_report": "#F0E442", "animal": "#E69F00", "in_vitro": "#D55E00",
    "narrative_review": "#CC79A7", "other": "#999999", UNCLASSIFIED: "#555555",
}
NO_YEAR = "no year"
MAX_FILLED_YEARS = 80  # a wider span shows only the years that have records

WIDTH, PLOT_HEIGHT = 760, 240
LEFT, RIGHT, TOP = 56, 16, 16
LEGEND_ROW, CHAR_WIDTH = 20, 7


def design_colour(design: str) -> str:
    return DESIGN_COLOURS.get(design, "#333333")


def _nice_step(maximum: int, max_ticks: int = 6) -> int:
    """A 1-2-5 step so that the y axis gets at most ``max_ticks`` gridlines above zero."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if maximum / (step * factor) <= max_ticks:
                return step * factor
        step *= 10


def _year_buckets(counts: Sequence[YearDesignCount]) -> list[int | None]:
    years = sorted({c.pub_year for c in counts if c.pub_year is not None})
    if years and years[-1] - years[0] < MAX_FILLED_YEARS:
        years = list(range(years[0], years[-1] + 1))  # empty years show as gaps, not as closed-up bars
    buckets: list[int | None] = list(years)
    if any(c.pub_year is None for c in counts):
        buckets.append(None)
    return buckets


def _legend(designs: Sequence[str], top: float) -> tuple[list[str], float]:
    """Legend items laid out left to right, wrapping; returns the SVG parts and the height used."""
    parts, x, y = [], LEFT, top
    for design in designs:
        label = design_label(design)
        width = 18 + CHAR_WIDTH * len(label) + 16
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, y = LEFT, y + LEGEND_ROW
        parts.append(f'<g class="legend-item" data-design="{escape(design)}">'
                     f'<rect x="{x}" y="{y}" width="12" height="12" fill="{design_colour(design)}"/>'
                     f'<text x="{x + 18}" y="{y + 10}">{escape(label)}</text></g>')
        x += width
    return parts, (y - top) + LEGEND_ROW


def year_design_chart(counts: Sequence[YearDesignCount]) -> str:
    """A stacked bar chart of records per publication year, one colour per study design ("" without records)."""
    if not any(c.records for c in counts):
        return ""
    buckets = _year_buckets(counts)
    stacks: dict[int | None, dict[str, int]] = defaultdict(dict)
    for c in counts:
        stacks[c.pub_year][c.design] = stacks[c.pub_year].get(c.design, 0) + c.records
    present = {c.design for c in counts}
    designs = [d for d in DESIGNS if d in present] + sorted(present - set(DESIGNS))
    totals = [sum(stacks[b].values()) for b in buckets]
    step = _nice_step(max(totals))
    y_max = step * math.ceil(max(totals) / step)
    plot_w = WIDTH - LEFT - RIGHT
    band = plot_w / len(buckets)
    bar_w = max(band * 0.7, 1.0)
    label_every = math.ceil(len(buckets) / 20)

    def y(value: float) -> float:
        return TOP + PLOT_HEIGHT * (1 - value / y_max)

    parts = []
    for tick in range(0, y_max + 1, step):
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
                     f'<text class="tick" x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}</text>')
    for i, bucket in enumerate(buckets):
        x = LEFT + i * band + (band - bar_w) / 2
        year = NO_YEAR if bucket is None else str(bucket)
        base = 0
        for design in designs:
            n = stacks[bucket].get(design, 0)
            if not n:
                continue
            parts.append(
                f'<rect class="bar" data-year="{escape(year)}" data-design="{escape(design)}" data-records="{n}" '
                f'x="{x:.1f}" y="{y(base + n):.1f}" width="{bar_w:.1f}" height="{y(base) - y(base + n):.1f}" '
                f'fill="{design_colour(design)}"><title>{escape(year)}, {escape(design_label(design))}: '
                f'{n} record{"s" if n != 1 else ""}</title></rect>')
            base += n
        if i % label_every == 0 or bucket is None:
            parts.append(f'<text class="tick" x="{x + bar_w / 2:.1f}" y="{TOP + PLOT_HEIGHT + 16}" '
                         f'text-anchor="middle">{escape(year)}</text>')
    axis_y = TOP + PLOT_HEIGHT
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{axis_y}" y2="{axis_y}"/>'
                 f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{axis_y}"/>')
    parts.append(f'<text class="axis-label" x="{LEFT + plot_w / 2:.1f}" y="{axis_y + 38}" '
                 f'text-anchor="middle">publication year</text>')
    parts.append(f'<text class="axis-label" x="14" y="{TOP + PLOT_HEIGHT / 2:.1f}" text-anchor="middle" '
                 f'transform="rotate(-90 14 {TOP + PLOT_HEIGHT / 2:.1f})">records</text>')
    legend, legend_h = _legend(designs, axis_y + 56)
    height = axis_y + 56 + legend_h
    return (f'<svg class="chart" id="records-per-year" xmlns="http://www.w3.org/2000/svg" role="img" '
            f'viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" height="{height:.0f}" '
            f'aria-labelledby="records-per-year-title">'
            f'<title id="records-per-year-title">PubMed records per publication year, stacked by study design'
            f'</title>{"".join(parts)}<g class="legend">{"".join(legend)}</g></svg>')


def heatmap_table(rows: Sequence[str], columns: Sequence[str], counts: Mapping[tuple[str, str], int],
                  caption: str, row_header: str) -> str:
    """A count matrix as an HTML table whose cells are shaded by count, with row and column totals."""
    peak = max(counts.values(), default=0) or 1
    head = "".join(f'<th scope="col">{escape(c)}</th>' for c in columns)
    body = []
    for r in rows:
        cells = []
        for c in columns:
            n = counts.get((r, c), 0)
            alpha = 0.08 + 0.82 * n / peak if n else 0.0
            style = f' style="background-color: rgba(0, 114, 178, {alpha:.2f})"' if n else ""
            dark = " dark" if alpha > 0.5 else ""
            cells.append(f'<td class="heat{dark}" data-row="{escape(r)}" data-col="{escape(c)}"{style}>{n}</td>')
        total = sum(counts.get((r, c), 0) for c in columns)
        body.append(f'<tr><th scope="row">{escape(r)}</th>{"".join(cells)}<td class="total">{total}</td></tr>')
    col_totals = "".join(f'<td class="total">{sum(counts.get((r, c), 0) for r in rows)}</td>' for c in columns)
    return (f'<table class="matrix"><caption>{escape(caption)}</caption>'
            f'<thead><tr><th scope="col">{escape(row_header)}</th>{head}<th scope="col">total</th></tr></thead>'
            f'<tbody>{"".join(body)}</tbody>'
            f'<tfoot><tr><th scope="row">total</th>{col_totals}<td class="total">{sum(counts.values())}</td></tr>'
            f'</tfoot></table>')
