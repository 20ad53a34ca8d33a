"""The evidence report of a real nightly run over the seed articles: every article's assertions are on the
page with their verdicts, and the page passes in headless Chromium."""

import dataclasses
import os
from html import escape
from pathlib import Path

import duckdb
import pytest

from helpers import PROJECT, make_settings

from flows.nightly import nightly
from pipeline.config import ReportSettings
from pipeline.report.collect import VERDICTS
from pipeline.report.html import write_report
from pipeline.report.markdown import report_summary
from pipeline.testing import browser as headless

ARTIFACTS = Path(os.environ.get("EXOCLAIMS_TEST_ARTIFACTS") or PROJECT / "test-artifacts")


@pytest.fixture(scope="module")
def seed_report(tmp_path_factory, eutils_server_module):
    """One nightly run over the seed articles and the fixture records, and the report written from it."""
    tmp_path = tmp_path_factory.mktemp("seed-report")
    settings = make_settings(tmp_path, eutils_server_module.base_url)
    settings = dataclasses.replace(settings, report=ReportSettings(tmp_path / "reports" / "evidence-report.html"))
    nightly(settings=settings)
    report = write_report(settings.storage.db_path, settings.report.path)
    with duckdb.connect(str(settings.storage.db_path), read_only=True) as con:
        articles = [r[0] for r in con.execute("SELECT article_id FROM articles ORDER BY article_id").fetchall()]
        verdicts = con.execute("SELECT article_id, claim_id, verdict, pmids FROM verdicts").fetchall()
        checkable = con.execute("SELECT count(*) FROM claims WHERE source = 'article' "
                                "AND claim_type <> 'recommendation'").fetchone()[0]
    return settings, report, articles, verdicts, checkable


def test_seed_articles_report_shows_every_assertion_with_its_verdict(seed_report):
    settings, report, articles, verdicts, checkable = seed_report
    page = report.read_text(encoding="utf-8")
    assert len(articles) == 8 and len(verdicts) == checkable > 50
    for article_id in articles:
        assert f'data-article-id="{escape(article_id)}"' in page
    assert page.count('<li class="assertion"') == len(verdicts)
    for _, claim_id, verdict, pmids in verdicts:
        assert verdict in VERDICTS
        assert f'data-claim-id="{escape(claim_id)}" data-verdict="{escape(verdict)}"' in page
        for pmid in pmids or ():
            assert f'href="https://pubmed.ncbi.nlm.nih.gov/{pmid}/"' in page
    digest = report_summary(settings.storage.db_path, report)
    assert f"8 articles, {len(verdicts)} assertions with a verdict" in digest


@pytest.mark.slow  # the headless browser (make test-all)
def test_seed_articles_report_passes_in_headless_chromium(seed_report):
    _, report, articles, verdicts, _ = seed_report
    reason = headless.unavailable_reason()
    if reason and not headless.browser_required():
        pytest.skip(reason)
    assert not reason, reason
    from selenium.webdriver.common.by import By

    per_article = {a: sum(1 for v in verdicts if v[0] == a) for a in articles}
    with headless.headless_chromium() as driver:
        driver.get(report.resolve().as_uri())
        assert headless.console_errors(driver) == []
        sections = driver.find_elements(By.CSS_SELECTOR, "section.article")
        assert [s.get_attribute("data-article-id") for s in sections] == articles
        for section in sections:
            badges = section.find_elements(By.CSS_SELECTOR, "li.assertion .badge.verdict")
            assert len(badges) == per_article[section.get_attribute("data-article-id")]
            assert all(b.text in VERDICTS for b in badges)
        bars = driver.find_elements(By.CSS_SELECTOR, "svg#records-per-year rect.bar")
        assert bars and all(b.rect["width"] > 0 and b.rect["height"] > 0 for b in bars)
        shot = headless.full_page_screenshot(driver, ARTIFACTS / "report-seed-articles.png")
    assert shot.path.stat().st_size > 50_000 and shot.height > 3000
