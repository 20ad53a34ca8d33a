"""Property-based fuzzing (hypothesis) of the two parsers that read text from outside: the PubMed XML
parser and the article text normaliser.

The runs are bounded and reproducible: a fixed number of examples, derandomized (the same examples on
every machine), no example database written. ``EXOCLAIMS_FUZZ_EXAMPLES=5000`` fuzzes longer locally
(with a random seed when ``EXOCLAIMS_FUZZ_RANDOM=1``).
"""

from __future__ import annotations

import os
import re
import unicodedata
from datetime import timedelta
from xml.sax.saxutils import escape

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import FIXTURES
from pipeline.articles.normalize import CONFUSABLES, fold_confusables, normalise_text, split_glued_articles
from pipeline.pubmed.parse import MalformedResponse, parse_pubmed_xml
from pipeline.records import PubmedRecord

_EXAMPLES = int(os.environ.get("EXOCLAIMS_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=_EXAMPLES or 150,
    deadline=timedelta(seconds=2),  # an example that takes longer is a hang, and fails
    derandomize=not os.environ.get("EXOCLAIMS_FUZZ_RANDOM"),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FIXTURE = (FIXTURES / "pubmed" / "exosome_hair_set1.xml").read_bytes()


# --- strategies ------------------------------------------------------------------------------------------

def _xml_char(ch: str) -> bool:
    """Characters XML 1.0 allows in a document."""
    code = ord(ch)
    return ch in "\t\n\r" or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or code >= 0x10000


# any Unicode an XML document may hold, with plenty of the odd parts: combining marks, RTL, emoji,
# ligatures, fullwidth forms, zero-width and bidi controls, Cyrillic/Greek look-alikes
xml_text = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs",)).filter(_xml_char),
        st.sampled_from("αβγμ±≥≤°µ\u0301\u0308\u200b\u200d\u202e\ufeff\u00a0\u2028ﬁ０Ｘ😀مرحبا"
                        + "".join(CONFUSABLES)),
    ),
    max_size=40,
)
inline_tag = st.sampled_from(["i", "b", "sup", "sub", "u"])


@st.composite
def marked_up(draw) -> tuple[str, str]:
    """(XML fragment, its text): plain text with <i>/<sup>/... markup, escaped as XML requires."""
    xml, text = [], []
    for _ in range(draw(st.integers(0, 4))):
        part = draw(xml_text)
        tag = draw(st.one_of(st.none(), inline_tag))
        xml.append(f"<{tag}>{escape(part)}</{tag}>" if tag else escape(part))
        text.append(part)
    return "".join(xml), "".join(text)


def _normalised_space(text: str) -> str:
    # XML parsers turn \r\n and \r into \n; the parser then collapses every run of whitespace
    return re.sub(r"\s+", " ", text.replace("\r", "\n")).strip()


pub_date = st.one_of(
    st.builds(lambda y, m, d: f"<Year>{y}</Year><Month>{m}</Month><Day>{d}</Day>",
              st.integers(1000, 2999), st.sampled_from(["Jan", "02", "Sep", "13", ""]), st.integers(0, 40)),
    st.builds(lambda t: f"<MedlineDate>{escape(t)}</MedlineDate>",
              st.one_of(xml_text, st.sampled_from(["1998 Dec-1999 Jan", "2021 Jan-Feb", "Spring 2020", "20٢٣"]))),
    st.just(""),
)


@st.composite
def abstracts(draw) -> str:
    kind = draw(st.sampled_from(["none", "unstructured", "structured"]))
    if kind == "none":
        return ""
    sections = []
    for _ in range(1 if kind == "unstructured" else draw(st.integers(1, 5))):
        body, _ = draw(marked_up())
        attrs = ""
        if kind == "structured":
            label = escape(draw(xml_text), {'"': "&quot;"})
            category = draw(st.sampled_from(["BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS", "UNASSIGNED"]))
            attrs = f' Label="{label}" NlmCategory="{category}"'
        sections.append(f"<AbstractText{attrs}>{body}</AbstractText>")
    return f"<Abstract>{''.join(sections)}</Abstract>"


@st.composite
def pubmed_articles(draw) -> tuple[str, str, str]:
    """(PubmedArticle XML, its PMID, its title text): complete, valid records with random content."""
    pmid = str(draw(st.integers(1, 10**9)))
    title_xml, title = draw(marked_up())
    authors = "".join(
        f"<Author><LastName>{escape(last)}</LastName><Initials>{escape(ini)}</Initials></Author>"
        for last, ini in draw(st.lists(st.tuples(xml_text, xml_text), max_size=3)))
    xml = (f'<PubmedArticle><MedlineCitation><PMID Version="{draw(st.integers(1, 9))}">{pmid}</PMID><Article>'
           f"<Journal><Title>{escape(draw(xml_text))}</Title><JournalIssue><PubDate>{draw(pub_date)}</PubDate>"
           f"</JournalIssue></Journal><ArticleTitle>{title_xml}</ArticleTitle>{draw(abstracts())}"
           f"{'<AuthorList>' + authors + '</AuthorList>' if authors else ''}</Article></MedlineCitation>"
           f"</PubmedArticle>")
    return xml, pmid, title


def _article_set(parts: list[str], doctype: bool) -> bytes:
    head = ('<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January '
            '2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n' if doctype else "")
    return (head + "<PubmedArticleSet>" + "".join(parts) + "</PubmedArticleSet>").encode("utf-8")


def _parses_or_refuses(body: bytes) -> list[PubmedRecord] | None:
    """The parser's contract: records, or MalformedResponse. Any other exception fails the test."""
    try:
        records, deleted = parse_pubmed_xml(body)
    except MalformedResponse:
        return None
    for record in records:
        assert isinstance(record, PubmedRecord) and record.pmid and record.pmid == record.pmid.strip()
        assert record.pub_year is None or 1800 <= record.pub_year <= 2099
    assert all(isinstance(p, str) and p for p in deleted)
    return records


# --- the PubMed XML parser -------------------------------------------------------------------------------

@FUZZ
@given(st.lists(pubmed_articles(), max_size=4), st.booleans())
def test_valid_random_records_parse_with_their_pmids_and_titles(articles, doctype):
    records = _parses_or_refuses(_article_set([xml for xml, _, _ in articles], doctype))
    assert records is not None
    assert [r.pmid for r in records] == [pmid for _, pmid, _ in articles]
    assert [r.title for r in records] == [_normalised_space(title) for _, _, title in articles]


attribute_value = st.one_of(xml_text, st.integers(-5, 10**12).map(str)).map(lambda v: escape(v, {'"': "&quot;"}))


@FUZZ
@given(st.lists(st.tuples(pubmed_articles(), attribute_value, attribute_value, attribute_value), min_size=1,
                max_size=3))
def test_records_with_odd_attribute_values_parse_or_are_refused(articles):
    """Version, IdType, MajorTopicYN and friends as any text, not only what NCBI writes there."""
    parts = []
    for (xml, pmid, _), version, id_type, major in articles:
        xml = re.sub(r'Version="\d"', f'Version="{version}"', xml, count=1)
        ids = (f'<PubmedData><ArticleIdList><ArticleId IdType="{id_type}">10.1/x</ArticleId></ArticleIdList>'
               f"</PubmedData>")
        mesh = (f'<MeshHeadingList><MeshHeading><DescriptorName UI="{id_type}" MajorTopicYN="{major}">Hair'
                f"</DescriptorName></MeshHeading></MeshHeadingList>")
        parts.append(xml.replace("</MedlineCitation>", mesh + "</MedlineCitation>").replace(
            "</PubmedArticle>", ids + "</PubmedArticle>"))
    _parses_or_refuses(_article_set(parts, True))


element_soup = st.recursive(
    st.one_of(xml_text.map(escape), st.sampled_from(["&amp;", "&lt;", "&#x3b1;", "&#0;", "&nbsp;", "]]>"])),
    lambda children: st.builds(
        lambda tag, attr, kids: f"<{tag}{attr}>{''.join(kids)}</{tag}>",
        st.sampled_from(["PubmedArticle", "MedlineCitation", "PMID", "Article", "ArticleTitle", "Abstract",
                         "AbstractText", "PubDate", "MedlineDate", "Year", "DeleteCitation", "PubmedBookArticle",
                         "BookDocument", "Book", "AuthorList", "Author", "ArticleIdList", "ArticleId", "PubmedData",
                         "i", "sup"]),
        st.sampled_from(["", "", ' Version="2"', ' Version="v2"', ' Version=""', ' IdType="doi"',
                         ' Label="RESULTS"', ' MajorTopicYN="Y"', ' xmlns:mml="http://www.w3.org/1998/Math/MathML"']),
        st.lists(children, max_size=4)),
    max_leaves=20,
)


@FUZZ
@given(st.lists(element_soup, max_size=5), st.booleans())
def test_records_with_missing_or_misplaced_elements_parse_or_are_refused(parts, doctype):
    _parses_or_refuses(_article_set(parts, doctype))


@FUZZ
@given(st.integers(0, len(FIXTURE)))
def test_truncated_responses_are_refused(cut):
    records = _parses_or_refuses(FIXTURE[:cut])
    # only a cut in the trailing whitespace leaves a complete document
    assert records is None or FIXTURE[:cut].rstrip() == FIXTURE.rstrip()


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(FIXTURE) - 1), st.binary(min_size=1, max_size=3)), min_size=1,
                max_size=8))
def test_corrupted_responses_parse_or_are_refused(edits):
    body = bytearray(FIXTURE)
    for position, replacement in edits:
        body[position:position + len(replacement)] = replacement
    _parses_or_refuses(bytes(body))


@FUZZ
@given(st.one_of(st.binary(max_size=300), xml_text.map(lambda t: t.encode("utf-8")),
                 st.builds(lambda enc, rest: f'<?xml version="1.0" encoding="{enc}"?>'.encode() + rest,
                           st.sampled_from(["utf-16", "latin-1", "bogus", "UTF-7", "ebcdic-cp-us", ""]),
                           st.binary(max_size=100))))
def test_arbitrary_bytes_parse_or_are_refused(body):
    _parses_or_refuses(body)


# --- the text normaliser ---------------------------------------------------------------------------------

# English words with some letters swapped for their look-alikes, with the marks, spaces, controls and
# line breaks marketing copy carries
LOOKALIKE_OF: dict[str, list[str]] = {}
for _foreign, _latin in CONFUSABLES.items():
    if "LATIN" not in unicodedata.name(_foreign):  # ɡ (script g) is Latin already and never folded
        LOOKALIKE_OF.setdefault(_latin, []).append(_foreign)
disguised_word = st.lists(st.sampled_from("exosomhairgrwtcpdlybkESOMXHACPT"), min_size=1, max_size=9).flatmap(
    lambda letters: st.tuples(*[st.sampled_from([c] + LOOKALIKE_OF.get(c, [])) for c in letters]).map("".join))
separator = st.sampled_from([" ", "  ", "\n", "\r\n", "\r", "\t", ". ", ".", "?\n", "\u00a0", "\u2028", "\u200b",
                             "\u0301", "\u0308", "\x00", "\x85", ": ", "Conclusion\n", "In summary, "])
prose = st.lists(st.one_of(disguised_word, separator), max_size=40).map("".join)
any_text = st.one_of(st.text(max_size=200), prose, st.lists(st.one_of(prose, st.text(max_size=20)), max_size=4)
                     .map("".join))


@FUZZ
@given(any_text)
def test_normalising_is_idempotent_and_nfkc_stable(raw):
    once = normalise_text(raw)
    assert normalise_text(once.text).text == once.text
    assert unicodedata.is_normalized("NFKC", once.text)


@FUZZ
@given(any_text)
def test_no_foldable_lookalike_survives_and_the_block_contract_holds(raw):
    once = normalise_text(raw)
    assert fold_confusables(once.text) == (once.text, 0)
    assert 0 <= once.folded_chars <= len(raw)
    assert once.text == "\n\n".join(b.text for b in once.blocks)
    assert all(b.text and b.text == b.text.strip() and "\n" not in b.text for b in once.blocks)
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in once.text if c not in "\n\t")
    parts = split_glued_articles(once.blocks)
    assert [b for part in parts for b in part] == list(once.blocks) and all(parts)


@FUZZ
@given(st.lists(disguised_word, min_size=1, max_size=12))
def test_disguised_english_words_come_back_as_plain_latin(words):
    # each word holds at least one genuine Latin letter, so each is folded whatever the rest says
    mixed = [w for w in words if any(c.isascii() for c in w)]
    if not mixed:
        return
    out = normalise_text(" ".join(mixed))
    assert out.text == " ".join(w.translate(str.maketrans(CONFUSABLES)) for w in mixed)
    assert out.folded_chars == sum(not c.isascii() for w in mixed for c in w)
