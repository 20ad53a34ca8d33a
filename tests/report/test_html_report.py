"""The evidence report: collected from a real DuckDB file, rendered to one static page, and checked in
a real headless Chromium (console, charts, escaping, screenshot)."""

import os
from html.parser import HTMLParser
from pathlib import Path

import pytest

from helpers import PROJECT
from pipeline.report.collect import read_report
from pipeline.report.html import CSP, render_html, write_report
from pipeline.report.markdown import report_markdown
from pipeline.store import db
from pipeline.testing import browser as headless

EVIL = "<script>alert(1)</script><img src=x onerror=alert(2)>"
ARTIFACTS = Path(os.environ.get("EXOCLAIMS_TEST_ARTIFACTS") or PROJECT / "test-artifacts")

ARTICLES = [
    ("art-1", "art-1.txt", "Exosomes <b>regrow</b> hair & more", "text"),
    ("art-2#1", EVIL, EVIL, "text"),
    ("art-3", "art-3.txt", "An article with nothing checkable", "text"),
]
CLAIMS = [  # claim_id, source, doc_id, sentence_idx, sentence, claim_type, polarity, certainty
    ("c1", "article", "art-1", 3, "Exosomes increase hair density.", "efficacy", "affirmed", "asserted"),
    ("c2", "article", "art-1", 1, "Exosome therapy may be safe.", "safety", "affirmed", "hedged"),
    ("c3", "article", "art-2#1", 0, EVIL, "evidence", "affirmed", "asserted"),
    ("c4", "article", "art-1", 5, "Ask your doctor.", "recommendation", "affirmed", "asserted"),
    ("p1", "pubmed", "111", 4, "Hair density increased.", "efficacy", "affirmed", "asserted"),
]
VERDICTS = [  # claim_id, verdict, level, design, n_supports, n_contradicts, n_unrelated, supporting, contradicting, reason
    ("c1", "supported", 2, "rct", 2, 0, 0, ["222", "111"], [], "supported by 2 records, best an RCT (PMID 111)"),
    ("c2", "mixed", 1, "systematic_review", 1, 1, 0, ["333"], ["444"], "1 record supports | 1 contradicts"),
    ("c3", "contradicted", 7, "narrative_review", 0, 1, 0, [], ["555", EVIL], EVIL),
]
RECORDS = [  # pmid, title, pub_year, study_design, evidence_level, has_abstract, is_retracted
    ("111", "A randomised trial", 2024, "rct", 2, True, False),
    ("222", "A mouse study", 2021, "animal", 5, True, False),
    ("333", "Dermal papilla cells", 2021, "in_vitro", 6, True, False),
    ("444", "A systematic review", 2023, "systematic_review", 1, True, False),
    ("555", EVIL, None, "narrative_review", 7, True, False),
    ("666", "No abstract, retracted", 2019, "other", 8, False, True),
]


def make_db(path: Path, articles=(), claims=(), verdicts=(), records=()) -> Path:
    con = db.connect(path)
    db.insert_rows(con, "articles", ("article_id", "source", "title", "text"), list(articles))
    db.insert_rows(con, "claims", ("claim_id", "source", "doc_id", "sentence_idx", "sentence", "claim_type",
                                   "polarity", "certainty"), list(claims))
    db.insert_rows(con, "claim_verdicts", ("claim_id", "verdict", "best_evidence_level", "best_design", "n_supports",
                                           "n_contradicts", "n_unrelated", "supporting_pmids", "contradicting_pmids",
                                           "reason"), list(verdicts))
    db.insert_rows(con, "pubmed_articles", ("pmid", "title", "pub_year", "study_design", "evidence_level",
                                            "has_abstract", "is_retracted"), list(records))
    con.close()
    return path


@pytest.fixture()
def seeded_db(tmp_path):
    return make_db(tmp_path / "seeded.duckdb", ARTICLES, CLAIMS, VERDICTS, RECORDS)


@pytest.fixture()
def empty_db(tmp_path):
    return make_db(tmp_path / "empty.duckdb")


class _Balance(HTMLParser):
    """Every element that is opened is closed, in order (void elements aside)."""

    VOID = {"meta", "link", "br", "img", "hr", "input"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
        else:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")


def assert_well_formed(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    checker = _Balance()
    checker.feed(page)
    checker.close()
    assert checker.errors == [] and checker.stack == []


# -- collecting ----------------------------------------------------------------------------------

def test_collect_reads_every_article_with_its_verdicts_in_sentence_order(seeded_db):
    data = read_report(seeded_db)
    assert [a.article_id for a in data.articles] == ["art-1", "art-2#1", "art-3"]
    first = data.articles[0]
    assert [a.claim_id for a in first.assertions] == ["c2", "c1"]  # sentence 1 before 3; the recommendation has none
    c1 = first.assertions[1]
    assert c1.verdict == "supported" and c1.best_design == "rct"
    assert [(r.pmid, r.design, r.pub_year, r.stance) for r in c1.evidence] == [
        ("111", "rct", 2024, "supports"), ("222", "animal", 2021, "supports")]  # strongest design first
    c2 = first.assertions[0]
    assert {(r.pmid, r.stance) for r in c2.evidence} == {("333", "supports"), ("444", "contradicts")}
    assert first.tally()["supported"] == 1 and first.tally()["mixed"] == 1
    assert data.articles[2].assertions == ()
    # an evidence PMID that is not stored still shows, without a design
    assert [(r.pmid, r.design) for r in data.articles[1].assertions[0].evidence][1] == (EVIL, None)
    assert {(c.pub_year, c.design): c.records for c in data.records_per_year}[(2021, "animal")] == 1
    assert any(c.pub_year is None for c in data.records_per_year)
    assert {(c.claim_type, c.verdict): c.assertions for c in data.type_verdict} == {
        ("efficacy", "supported"): 1, ("safety", "mixed"): 1, ("evidence", "contradicted"): 1}
    assert dict(data.records_per_design)["systematic_review"] == 1
    assert [d for d, _ in data.records_per_design][:2] == ["systematic_review", "rct"]
    prisma = {p.label.split(" (")[0]: p.records for p in data.prisma}
    assert prisma["records stored"] == 6 and prisma["records without an abstract"] == 1
    assert prisma["retracted records"] == 1 and prisma["records with at least one results/conclusions claim"] == 1
    assert prisma["records cited as evidence in a verdict"] == 6  # 111 222 333 444 555 and the unstored one


# -- rendering -------------------------------------------------------------------------------------

def test_untrusted_text_is_escaped_everywhere(seeded_db):
    page = render_html(read_report(seeded_db))
    assert_well_formed(page)
    assert "<script" not in page.lower() and "<img" not in page.lower()
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"
    assert page.count(escaped) >= 4  # sentence, reason, article title, source (and the record title attribute)
    assert 'data-article-id="art-2#1"' in page
    assert "Exosomes &lt;b&gt;regrow&lt;/b&gt; hair &amp; more" in page
    assert f'content="{CSP}"' in page and "default-src 'none'" in CSP
    # a PMID is linked only when it is a plain number
    assert '<a class="pmid" href="https://pubmed.ncbi.nlm.nih.gov/111/" rel="noopener noreferrer"' in page
    assert "pubmed.ncbi.nlm.nih.gov/&lt;" not in page and "PMID " + escaped in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing to load


def test_page_has_charts_matrix_and_verdict_badges(seeded_db):
    page = render_html(read_report(seeded_db))
    assert page.count('<rect class="bar"') == 6  # one segment per (year, design) with records
    assert 'data-year="2022"' not in page  # a year without records is a gap, not a bar
    assert page.count('class="legend-item"') == 6 and "publication year</text>" in page and ">records</text>" in page
    assert 'data-year="no year" data-design="narrative_review"' in page
    assert page.count('<td class="heat') == 8 * 6  # checkable types × verdicts (not checkable included)
    assert page.count('<li class="assertion"') == 3
    assert page.count('class="badge verdict verdict-supported"') >= 2  # the assertion and the tallies
    assert "No checkable assertions with a verdict in this article." in page  # art-3


def test_empty_database_renders_a_valid_page_that_says_so(empty_db):
    data = read_report(empty_db)
    assert data.articles == () and data.records_per_year == () and data.last_run is None
    page = render_html(data)
    assert_well_formed(page)
    assert "No articles stored yet" in page and "nothing to chart" in page and "No verdicts yet" in page
    assert "<svg" not in page
    assert "No verdicts yet" in report_markdown(data)


def test_records_without_a_year_get_their_own_bar_and_a_note(tmp_path):
    path = make_db(tmp_path / "undated.duckdb", records=[("1", "t", None, "rct", 2, True, False),
                                                        ("2", "t", None, None, None, True, False)])
    page = render_html(read_report(path))
    assert 'data-year="no year" data-design="rct"' in page
    assert 'data-year="no year" data-design="unclassified"' in page
    assert "2 records state no year" in page


def test_markdown_digest_has_counts_matrix_tallies_and_contradictions(seeded_db):
    md = report_markdown(read_report(seeded_db), "data/reports/evidence-report.html")
    assert "| records stored (PubMed, one per PMID) | 6 |" in md
    assert "| efficacy | 1 | 0 | 0 | 0 | 0 | 0 | 1 |" in md
    assert "| Exosomes &lt;b&gt;regrow&lt;/b&gt; hair &amp; more | 2 | 1 | 0 | 1 | 0 | 0 | 0 |" in md
    assert "## Most contradicted assertions" in md and "[555](https://pubmed.ncbi.nlm.nih.gov/555/)" in md
    assert "<script" not in md and "<img" not in md
    for line in md.splitlines():
        if line.startswith("| Exosomes"):
            assert line.count(" | ") == 7  # a title cannot add columns


def test_write_report_and_cli(seeded_db, tmp_path, monkeypatch, capsys):
    from pipeline.cli import main

    out = write_report(seeded_db, tmp_path / "sub" / "report.html")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    monkeypatch.setenv("EXOCLAIMS_DB", str(seeded_db))
    assert main(["report", "--out", str(tmp_path / "cli.html")]) == 0
    assert (tmp_path / "cli.html").read_text(encoding="utf-8").count('<li class="assertion"') == 3
    assert "evidence report written to" in capsys.readouterr().out
    monkeypatch.setenv("EXOCLAIMS_DB", str(tmp_path / "missing.duckdb"))
    assert main(["report", "--out", str(tmp_path / "x.html")]) == 1
    assert "no database at" in capsys.readouterr().err


# -- in a real browser -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chromium():
    reason = headless.unavailable_reason()
    if reason:
        if headless.browser_required():
            pytest.fail(reason + " (EXOCLAIMS_REQUIRE_BROWSER is set)")
        pytest.skip(reason)
    with headless.headless_chromium() as driver:
        yield driver


def open_page(driver, path: Path) -> list[dict]:
    """Load a file and return the console errors it raised."""
    headless.console_errors(driver)  # drop what earlier pages logged
    driver.get(path.resolve().as_uri())
    return headless.console_errors(driver)


def assert_no_alert(driver) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018


@pytest.mark.slow
def test_report_in_headless_chromium(chromium, seeded_db, tmp_path):
    from selenium.webdriver.common.by import By

    report = write_report(seeded_db, tmp_path / "report.html")
    assert open_page(chromium, report) == []  # no script error, no CSP violation, nothing failed to load
    assert_no_alert(chromium)
    assert chromium.find_elements(By.TAG_NAME, "script") == [] and chromium.find_elements(By.TAG_NAME, "img") == []
    csp = chromium.find_element(By.CSS_SELECTOR, 'meta[http-equiv="Content-Security-Policy"]')
    assert csp.get_attribute("content") == CSP
    # the hostile sentence is shown as text
    evil = chromium.find_element(By.CSS_SELECTOR, 'li.assertion[data-claim-id="c3"] blockquote.sentence')
    assert evil.text == EVIL
    # the chart is drawn: every bar has a size on screen, the legend and axis labels are there
    bars = chromium.find_elements(By.CSS_SELECTOR, "svg#records-per-year rect.bar")
    assert len(bars) == 6
    assert all(bar.rect["width"] > 0 and bar.rect["height"] > 0 for bar in bars)
    heights = {(b.get_attribute("data-year"), b.get_attribute("data-design")): b.rect["height"] for b in bars}
    assert heights[("2021", "animal")] == pytest.approx(heights[("2021", "in_vitro")], abs=0.5)
    assert len(chromium.find_elements(By.CSS_SELECTOR, "svg#records-per-year .legend-item")) == 6
    assert chromium.find_element(By.CSS_SELECTOR, "svg#records-per-year").rect["height"] > 200
    cells = chromium.find_elements(By.CSS_SELECTOR, "table.matrix td.heat")
    assert len(cells) == 8 * 6 and all(c.is_displayed() for c in cells)  # checkable types × verdicts
    # every article has its section, every assertion a visible verdict badge and linked PMIDs
    sections = chromium.find_elements(By.CSS_SELECTOR, "section.article")
    assert [s.get_attribute("data-article-id") for s in sections] == ["art-1", "art-2#1", "art-3"]
    for section, expected in zip(sections, (["mixed", "supported"], ["contradicted"], [])):
        items = section.find_elements(By.CSS_SELECTOR, "li.assertion")
        badges = [i.find_element(By.CSS_SELECTOR, ".badge.verdict") for i in items]
        assert [b.text for b in badges] == expected and all(b.is_displayed() for b in badges)
    links = [a.get_attribute("href") for a in chromium.find_elements(By.CSS_SELECTOR, "a.pmid")]
    assert "https://pubmed.ncbi.nlm.nih.gov/111/" in links and all(h.startswith("https://pubmed") for h in links)
    shot = headless.full_page_screenshot(chromium, ARTIFACTS / "report.png")
    assert shot.path.stat().st_size > 20_000 and shot.width >= 800 and shot.height > 1000


@pytest.mark.slow
def test_empty_report_in_headless_chromium(chromium, empty_db, tmp_path):
    from selenium.webdriver.common.by import By

    report = write_report(empty_db, tmp_path / "empty.html")
    assert open_page(chromium, report) == []
    assert "No articles stored yet" in chromium.find_element(By.ID, "articles").text
    shot = headless.full_page_screenshot(chromium, ARTIFACTS / "report-empty.png")
    assert shot.path.stat().st_size > 5_000


@pytest.mark.slow
def test_console_check_sees_what_the_csp_blocks(chromium, seeded_db, tmp_path):
    """The no-errors check is not vacuous: unescaped markup in the page shows up as console errors,
    and the CSP keeps it from running or loading anything."""
    page = render_html(read_report(seeded_db)).replace("<main>", "<main>" + EVIL, 1)
    path = tmp_path / "unescaped.html"
    path.write_text(page, encoding="utf-8")
    errors = open_page(chromium, path)
    assert any("Content Security Policy" in e["message"] for e in errors), errors
    assert_no_alert(chromium)


def test_a_verdict_resting_on_thousands_of_records_lists_the_strongest_of_each_side(tmp_path):
    """On a large corpus one assertion can rest on thousands of records: the page lists the strongest 25 that
    support it and the strongest 25 against it, and says how many there are."""
    supporting = [str(100000 + i) for i in range(3000)]
    against = [str(200000 + i) for i in range(40)] + supporting[:2]  # two records have claims on both sides
    records = [(p, f"support {p}", 2020, "animal", 5, True, False) for p in supporting[:-1]]
    records += [(supporting[-1], "the one trial", 2024, "rct", 2, True, False)]
    records += [(p, f"against {p}", 2022, "in_vitro", 6, True, False) for p in against[:40]]
    path = make_db(tmp_path / "big.duckdb", ARTICLES[:1], CLAIMS[:1],
                   [("c1", "mixed", 2, "rct", 3000, 42, 0, supporting, against, "mixed evidence")], records)
    (assertion,) = read_report(path).assertions
    assert (assertion.records_total, assertion.records_against) == (3040, 42)
    shown = [r.pmid for r in assertion.evidence]
    assert len(shown) == 50 and shown[0] == supporting[-1]  # the RCT first: strongest evidence level
    assert sum(r.stance in ("contradicts", "both") for r in assertion.evidence) == 25
    assert {r.stance for r in assertion.evidence if r.pmid in supporting[:2]} == {"both"}
    page = render_html(read_report(path))
    assert "The strongest 50 of 3040 records are listed" in page
    assert "contradicted by 42 records" in report_markdown(read_report(path))


def test_each_verdict_shows_the_certainty_of_its_evidence(seeded_db):
    con = db.connect(seeded_db)
    claim_id = con.execute("SELECT claim_id FROM claim_verdicts ORDER BY claim_id LIMIT 1").fetchone()[0]
    con.execute("UPDATE claim_verdicts SET certainty = 'very low' WHERE claim_id = ?", [claim_id])
    con.close()
    data = read_report(seeded_db)
    graded = [a for a in data.assertions if a.claim_id == claim_id]
    assert graded and graded[0].certainty_of_evidence == "very low"
    page = render_html(data)
    assert page.count('data-certainty="very low"') == 1 and "very low certainty</span>" in page


def test_the_report_says_when_its_verdicts_come_from_an_earlier_runs_comparison(seeded_db):
    con = db.connect(seeded_db)
    db.start_run(con, "20260101T020000-aaaaaa")
    db.close_run(con, "20260101T020000-aaaaaa", "succeeded")
    con.execute("INSERT INTO comparison_state VALUES ('sha', TIMESTAMP '2026-01-01 02:10:00', '20260101T020000-aaaaaa')")
    con.close()
    current = read_report(seeded_db)
    assert current.staleness_note() is None and "these verdicts come from" not in render_html(current)

    con = db.connect(seeded_db)
    db.start_run(con, "20260102T020000-bbbbbb")
    db.enter_stage(con, "20260102T020000-bbbbbb", "embed-sentences")
    con.close()
    running = read_report(seeded_db)
    assert running.staleness_note() == ("The last run, 20260102T020000-bbbbbb, is still running, before its comparison "
                                        "was done: these verdicts come from the comparison of run "
                                        "20260101T020000-aaaaaa (2026-01-01 02:10).")

    con = db.connect(seeded_db)
    db.fail_run(con, "20260102T020000-bbbbbb", "OSError: disk full")
    con.close()
    failed = read_report(seeded_db)
    note = ("The last run, 20260102T020000-bbbbbb, failed during embed-sentences, before its comparison was done: "
            "these verdicts come from the comparison of run 20260101T020000-aaaaaa (2026-01-01 02:10).")
    assert failed.staleness_note() == note
    assert f'<p class="meta stale" role="alert">{note}</p>' in render_html(failed)
    assert note in report_markdown(failed)
