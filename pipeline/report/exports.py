"""Stored PubMed records as RIS, BibTeX and CSV, for reference managers and screening tools.

Each record carries its study design and evidence level, the analysts' screening decision (table
``screening``) and the article claims it backs: a record backs an article claim when an evidence link
from one of its claims supports or contradicts it. The files are rewritten after every run; decisions
live in the database, so they survive.

What the formats need that is easy to get wrong:

- RIS: ``TAG  - value`` lines ending in CRLF (the specification), one ``AU`` line per author, ``ER`` closing
  each record, no line breaks inside a value, no ``*`` in author, keyword or journal fields.
- BibTeX: a value is delimited by braces, and BibTeX counts every brace, escaped or not, so a literal
  brace in a title is written ``\\textbraceleft{}``; LaTeX specials (``% & $ # _ ~ ^ \\``) are escaped;
  titles are wrapped in an extra brace pair so styles keep "MSC-EVs" upper case; keys
  (``lastname2021_PMID``) are unique and stable because they end in the PMID.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.compare.study_design import design_label
from pipeline.report.prisma import prisma_csv

FORMATS = {"ris": "records.ris", "bibtex": "records.bib", "csv": "records.csv"}
CSV_COLUMNS = ("pmid", "doi", "title", "authors", "journal", "year", "pub_date", "study_design", "evidence_level",
               "population", "sample_size", "pub_types", "is_retracted", "has_abstract", "screening_decision",
               "screening_reason", "screening_reviewer", "n_claims_supported", "n_claims_contradicted",
               "claims_backed", "article_claim_ids", "pubmed_url", "abstract")


@dataclass(frozen=True)
class BackedClaim:
    """An article claim a record's evidence supports or contradicts."""

    claim_id: str
    stance: str  # supports | contradicts
    article_id: str
    article_title: str | None
    sentence: str
    verdict: str | None

    def describe(self) -> str:
        where = _one_line(self.article_title) or self.article_id
        verdict = f" [verdict: {self.verdict}]" if self.verdict else ""
        return f'{self.stance}: "{_one_line(self.sentence)}" ({where}){verdict}'


@dataclass(frozen=True)
class ExportRecord:
    pmid: str
    doi: str | None
    title: str | None
    authors: tuple[str, ...]
    journal: str | None
    year: int | None
    pub_date: str | None
    abstract: str | None
    has_abstract: bool
    is_retracted: bool
    is_book: bool
    study_design: str | None
    evidence_level: int | None
    population: str | None
    sample_size: int | None
    pub_types: tuple[str, ...]
    keywords: tuple[str, ...]
    language: tuple[str, ...]
    decision: str | None  # include | exclude | maybe | None (not screened)
    screening_reason: str | None
    reviewer: str | None
    claims: tuple[BackedClaim, ...]

    @property
    def url(self) -> str:
        return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"

    @property
    def design_label(self) -> str | None:
        return design_label(self.study_design) if self.study_design else None


@dataclass(frozen=True)
class ExportFiles:
    directory: Path
    records: int
    paths: dict[str, Path]  # format → file


# -- reading ---------------------------------------------------------------------------------------

def read_export_records(con: duckdb.DuckDBPyConnection, included_only: bool = False) -> list[ExportRecord]:
    """Every stored record (or only those screened ``include``), strongest evidence first, then by PMID."""
    claims: dict[str, list[BackedClaim]] = {}
    for pmid, claim_id, stance, article_id, title, sentence, verdict in con.execute("""
            SELECT DISTINCT l.pmid, l.article_claim_id, l.stance, c.doc_id, a.title, c.sentence, v.verdict
            FROM evidence_links l
            JOIN claims c ON c.claim_id = l.article_claim_id
            LEFT JOIN articles a ON a.article_id = c.doc_id
            LEFT JOIN claim_verdicts v ON v.claim_id = l.article_claim_id
            WHERE l.stance IN ('supports', 'contradicts')
            ORDER BY l.pmid, l.stance DESC, c.doc_id, c.sentence_idx""").fetchall():
        claims.setdefault(pmid, []).append(BackedClaim(claim_id, stance, article_id, title, sentence, verdict))
    rows = con.execute(f"""
        SELECT p.pmid, p.doi, p.title, p.authors, p.journal, p.pub_year, p.pub_date, p.abstract, p.has_abstract,
               p.is_retracted, p.is_book, p.study_design, p.evidence_level, p.population, p.sample_size,
               p.pub_types, p.keywords, p.language, s.decision, s.reason, s.reviewer
        FROM pubmed_articles p LEFT JOIN screening s ON s.pmid = p.pmid
        {"WHERE s.decision = 'include'" if included_only else ""}
        ORDER BY p.evidence_level NULLS LAST, length(p.pmid), p.pmid""").fetchall()
    return [ExportRecord(
        pmid=r[0], doi=r[1], title=r[2], authors=tuple(r[3] or ()), journal=r[4], year=r[5], pub_date=r[6],
        abstract=r[7], has_abstract=bool(r[8]), is_retracted=bool(r[9]), is_book=bool(r[10]), study_design=r[11],
        evidence_level=r[12], population=r[13], sample_size=r[14], pub_types=tuple(r[15] or ()),
        keywords=tuple(r[16] or ()), language=tuple(r[17] or ()), decision=r[18], screening_reason=r[19],
        reviewer=r[20], claims=tuple(claims.get(r[0], ())),
    ) for r in rows]


# -- shared helpers --------------------------------------------------------------------------------

def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def split_author(name: str) -> tuple[str, str | None]:
    """PubMed's "Last Initials" → (last, initials); a collective name has no initials: ("Study Group", None)."""
    name = _one_line(name)
    last, _, initials = name.rpartition(" ")
    if last and re.fullmatch(r"[A-Z]{1,4}", initials):
        return last, initials
    return name, None


def _dotted(initials: str) -> str:
    return " ".join(f"{i}." for i in initials)


def _notes(record: ExportRecord) -> list[str]:
    notes = []
    if record.is_retracted:
        notes.append("RETRACTED publication")
    if not record.has_abstract:
        notes.append("No abstract in PubMed")
    if record.decision:
        notes.append(f"Screening: {record.decision}" + (f" ({_one_line(record.screening_reason)})"
                                                        if record.screening_reason else "")
                     + (f" by {record.reviewer}" if record.reviewer else ""))
    notes += [f"Backs article claim, {c.describe()}" for c in record.claims]
    return notes


def _tags(record: ExportRecord) -> list[str]:
    tags = []
    if record.study_design:
        tags.append(f"design: {record.design_label}")
    if record.evidence_level is not None:
        tags.append(f"evidence level: {record.evidence_level}")
    if record.is_retracted:
        tags.append("retracted")
    tags.append(f"screening: {record.decision or 'unscreened'}")
    return tags


# -- RIS -------------------------------------------------------------------------------------------

def _ris_line(tag: str, value, no_asterisk: bool = False) -> str | None:
    text = _one_line(str(value)) if value is not None else ""
    if no_asterisk:
        text = text.replace("*", "")
    return f"{tag}  - {text}" if text else None


def to_ris(records: list[ExportRecord]) -> str:
    """RIS (the 2011 RefMan specification's tags), CRLF line endings, UTF-8."""
    lines: list[str] = []
    for r in records:
        entry = [f"TY  - {'CHAP' if r.is_book else 'JOUR'}", _ris_line("TI", r.title)]
        for author in r.authors:
            last, initials = split_author(author)
            entry.append(_ris_line("AU", f"{last}, {_dotted(initials)}" if initials else last, no_asterisk=True))
        entry += [
            _ris_line("T2", r.journal, no_asterisk=True),
            _ris_line("JO", r.journal, no_asterisk=True),
            _ris_line("PY", r.year),
            _ris_line("DO", r.doi),
            _ris_line("AN", r.pmid),
            _ris_line("ID", f"PMID{r.pmid}"),
            _ris_line("UR", r.url),
            _ris_line("DB", "PubMed"),
            _ris_line("AB", r.abstract),
        ]
        entry += [_ris_line("LA", language) for language in r.language]
        entry += [_ris_line("KW", k, no_asterisk=True) for k in (*_tags(r), *r.keywords)]
        entry += [_ris_line("N1", note) for note in _notes(r)]
        entry.append("ER  - ")
        lines += [line for line in entry if line]
    return "".join(line + "\r\n" for line in lines)


# -- BibTeX ----------------------------------------------------------------------------------------

_BIB_SPECIALS = {
    "\\": r"\textbackslash{}", "{": r"\textbraceleft{}", "}": r"\textbraceright{}", "%": r"\%", "&": r"\&",
    "$": r"\$", "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}


def bibtex_escape(text: str | None) -> str:
    """Plain text → a BibTeX/LaTeX-safe value: specials escaped, braces balanced, one line. Non-ASCII
    letters stay UTF-8 (biber, Zotero, JabRef and modern BibTeX read it)."""
    return "".join(_BIB_SPECIALS.get(ch, ch) for ch in _one_line(text))


def _bib_name(author: str) -> str:
    last, initials = split_author(author)
    if initials:
        return f"{bibtex_escape(last)}, {_dotted(initials)}"
    return "{" + bibtex_escape(last) + "}"  # a collective name: one "last name", never split on "and"


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z]", "", folded).lower()


def bibtex_key(record: ExportRecord) -> str:
    """``smith2021_90000001``: readable, and unique and stable because it ends in the PMID."""
    last = _ascii_word(split_author(record.authors[0])[0])[:20] if record.authors else ""
    if not last:
        return f"pmid{record.pmid}"
    return f"{last}{record.year or 'nd'}_{record.pmid}"


def to_bibtex(records: list[ExportRecord]) -> str:
    entries = []
    for r in records:
        fields: list[tuple[str, str]] = []
        if r.authors:
            fields.append(("author", " and ".join(_bib_name(a) for a in r.authors)))
        if r.title:
            fields.append(("title", "{" + bibtex_escape(r.title) + "}"))
        if r.journal:
            fields.append(("booktitle" if r.is_book else "journal", bibtex_escape(r.journal)))
        if r.year:
            fields.append(("year", str(r.year)))
        if r.doi:
            fields.append(("doi", bibtex_escape(r.doi)))
        fields += [("pmid", r.pmid), ("eprint", r.pmid), ("eprinttype", "pubmed"), ("url", r.url)]
        if r.abstract:
            fields.append(("abstract", bibtex_escape(r.abstract)))
        fields.append(("keywords", ", ".join(bibtex_escape(k.replace(",", ";")) for k in (*_tags(r), *r.keywords))))
        notes = _notes(r)
        if notes:
            fields.append(("note", bibtex_escape("; ".join(notes))))
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        entries.append(f"@{'incollection' if r.is_book else 'article'}{{{bibtex_key(r)},\n{body}\n}}\n")
    return "\n".join(entries)


# -- CSV -------------------------------------------------------------------------------------------

def to_csv(records: list[ExportRecord]) -> str:
    """One row per record; list values joined with '; ', the claims it backs with ' | '."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for r in records:
        writer.writerow((
            r.pmid, r.doi or "", _one_line(r.title), "; ".join(r.authors), r.journal or "",
            "" if r.year is None else r.year, r.pub_date or "", r.study_design or "",
            "" if r.evidence_level is None else r.evidence_level, r.population or "",
            "" if r.sample_size is None else r.sample_size, "; ".join(r.pub_types),
            str(r.is_retracted).lower(), str(r.has_abstract).lower(), r.decision or "", r.screening_reason or "",
            r.reviewer or "", sum(c.stance == "supports" for c in r.claims),
            sum(c.stance == "contradicts" for c in r.claims), " | ".join(c.describe() for c in r.claims),
            " | ".join(dict.fromkeys(c.claim_id for c in r.claims)), r.url, r.abstract or "",
        ))
    return buffer.getvalue()


RENDERERS = {"ris": to_ris, "bibtex": to_bibtex, "csv": to_csv}


def render_export(records: list[ExportRecord], fmt: str) -> str:
    if fmt not in RENDERERS:
        raise ValueError(f"unknown export format {fmt!r} (one of {', '.join(RENDERERS)})")
    return RENDERERS[fmt](records)


def write_atomically(path: Path, text: str) -> None:
    """Write beside the target and rename, so a reader (or a sync tool) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_exports(con: duckdb.DuckDBPyConnection, directory: Path, included_only: bool = False) -> ExportFiles:
    """records.ris, records.bib, records.csv and prisma_counts.csv in ``directory``."""
    records = read_export_records(con, included_only)
    paths = {}
    for fmt, name in FORMATS.items():
        paths[fmt] = Path(directory) / name
        write_atomically(paths[fmt], render_export(records, fmt))
    paths["prisma"] = Path(directory) / "prisma_counts.csv"
    write_atomically(paths["prisma"], prisma_csv(con))
    return ExportFiles(Path(directory), len(records), paths)
