"""Article ingestion: plain-text files from a directory and web pages by URL, normalised."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from urllib.parse import urlsplit

import requests

from pipeline.articles.normalize import Block, normalise_text, split_glued_articles
from pipeline.records import Article

log = logging.getLogger(__name__)

MAX_PAGE_BYTES = 5_000_000
PAGE_TIMEOUT_S = 30


class ArticleFetchError(RuntimeError):
    pass


def _articles_from_text(raw: str, base_id: str, source: str) -> list[Article]:
    normalised = normalise_text(raw)
    raw_lines = [line for line in raw.replace("\r\n", "\n").split("\n") if line.strip()]
    aligned = len(raw_lines) == len(normalised.blocks)
    parts = split_glued_articles(normalised.blocks)
    articles = []
    position = 0
    for number, blocks in enumerate(parts, start=1):
        text = "\n\n".join(b.text for b in blocks)
        part_raw = "\n".join(raw_lines[position: position + len(blocks)]) if aligned and len(parts) > 1 else raw
        position += len(blocks)
        article_id = base_id if len(parts) == 1 else f"{base_id}#{number}"
        # folding counts are per part so the quality signal stays per article
        folded = normalise_text(part_raw).folded_chars if len(parts) > 1 and aligned else normalised.folded_chars
        articles.append(Article(
            article_id=article_id,
            source=source,
            title=_title(blocks),
            raw_text=part_raw,
            text=text,
            folded_chars=folded,
        ))
    return articles


def _title(blocks: list[Block]) -> str:
    if blocks and blocks[0].is_heading:
        return blocks[0].text
    first = blocks[0].text if blocks else ""
    return first if len(first) <= 120 else first[:117].rsplit(" ", 1)[0] + "..."


def read_article_file(path: Path, root: Path | None = None) -> list[Article]:
    """One file → one or more articles (files holding several glued articles are split)."""
    raw = path.read_bytes().decode("utf-8", errors="replace")
    if raw.startswith("\ufeff"):
        raw = raw[1:]
    source = str(path.relative_to(root)) if root else path.name
    return _articles_from_text(raw, path.stem, source)


def read_article_directory(directory: Path) -> list[Article]:
    """Every ``*.txt`` / ``*.md`` file below ``directory``, in name order; empty files are skipped."""
    articles: list[Article] = []
    if not directory.is_dir():
        log.warning("article directory %s does not exist; no articles ingested", directory)
        return articles
    for path in sorted(p for p in directory.rglob("*") if p.suffix.lower() in {".txt", ".md"} and p.is_file()):
        found = read_article_file(path, directory)
        if not any(a.text.strip() for a in found):
            log.warning("skipping empty article file %s", path)
            continue
        articles.extend(found)
    return articles


def fetch_article_url(url: str, session: requests.Session | None = None) -> list[Article]:
    """Download a web page (http/https only, size-capped, timed out) and keep its main text."""
    import trafilatura

    scheme = urlsplit(url).scheme.lower()
    if scheme not in {"http", "https"}:
        raise ArticleFetchError(f"refusing {url!r}: only http(s) URLs are ingested")
    session = session or requests.Session()
    try:
        with session.get(url, timeout=PAGE_TIMEOUT_S, stream=True) as response:
            response.raise_for_status()
            body = b""
            for chunk in response.iter_content(65536):
                body += chunk
                if len(body) > MAX_PAGE_BYTES:
                    raise ArticleFetchError(f"{url}: page larger than {MAX_PAGE_BYTES} bytes")
            encoding = response.encoding or "utf-8"
    except requests.RequestException as exc:
        raise ArticleFetchError(f"{url}: {exc}") from exc
    html = body.decode(encoding, errors="replace")
    text = trafilatura.extract(html, include_comments=False, include_tables=False, favor_recall=True) or ""
    if not text.strip():
        raise ArticleFetchError(f"{url}: no main text found in the page")
    metadata = trafilatura.extract_metadata(html)
    title = metadata.title if metadata and metadata.title else ""
    raw = f"{title}\n{text}" if title and not text.startswith(title) else text
    base_id = "url-" + hashlib.sha1(url.encode()).hexdigest()[:16]
    return _articles_from_text(raw, base_id, url)
