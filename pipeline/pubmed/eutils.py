"""A polite E-utilities client: NCBI's rate limits, retries with backoff, a configurable base URL.

Requests carry ``tool``/``email``/``api_key`` as NCBI asks; they are sent as POST bodies so the API
key never appears in a URL. NCBI does quote the key back in some error bodies (an invalid key gets
``{"error": "API key invalid", "api-key": "..."}``), so every message this client builds from a
response passes through :meth:`EutilsClient.redact` before it reaches a log line, an exception, the
database or Prefect (docs/security.md). Responses to
``esearch`` are read with :func:`Bio.Entrez.read`. Biopython's own ``Entrez.esearch``/``efetch``
hard-code NCBI's https URLs and have no timeout or Retry-After handling, so the transport is
``requests`` and the base URL comes from the settings (``EXOCLAIMS_EUTILS_URL``).
"""

from __future__ import annotations

import io
import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

import requests
from Bio import Entrez
from lxml import etree

from pipeline.config import PubmedSettings
from pipeline.pubmed.parse import declares_entities

log = logging.getLogger(__name__)

_RETRY_STATUS = {429, 500, 502, 503, 504}
REDACTED = "[redacted]"
# ``api_key=...`` in a URL or form body, ``"api-key": "..."`` in NCBI's JSON errors
_KEY_IN_TEXT = re.compile(r"""(api[_-]key["']?\s*[=:]\s*["']?)[^\s&"',;}<]+""", re.IGNORECASE)


class EutilsError(RuntimeError):
    """E-utilities answered, but not with what was asked for (after all retries)."""


class EutilsUnavailable(EutilsError):
    """The E-utilities host could not be reached at all."""


@dataclass(frozen=True)
class SearchResult:
    count: int
    ids: tuple[str, ...]
    webenv: str | None
    query_key: str | None
    raw: bytes = b""


class RateLimiter:
    """At most ``rate`` calls per second, shared by every thread using the client."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            time.sleep(delay)


def _retry_after(response: requests.Response, fallback: float) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, min(float(value), 120.0))
    except ValueError:
        return fallback


class EutilsClient:
    """Talks to ``{base_url}esearch.fcgi`` and ``{base_url}efetch.fcgi``."""

    def __init__(self, settings: PubmedSettings, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.base_url = settings.eutils_url if settings.eutils_url.endswith("/") else settings.eutils_url + "/"
        self.host = urlsplit(self.base_url).netloc or self.base_url
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", f"{settings.tool} (requests)")
        self.limiter = RateLimiter(settings.requests_per_second)
        self._sleep = sleep
        self.request_count = 0

    def _params(self, params: dict) -> dict:
        full = {"tool": self.settings.tool, **params}
        if self.settings.email:
            full["email"] = self.settings.email
        if self.settings.api_key:
            full["api_key"] = self.settings.api_key.get_secret_value()
        return full

    def redact(self, text: str) -> str:
        """``text`` without the API key: our key wherever it is quoted, any ``api_key=`` value."""
        if self.settings.api_key:
            key = self.settings.api_key.get_secret_value()
            text = text.replace(key, REDACTED)
        return _KEY_IN_TEXT.sub(lambda m: m.group(1) + REDACTED, text)

    def request(self, utility: str, params: dict, validate: Callable[[bytes], object] | None = None) -> bytes:
        """POST to one E-utility and return the body, retrying what is worth retrying.

        Retries: HTTP 429 (after Retry-After), 5xx, timeouts, dropped connections, and 200 responses
        that ``validate`` rejects (truncated or malformed XML). Other 4xx fail at once.
        """
        url = f"{self.base_url}{utility}.fcgi"
        attempts = max(1, self.settings.max_attempts)
        last_error = ""
        unreachable = True
        for attempt in range(1, attempts + 1):
            backoff = self.settings.backoff_s * 2 ** (attempt - 1)
            self.limiter.wait()
            self.request_count += 1
            try:
                response = self.session.post(url, data=self._params(params), timeout=self.settings.timeout_s)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last_error = type(exc).__name__
                log.warning("%s on %s (attempt %d/%d)", last_error, utility, attempt, attempts)
                if attempt < attempts:
                    self._sleep(backoff)
                continue
            unreachable = False
            if response.status_code in _RETRY_STATUS:
                last_error = f"HTTP {response.status_code}"
                delay = _retry_after(response, backoff) if response.status_code == 429 else backoff
                log.warning("%s from %s (attempt %d/%d), waiting %.1fs", last_error, utility, attempt, attempts, delay)
                if attempt < attempts:
                    self._sleep(delay)
                continue
            if response.status_code != 200:
                detail = self.redact(response.text)[:200]
                raise EutilsError(f"{utility} answered HTTP {response.status_code}: {detail!r}")
            body = response.content
            if validate is not None:
                try:
                    validate(body)
                except Exception as exc:  # a 200 with an unusable body is retried like a 5xx
                    last_error = self.redact(f"unusable response: {exc}")
                    log.warning("%s from %s (attempt %d/%d)", last_error, utility, attempt, attempts)
                    if attempt < attempts:
                        self._sleep(backoff)
                    continue
            return body
        if unreachable:
            raise EutilsUnavailable(f"cannot reach E-utilities host {self.host} ({last_error} after {attempts} attempts)")
        raise EutilsError(f"{utility} failed after {attempts} attempts: {last_error}")

    def esearch(self, term: str, *, mindate: str | None = None, maxdate: str | None = None,
                retmax: int = 0, retstart: int = 0, usehistory: bool = True) -> SearchResult:
        """Search PubMed by Entrez date (``datetype=edat``); dates are ``YYYY/MM/DD``."""
        params: dict = {"db": "pubmed", "term": term, "retmax": retmax, "retstart": retstart}
        if usehistory:
            params["usehistory"] = "y"
        if mindate or maxdate:
            params.update(datetype="edat", mindate=mindate or "1800/01/01", maxdate=maxdate or "3000/12/31")
        body = self.request("esearch", params, validate=_read_esearch)
        parsed = _read_esearch(body)
        return SearchResult(
            count=int(parsed["Count"]),
            ids=tuple(str(i) for i in parsed.get("IdList", [])),
            webenv=parsed.get("WebEnv"),
            query_key=parsed.get("QueryKey"),
            raw=body,
        )

    def efetch(self, *, webenv: str | None = None, query_key: str | None = None, ids=None,
               retstart: int = 0, retmax: int = 200, validate: Callable[[bytes], object] | None = None) -> bytes:
        """Fetch PubMed XML by history-server reference or by an explicit id list."""
        params: dict = {"db": "pubmed", "retmode": "xml", "rettype": "abstract"}
        if ids is not None:
            params["id"] = ",".join(ids)
        else:
            params.update(WebEnv=webenv, query_key=query_key, retstart=retstart, retmax=retmax)
        return self.request("efetch", params, validate=validate)


_HTTP_NCBI_DTD = re.compile(rb'(<!DOCTYPE[^>]*?")http://(www\.ncbi\.nlm\.nih\.gov|eutils\.ncbi\.nlm\.nih\.gov)')


def _refuse_declared_entities(body: bytes) -> None:
    """Biopython's expat handler fetches external entities itself (https NCBI URLs only, but a relative
    SYSTEM id still becomes a download) and expands internal ones. No eSearchResult declares entities,
    so a body whose DOCTYPE does is refused before Biopython sees it. lxml, with entity resolution,
    DTD loading and network access off, reads the DOCTYPE whatever the body's encoding."""
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise EutilsError(f"esearch response is not well-formed XML: {exc}") from exc
    if declares_entities(root):
        raise EutilsError("esearch response declares XML entities, which no E-utilities response does; refused")


def _read_esearch(body: bytes) -> dict:
    _refuse_declared_entities(body)
    # Biopython 1.88 refuses DOCTYPEs naming an http:// NCBI DTD (older and archived responses);
    # the DTD is the same one served over https.
    body = _HTTP_NCBI_DTD.sub(rb"\1https://\2", body, count=1)
    try:
        parsed = Entrez.read(io.BytesIO(body), validate=False)
    except RuntimeError as exc:  # Entrez.read raises RuntimeError for an <ERROR> body
        raise EutilsError(f"esearch error: {exc}") from exc
    except Exception as exc:
        raise EutilsError(f"esearch response is not valid eSearchResult XML: {exc}") from exc
    if "Count" not in parsed:
        raise EutilsError("esearch response has no Count")
    return parsed
