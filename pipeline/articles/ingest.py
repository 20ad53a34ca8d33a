"""Article ingestion: plain-text files from a directory and web pages by URL, normalised.

URLs are downloaded defensively (docs/security.md): http and https only, also for every redirect
target; the decoded body is capped while it streams in (a gzip bomb or an endless page stops at the
cap, not after it has been read); and one deadline covers the whole download, so a server that
drips a byte at a time cannot hold a run for longer than the timeout.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from pipeline.articles.normalize import Block, normalise_text, split_glued_articles
from pipeline.config import FetchLimits
from pipeline.records import Article

log = logging.getLogger(__name__)

ALLOWED_SCHEMES = frozenset({"http", "https"})
_READ_SIZE = 65536


class ArticleFetchError(RuntimeError):
    """A URL that is refused (scheme, size, time) or could not be downloaded or read."""


def articles_from_text(raw: str, base_id: str, source: str) -> list[Article]:
    """Text as read from a file → one or more normalised articles (glued articles are split)."""
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
    return articles_from_text(raw, path.stem, source)


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


def _check_scheme(url: str, what: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise ArticleFetchError(f"refusing {what} {url!r}: only http(s) URLs are ingested")


def _download(url: str, session: requests.Session, limits: FetchLimits) -> tuple[bytes, str]:
    """The decoded body of ``url`` and its text encoding, within ``limits``.

    Redirects are followed by hand so each target's scheme is checked before it is requested. The
    body is read one socket read at a time (``read1``), so the size cap and the deadline are checked
    as data arrives; a plain ``iter_content`` blocks until a whole chunk has come in.
    """
    deadline = time.monotonic() + limits.timeout_s
    too_slow = ArticleFetchError(f"{url}: download took longer than {limits.timeout_s:g}s")
    current = url
    for _ in range(limits.max_redirects + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise too_slow
        with session.get(current, timeout=remaining, stream=True, allow_redirects=False) as response:
            if response.is_redirect:
                current = urljoin(current, response.headers["Location"])
                _check_scheme(current, "redirect to")
                continue
            response.raise_for_status()
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limits.max_bytes:
                raise ArticleFetchError(f"{url}: page larger than {limits.max_bytes} bytes ({declared} announced)")
            body = bytearray()
            while chunk := response.raw.read1(_READ_SIZE, decode_content=True):
                body += chunk
                if len(body) > limits.max_bytes:
                    raise ArticleFetchError(f"{url}: page larger than {limits.max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise too_slow
            return bytes(body), response.encoding or "utf-8"
    raise ArticleFetchError(f"{url}: more than {limits.max_redirects} redirects")


def fetch_article_url(url: str, session: requests.Session | None = None,
                      limits: FetchLimits = FetchLimits()) -> list[Article]:
    """Download a web page (http/https only, size-capped, timed out) and keep its main text."""
    _check_scheme(url, "URL")
    try:
        body, encoding = _download(url, session or requests.Session(), limits)
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:  # raw reads raise urllib3's own
        raise ArticleFetchError(f"{url}: {exc}") from exc
    try:
        codecs.lookup(encoding)
    except LookupError:
        encoding = "utf-8"
    if body.lstrip()[:5] == b"%PDF-":
        raise ArticleFetchError(f"{url}: a PDF, not a web page")
    html = body.decode(encoding, errors="replace")
    base_id = "url-" + hashlib.sha1(url.encode()).hexdigest()[:16]
    articles = articles_from_html(html, base_id, url)
    if not articles:
        raise ArticleFetchError(f"{url}: no main text found in the page")
    return articles


def articles_from_html(html: str, base_id: str, source: str) -> list[Article]:
    """The main text of a web page (no navigation, scripts or comments), titled; none when it has no text."""
    import trafilatura

    text = trafilatura.extract(html, include_comments=False, include_tables=False, favor_recall=True) or ""
    if not text.strip():
        return []
    metadata = trafilatura.extract_metadata(html)
    title = metadata.title if metadata and metadata.title else ""
    raw = f"{title}\n{text}" if title and not text.startswith(title) else text
    return articles_from_text(raw, base_id, source)
