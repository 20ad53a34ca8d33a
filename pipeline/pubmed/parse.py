"""Parse efetch ``PubmedArticleSet`` XML into :class:`~pipeline.records.PubmedRecord` objects.

We stream with lxml's ``iterparse`` instead of ``Bio.Entrez.parse``: Biopython 1.88 refuses a
PubmedArticleSet in ``parse`` and rejects archived responses whose DOCTYPE names an ``http://`` DTD.
The parser never loads DTDs, never resolves entities and never touches the network, and a body whose
DOCTYPE declares entities is refused outright: NCBI never sends one, and it is how XXE and
entity-expansion ("billion laughs") payloads are built (docs/security.md).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import BinaryIO, Iterator

from lxml import etree

from pipeline.records import AbstractSection, CommentCorrection, MeshHeading, PubmedRecord

_TOP_LEVEL = {"PubmedArticle", "PubmedBookArticle", "DeleteCitation"}
_ACCEPTED_ROOTS = {"PubmedArticleSet", "PubmedBookArticleSet"}
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_SPACES = re.compile(r"\s+")


class MalformedResponse(ValueError):
    """The body is not a complete PubmedArticleSet (truncated, HTML error page, <ERROR>...)."""


@dataclass(frozen=True)
class Deletion:
    """A ``<DeleteCitation>`` entry: these PMIDs were withdrawn from PubMed."""

    pmids: tuple[str, ...]


def declares_entities(root: etree._Element) -> bool:
    """Whether the document's internal DTD subset declares entities (general or parameter ones)."""
    dtd = root.getroottree().docinfo.internalDTD
    return dtd is not None and next(iter(dtd.iterentities()), None) is not None


def _text(element: etree._Element | None) -> str:
    """All text below ``element`` (inline markup such as <i>, <sup>, MathML kept as plain text)."""
    if element is None:
        return ""
    return _SPACES.sub(" ", "".join(element.itertext())).strip()


def _version(pmid_el: etree._Element) -> int:
    """The PMID's Version attribute (1 when absent); anything but digits means the body is not NCBI's."""
    value = (pmid_el.get("Version") or "1").strip()
    if not (value.isascii() and value.isdigit()):
        raise MalformedResponse(f"PMID {(pmid_el.text or '').strip()!r} has a non-numeric Version {value!r}")
    return int(value)


def _year(text: str) -> int | None:
    match = _YEAR.search(text or "")
    return int(match.group(1)) if match else None


def _pub_date(date_el: etree._Element | None) -> tuple[str, int | None]:
    """Printable date and year from a PubDate: Year/Month/Day, Season, or a free-form MedlineDate."""
    if date_el is None:
        return "", None
    medline = date_el.findtext("MedlineDate")
    if medline:
        return medline.strip(), _year(medline)
    parts = [date_el.findtext(tag) for tag in ("Year", "Season", "Month", "Day")]
    printable = " ".join(p.strip() for p in parts if p)
    return printable, _year(date_el.findtext("Year") or "")


def _authors(author_list: etree._Element | None) -> tuple[str, ...]:
    if author_list is None:
        return ()
    names = []
    for author in author_list.findall("Author"):
        collective = author.findtext("CollectiveName")
        if collective:
            names.append(_SPACES.sub(" ", collective).strip())
            continue
        last = author.findtext("LastName") or ""
        initials = author.findtext("Initials") or author.findtext("ForeName") or ""
        name = f"{last} {initials}".strip()
        if name:
            names.append(name)
    return tuple(names)


def _abstract(abstract_el: etree._Element | None) -> tuple[AbstractSection, ...]:
    if abstract_el is None:
        return ()
    sections = []
    for part in abstract_el.findall("AbstractText"):
        text = _text(part)
        if text:
            sections.append(AbstractSection(part.get("Label"), part.get("NlmCategory"), text))
    return tuple(sections)


def _article_ids(pubmed_data: etree._Element | None) -> dict[str, str]:
    ids: dict[str, str] = {}
    if pubmed_data is None:
        return ids
    for art_id in pubmed_data.iterfind("ArticleIdList/ArticleId"):
        id_type = art_id.get("IdType")
        if id_type and art_id.text and id_type not in ids:
            ids[id_type] = art_id.text.strip()
    return ids


def _mesh(citation: etree._Element) -> tuple[MeshHeading, ...]:
    headings = []
    for heading in citation.iterfind("MeshHeadingList/MeshHeading"):
        descriptor = heading.find("DescriptorName")
        if descriptor is None:
            continue
        qualifiers = heading.findall("QualifierName")
        major = descriptor.get("MajorTopicYN") == "Y" or any(q.get("MajorTopicYN") == "Y" for q in qualifiers)
        headings.append(
            MeshHeading(
                descriptor=_text(descriptor),
                ui=descriptor.get("UI"),
                major_topic=major,
                qualifiers=tuple(_text(q) for q in qualifiers),
            )
        )
    return tuple(headings)


def _comments(citation: etree._Element) -> tuple[CommentCorrection, ...]:
    return tuple(
        CommentCorrection(
            ref_type=cc.get("RefType", ""),
            pmid=(cc.findtext("PMID") or "").strip() or None,
            source=_text(cc.find("RefSource")),
        )
        for cc in citation.iterfind("CommentsCorrectionsList/CommentsCorrections")
        if cc.get("RefType") != "Cites"
    )


def _date_revised(citation: etree._Element) -> str | None:
    revised = citation.find("DateRevised")
    if revised is None:
        return None
    y, m, d = (revised.findtext(t) or "" for t in ("Year", "Month", "Day"))
    return f"{y}-{m.zfill(2)}-{d.zfill(2)}" if y and m and d else None


def _pubmed_article(element: etree._Element) -> PubmedRecord:
    citation = element.find("MedlineCitation")
    if citation is None:
        raise MalformedResponse("PubmedArticle without MedlineCitation")
    pmid_el = citation.find("PMID")
    article = citation.find("Article")
    if pmid_el is None or not (pmid_el.text or "").strip() or article is None:
        raise MalformedResponse("PubmedArticle without PMID or Article")
    pubmed_data = element.find("PubmedData")
    ids = _article_ids(pubmed_data)
    doi = ids.get("doi")
    if doi is None:
        for loc in article.iterfind("ELocationID"):
            if loc.get("EIdType") == "doi" and loc.text:
                doi = loc.text.strip()
                break
    pub_date, pub_year = _pub_date(article.find("Journal/JournalIssue/PubDate"))
    if pub_year is None:
        pub_date, pub_year = _pub_date(article.find("ArticleDate"))
    return PubmedRecord(
        pmid=pmid_el.text.strip(),
        version=_version(pmid_el),
        title=_text(article.find("ArticleTitle")) or _text(article.find("VernacularTitle")),
        abstract_sections=_abstract(article.find("Abstract")),
        journal=_text(article.find("Journal/Title")) or _text(citation.find("MedlineJournalInfo/MedlineTA")),
        pub_year=pub_year,
        pub_date=pub_date,
        authors=_authors(article.find("AuthorList")),
        doi=doi,
        pmcid=ids.get("pmc"),
        language=tuple(_text(lang) for lang in article.findall("Language")),
        pub_types=tuple(_text(pt) for pt in article.iterfind("PublicationTypeList/PublicationType")),
        mesh=_mesh(citation),
        keywords=tuple(_text(kw) for kw in citation.iterfind("KeywordList/Keyword") if _text(kw)),
        comments_corrections=_comments(citation),
        date_revised=_date_revised(citation),
    )


def _pubmed_book_article(element: etree._Element) -> PubmedRecord:
    book_doc = element.find("BookDocument")
    if book_doc is None or not (book_doc.findtext("PMID") or "").strip():
        raise MalformedResponse("PubmedBookArticle without BookDocument/PMID")
    pmid_el = book_doc.find("PMID")
    book = book_doc.find("Book")
    pub_date, pub_year = _pub_date(book.find("PubDate") if book is not None else None)
    ids = _article_ids(element.find("PubmedBookData"))
    title = _text(book_doc.find("ArticleTitle")) or (_text(book.find("BookTitle")) if book is not None else "")
    authors = _authors(book_doc.find("AuthorList"))
    if not authors and book is not None:
        authors = _authors(book.find("AuthorList"))
    return PubmedRecord(
        pmid=pmid_el.text.strip(),
        version=_version(pmid_el),
        title=title,
        abstract_sections=_abstract(book_doc.find("Abstract")),
        journal=_text(book.find("BookTitle")) if book is not None else "",
        pub_year=pub_year,
        pub_date=pub_date,
        authors=authors,
        doi=ids.get("doi"),
        pmcid=ids.get("pmc"),
        language=tuple(_text(lang) for lang in book_doc.findall("Language")),
        pub_types=tuple(_text(pt) for pt in book_doc.iterfind("PublicationType")) or ("Book Chapter",),
        mesh=(),
        keywords=tuple(_text(kw) for kw in book_doc.iterfind("KeywordList/Keyword") if _text(kw)),
        comments_corrections=(),
        date_revised=None,
        is_book=True,
    )


def iter_pubmed_xml(source: bytes | BinaryIO) -> Iterator[PubmedRecord | Deletion]:
    """Stream records and deletions from an efetch response or a baseline/update file.

    Raises :class:`MalformedResponse` for anything that is not a complete, well-formed
    PubmedArticleSet (HTML error pages, ``<ERROR>`` bodies, truncated downloads).
    """
    stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    context = etree.iterparse(
        stream,
        events=("start", "end"),
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        recover=False,
    )
    depth = 0
    try:
        for event, element in context:
            if event == "start":
                depth += 1
                if depth == 1:
                    if declares_entities(element):
                        raise MalformedResponse("the DOCTYPE declares entities, which no PubMed response does; refused")
                    if element.tag not in _ACCEPTED_ROOTS:
                        detail = "" if element.tag != "ERROR" else f": {_text(element)}"
                        raise MalformedResponse(f"expected PubmedArticleSet, got <{element.tag}>{detail}")
                continue
            depth -= 1
            if depth != 1 or element.tag not in _TOP_LEVEL:
                continue
            if element.tag == "PubmedArticle":
                yield _pubmed_article(element)
            elif element.tag == "PubmedBookArticle":
                yield _pubmed_book_article(element)
            else:
                yield Deletion(tuple(p.text.strip() for p in element.findall("PMID") if p.text))
            element.clear()
            parent = element.getparent()
            if parent is not None:
                while element.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        raise MalformedResponse(f"malformed or truncated XML: {exc}") from exc


def parse_pubmed_xml(source: bytes | BinaryIO) -> tuple[list[PubmedRecord], list[str]]:
    """Parse a whole response: the records and the PMIDs deleted by ``DeleteCitation``.

    The response is checked in full before anything is returned, so a truncated body never
    yields a partial batch.
    """
    records: list[PubmedRecord] = []
    deleted: list[str] = []
    for item in iter_pubmed_xml(source):
        if isinstance(item, Deletion):
            deleted.extend(item.pmids)
        else:
            records.append(item)
    return records, deleted
