"""`exoclaims check`: one article judged now against the literature a nightly run stored, storing nothing."""

import functools
import http.server
import json
import threading

import duckdb
import pytest

from helpers import PROJECT

from pipeline.cli import main

SEED = sorted((PROJECT / "data" / "articles").glob("002_*.txt"))[0]


@pytest.fixture()
def stored(after_first_run, monkeypatch):
    """A database one nightly run filled (8 records, the seed articles), as the configured one."""
    db = after_first_run / "exoclaims.duckdb"
    monkeypatch.setenv("EXOCLAIMS_DB", str(db))
    monkeypatch.setenv("EXOCLAIMS_ARTICLES", str(after_first_run / "articles"))
    return db


@pytest.fixture()
def web(tmp_path):
    """A loopback web server for the pages tests: serves ``tmp_path / "site"``."""
    site = tmp_path / "site"
    site.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield site, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _rows(db):
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("articles", "sentences", "claims", "evidence_links", "claim_verdicts", "runs")}


def test_an_article_gets_the_verdicts_the_nightly_run_gives_it_and_nothing_is_stored(stored, capsys):
    before, mtime = _rows(stored), stored.stat().st_mtime_ns
    assert main(["check", str(SEED), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    with duckdb.connect(str(stored), read_only=True) as con:
        nightly = dict(con.execute("SELECT sentence, verdict FROM verdicts WHERE article_id LIKE '002_%'").fetchall())
        with_claims = con.execute("SELECT count(DISTINCT doc_id) FROM claims WHERE source = 'pubmed'").fetchone()[0]
    assert out["compared_with"]["records"] == with_claims > 0 and out["assertions"]
    # the same normalisation, NLP, claims and decision: the same verdict for every assertion
    assert {a["sentence"]: a["verdict"] for a in out["assertions"]} == nightly
    assert all(a["reason"] and a["certainty"] for a in out["assertions"] if a["verdict"] != "not checkable")
    assert _rows(stored) == before and stored.stat().st_mtime_ns == mtime  # read, never written

    assert main(["check", str(SEED)]) == 0
    table = capsys.readouterr().out
    assert f"{len(out['assertions'])} assertions judged against the claims of {with_claims} stored records" in table
    assert "verdict" in table and "key PMIDs" in table


def test_html_output_and_save(stored, tmp_path, capsys):
    page = tmp_path / "checked.html"
    assert main(["check", str(SEED), "--format", "html", "--out", str(page), "--save"]) == 0
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.count('<li class="assertion"') > 5
    assert "Content-Security-Policy" in html and "<script" not in html
    saved = stored.parent / "articles" / SEED.name
    assert saved.read_bytes() == SEED.read_bytes()
    assert "the next `exoclaims run` stores it" in capsys.readouterr().err


def test_a_web_page_is_read_for_its_main_text(stored, web, capsys):
    site, base = web
    body = SEED.read_text(encoding="utf-8").split("\n")
    (site / "article.html").write_text(
        "<!DOCTYPE html><html><head><title>Exosomes and hair</title><script>track()</script></head><body>"
        "<nav><a href='/'>Home</a> <a href='/book'>Book now</a></nav><article>"
        + "".join(f"<p>{line}</p>" for line in body if line.strip()) + "</article></body></html>", encoding="utf-8")
    assert main(["check", f"{base}/article.html", "--format", "json", "--save"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["assertions"] and not any("track()" in a["sentence"] or "Book now" in a["sentence"]
                                         for a in out["assertions"])
    # --save keeps the page's main text for the next run, under the id the run would give the URL
    [saved] = (stored.parent / "articles").glob("url-*.txt")
    kept = saved.read_text(encoding="utf-8")
    assert "Exosomes and hair" in kept and "track()" not in kept and "Book now" not in kept


@pytest.mark.parametrize("name, content, message", [
    ("empty.txt", b"", "no text to check"),
    ("paper.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF"),
    ("german.txt", "Exosomen sind kleine Bläschen, die von Zellen abgegeben werden und das Haarwachstum fördern "
                   "sollen. Die Wirksamkeit ist jedoch nicht belegt, und die Behandlung ist teuer.".encode(),
     "not English"),
])
def test_files_that_cannot_be_checked_get_one_line_and_a_nonzero_status(stored, tmp_path, capsys, name, content,
                                                                       message):
    path = tmp_path / name
    path.write_bytes(content)
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and err.startswith("exoclaims check: ")


@pytest.mark.parametrize("page, body, message", [
    ("missing.html", None, "404"),
    ("nav-only.html", b"<html><body><nav><a href='/'>Home</a></nav><script>x()</script></body></html>",
     "no main text"),
    ("paper", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF, not a web page"),
])
def test_pages_that_cannot_be_checked_get_one_line_and_a_nonzero_status(stored, web, capsys, page, body, message):
    site, base = web
    if body is not None:
        (site / page).write_bytes(body)
    assert main(["check", f"{base}/{page}"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


def test_a_database_without_literature_is_named(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EXOCLAIMS_DB", str(tmp_path / "none.duckdb"))
    assert main(["check", str(SEED)]) == 1
    assert "no database" in capsys.readouterr().err


def test_rewordings_are_judged_against_the_stored_literature_and_scored(stored, tmp_path, capsys):
    with duckdb.connect(str(stored), read_only=True) as con:
        sentence, verdict = con.execute(
            "SELECT sentence, verdict FROM verdicts WHERE article_id LIKE '002_%' AND verdict <> 'not addressed' "
            "ORDER BY sentence LIMIT 1").fetchone()
    before = _rows(stored)
    items = tmp_path / "rewordings.jsonl"
    rows = [{"id": "same", "title": "Exosome hair therapy", "previous": "", "sentence": sentence,
             "paraphrases": [sentence, "Hair loss troubles many people and the weather was fine."]}]
    items.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    moved = tmp_path / "moved.jsonl"
    assert main(["eval", "paraphrases", str(items), "--db", str(stored), "--moved", str(moved)]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["assertions"] == 1 and figures["rewordings"] == 2
    # the same words keep the verdict the nightly run gave; the unrelated sentence loses it
    assert figures["changes"]["same"] == 1 and figures["changes"]["loss"] == 1
    assert list(figures["per_original_verdict"]) == [verdict]
    [row] = [json.loads(line) for line in moved.read_text(encoding="utf-8").splitlines()]
    assert row["original_verdict"] == verdict and row["change"] == "loss"
    assert _rows(stored) == before  # read, never written

    items.write_text('{"id": "x", "sentence": "no rewordings"}\n', encoding="utf-8")
    assert main(["eval", "paraphrases", str(items), "--db", str(stored)]) == 1
    assert "rewordings.jsonl:1: not a paraphrase item" in capsys.readouterr().err


@pytest.mark.parametrize("text, english", [
    # a clinic's list of claims: few function words, none of another language's
    ("Exosome hair treatment.\n\nExosomes stimulate hair growth. Exosome therapy is safe. Exosomes help hair grow "
     "thicker and fuller. Exosome treatment can reactivate dormant follicles. Exosomes reduce hair shedding.", True),
    ("Exosomes for hair loss: what the studies show and what they do not, in plain words for patients.", True),
    ("Les exosomes stimulent la croissance des cheveux et sont une option pour la perte de cheveux.", False),
    ("Los exosomas estimulan el crecimiento del cabello y son una opción para la caída del cabello.", False),
    ("Exosomen fördern das Haarwachstum und sind eine Option bei Haarausfall, die Wirksamkeit ist nicht belegt.",
     False),
    ("Gli esosomi stimolano la crescita dei capelli e sono una opzione per la caduta dei capelli.", False),
])
def test_terse_english_is_english_and_other_languages_are_not(text, english):
    from pipeline.check import looks_english

    assert looks_english(text) is english
