"""Article URLs are fetched defensively: http(s) only (redirect targets too), a size cap enforced while
the body streams in (also for gzip-compressed bodies), one deadline for the whole download, a bounded
number of redirects. Everything runs against a real HTTP server on the loopback interface."""

from __future__ import annotations

import threading
import time
import tracemalloc
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from pipeline.articles.ingest import ArticleFetchError, fetch_article_url
from pipeline.config import FetchLimits, load_settings

PAGE = b"""<html><head><title>Exosomes and Hair</title></head><body><article><h1>Exosomes and Hair</h1>
<p>Clinics claim that exosome injections increase hair density within three months, although no randomized
controlled trials have been published so far.</p></article></body></html>"""
CAP = 200_000
LIMITS = FetchLimits(max_bytes=CAP, timeout_s=1.0, max_redirects=3)


def _gzip_bomb(decoded_size: int) -> bytes:
    """A gzip body that inflates to ``decoded_size`` zero bytes (about 1000:1)."""
    squeezer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * 1_000_000
    return b"".join(squeezer.compress(block) for _ in range(decoded_size // len(block))) + squeezer.flush()


class _Site(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.bomb = _gzip_bomb(200_000_000)
        self.sent: dict[str, int] = {}  # bytes of body written per path, once its handler is done
        self.done = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: _Site

    def log_message(self, *args):
        pass

    def _head(self, status=200, **headers):
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()

    def do_GET(self):
        path = self.path
        if path == "/page":
            self._head(Content_Length=str(len(PAGE)))
            self.wfile.write(PAGE)
        elif path == "/announced-huge":  # says how big it is: refused before the body is read
            self._head(Content_Length=str(50_000_000))
            self._stream(50_000_000, b"x" * 65536)
        elif path == "/endless":  # no Content-Length: only counting while streaming can stop it
            self._head()
            self._stream(50_000_000, b"<p>" + b"x" * 65533)
        elif path == "/gzip-bomb":
            self._head(Content_Encoding="gzip", Content_Length=str(len(self.server.bomb)))
            self.wfile.write(self.server.bomb)
        elif path == "/drip":  # a byte every 50 ms: no single read ever times out
            self._head()
            self._stream(400, b"x", pause=0.05)
        elif path == "/stall":
            self._head()
            time.sleep(5)
        elif path.startswith("/redirect?to="):
            self._head(302, Location=path.split("=", 1)[1], Content_Length="0")
        elif path == "/loop":
            self._head(302, Location="/loop", Content_Length="0")
        else:
            self._head(404, Content_Length="0")

    def _stream(self, total: int, piece: bytes, pause: float = 0.0) -> None:
        sent = 0
        try:
            while sent < total:
                self.wfile.write(piece)
                self.wfile.flush()
                sent += len(piece)
                if pause:
                    time.sleep(pause)
        except OSError:  # the client hung up
            pass
        finally:
            self.server.sent[self.path] = sent
            self.server.done.set()


@pytest.fixture(scope="module")
def site():
    server = _Site()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


class _NoNetwork(requests.Session):
    """Fails the test if anything is requested at all."""

    def request(self, *args, **kwargs):  # noqa: ARG002
        raise AssertionError(f"a request was made: {args}")


def test_a_normal_page_is_fetched(site):
    (article,) = fetch_article_url(f"{site.url}/page", limits=LIMITS)
    assert article.title == "Exosomes and Hair" and "no randomized controlled trials" in article.text


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "FILE:///etc/passwd", "ftp://example.org/a.html", "data:text/html,<p>exosomes</p>",
    "gopher://example.org/1", "javascript:alert(1)", "//example.org/page", "example.org/page", "/etc/passwd",
])
def test_other_schemes_are_refused_before_any_request(url):
    with pytest.raises(ArticleFetchError, match="only http\\(s\\) URLs are ingested"):
        fetch_article_url(url, session=_NoNetwork(), limits=LIMITS)


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/x", "data:text/html,hi"])
def test_redirects_to_other_schemes_are_refused(site, target):
    with pytest.raises(ArticleFetchError, match=f"refusing redirect to '{target}'"):
        fetch_article_url(f"{site.url}/redirect?to={target}", limits=LIMITS)


def test_http_redirects_are_followed_but_not_forever(site):
    (article,) = fetch_article_url(f"{site.url}/redirect?to=/page", limits=LIMITS)
    assert "exosome injections" in article.text
    with pytest.raises(ArticleFetchError, match="more than 3 redirects"):
        fetch_article_url(f"{site.url}/loop", limits=LIMITS)


def test_an_announced_oversized_page_is_refused_without_reading_it(site):
    started = time.monotonic()
    with pytest.raises(ArticleFetchError, match=f"larger than {CAP} bytes \\(50000000 announced\\)"):
        fetch_article_url(f"{site.url}/announced-huge", limits=LIMITS)
    assert time.monotonic() - started < 2


def test_an_endless_page_is_cut_off_at_the_cap_while_streaming(site):
    site.sent.pop("/endless", None)
    with pytest.raises(ArticleFetchError, match=f"larger than {CAP} bytes"):
        fetch_article_url(f"{site.url}/endless", limits=LIMITS)
    # wait for this stream's own record: another test's stream may still be finishing on the server
    deadline = time.monotonic() + 10
    while "/endless" not in site.sent and time.monotonic() < deadline:
        time.sleep(0.05)
    # the client hung up long before the server's 50 MB were through (socket buffers hold a few MB)
    assert site.sent["/endless"] < 10_000_000


def test_a_gzip_bomb_is_cut_off_at_the_decoded_cap_in_bounded_memory(site):
    tracemalloc.start()
    try:
        with pytest.raises(ArticleFetchError, match=f"larger than {CAP} bytes"):
            fetch_article_url(f"{site.url}/gzip-bomb", limits=LIMITS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(site.bomb) < CAP  # compressed, it is under the cap: only the decoded size can catch it
    assert peak < 20_000_000  # the 200 MB it inflates to were never held


@pytest.mark.parametrize("path", ["/drip", "/stall"])
def test_one_deadline_covers_the_whole_download(site, path):
    started = time.monotonic()
    with pytest.raises(ArticleFetchError, match="took longer than 1s|timed out"):
        fetch_article_url(f"{site.url}{path}", limits=LIMITS)
    assert time.monotonic() - started < 3  # the drip alone would take 20 s


def test_limits_come_from_the_articles_settings(tmp_path, site, caplog):
    from pipeline.stages import ingest_articles

    config = (Path(__file__).parents[2] / "config" / "pipeline.toml").read_text()
    config = config.replace('urls = []', f'urls = ["{site.url}/endless", "{site.url}/page"]')
    config = config.replace("max_page_bytes = 5000000", "max_page_bytes = 12345")
    config = config.replace("fetch_timeout_s = 30", "fetch_timeout_s = 2.5")
    (tmp_path / "pipeline.toml").write_text(config)
    settings = load_settings(tmp_path / "pipeline.toml", env={"EXOCLAIMS_ARTICLES": str(tmp_path / "none")})
    assert settings.articles.fetch == FetchLimits(max_bytes=12345, timeout_s=2.5, max_redirects=5)
    articles = ingest_articles(settings)
    assert [a.source for a in articles] == [f"{site.url}/page"]
    assert "larger than 12345 bytes" in caplog.text
