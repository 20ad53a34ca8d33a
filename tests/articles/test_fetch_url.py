import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.articles.ingest import ArticleFetchError, fetch_article_url

PAGE = """<html><head><title>Do Exosomes Regrow Hair?</title></head><body>
<nav>Home | Shop | Contact</nav>
<article><h1>Do Exosomes Regrow Hair?</h1>
<p>Exоsоmеs are tiny vesicles released by stem cells. Clinics claim that exosome injections increase hair density
within three months, although no randomized controlled trials have been published.</p>
<p>Side effects reported by patients include redness and swelling at the injection site, which usually fade
within two days.</p></article>
<footer>Copyright 2025 Example Clinic</footer></body></html>"""


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/huge":
            body = b"<html><body>" + b"x" * 6_000_000 + b"</body></html>"
        else:
            body = PAGE.encode("utf-8")
        self.send_response(404 if self.path == "/missing" else 200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture()
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_main_text_is_kept_and_normalised(site):
    (article,) = fetch_article_url(f"{site}/exosomes")
    assert article.title == "Do Exosomes Regrow Hair?"
    assert "Exosomes are tiny vesicles" in article.text and article.folded_chars == 3
    assert "redness and swelling" in article.text
    assert "Home | Shop" not in article.text and article.source == f"{site}/exosomes"


@pytest.mark.parametrize("url, message", [
    ("file:///etc/passwd", "only http"), ("ftp://example.org/a", "only http"),
])
def test_non_http_urls_are_refused(url, message):
    with pytest.raises(ArticleFetchError, match=message):
        fetch_article_url(url)


def test_http_errors_and_oversized_pages(site):
    with pytest.raises(ArticleFetchError, match="404"):
        fetch_article_url(f"{site}/missing")
    with pytest.raises(ArticleFetchError, match="larger than"):
        fetch_article_url(f"{site}/huge")
