"""RIS, BibTeX and CSV exports: read back, with the odd inputs real records have."""

import csv
import io
import re

import duckdb

from pipeline.cli import main
from pipeline.report.exports import bibtex_escape, read_export_records, split_author, to_bibtex, to_csv, to_ris
from pipeline.store import db

from conftest import load


def _records(path, odd=None, **kw):
    if odd is not None:
        con = db.connect(path)
        load(con, "20260102T020000-bbbbbb", [odd])
        con.close()
    con = duckdb.connect(str(path), read_only=True)
    try:
        return read_export_records(con, **kw)
    finally:
        con.close()


def parse_ris(text: str) -> list[list[tuple[str, str]]]:
    """Line by line, as the specification puts it: 'XX  - value', TY first, ER last."""
    assert "\r\n" in text and not text.replace("\r\n", "").count("\n") and not text.replace("\r\n", "").count("\r")
    records, current = [], None
    for line in text.split("\r\n")[:-1]:
        match = re.fullmatch(r"([A-Z][A-Z0-9])  - (.*)", line)
        assert match, f"not a RIS line: {line!r}"
        tag, value = match.groups()
        if tag == "TY":
            assert current is None
            current = []
        assert current is not None
        if tag == "ER":
            assert value == ""
            records.append(current)
            current = None
        else:
            current.append((tag, value))
    assert current is None
    return records


def test_ris_reads_back_line_by_line(store, odd_record):
    records = _records(store, odd_record)
    parsed = {dict(r)["AN"]: r for r in parse_ris(to_ris(records))}
    assert len(parsed) == 9
    rct = parsed["90000001"]
    tags = dict(rct)
    assert tags["UR"] == "https://pubmed.ncbi.nlm.nih.gov/90000001/" and tags["DO"] and tags["PY"] == "2024"
    assert tags["T2"] == tags["JO"] == "Journal of Cosmetic Dermatology"
    authors = [v for t, v in rct if t == "AU"]
    assert authors == ["Kim, J.", "Silva, A. M."]
    keywords = [v for t, v in rct if t == "KW"]
    assert "design: Randomised controlled trial" in keywords and "evidence level: 2" in keywords
    notes = [v for t, v in rct if t == "N1"]
    assert any(n.startswith('Backs article claim, supports: "Exosomes regrow hair; in every patient."') for n in notes)
    assert any("[verdict: mixed]" in n for n in notes)
    assert any("contradicts:" in v for t, v in parsed["90000006"] if t == "N1")
    assert "RETRACTED publication" in [v for t, v in parsed["90000008"] if t == "N1"]
    assert "No abstract in PubMed" in [v for t, v in parsed["90000004"] if t == "N1"]
    assert "AB" not in dict(parsed["90000004"])
    odd = dict(parsed["90000042"])
    assert odd["TI"] == "Exosomes {MSC-EVs} & 50% more hair_growth: α-catenin ~ $5 #1 ^2 \\ Müller"
    assert "DO" not in odd and "PY" not in odd and "AB" not in odd
    assert [v for t, v in parsed["90000042"] if t == "AU"] == [
        "Müller-Lüdenscheidt, H.", "O'Brien, J. P.", "Exosome {Hair} Study Group and Friends"]
    assert "hairgrowth" in [v for t, v in parsed["90000042"] if t == "KW"]  # no '*' in keyword fields


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def test_bibtex_braces_balance_keys_are_unique_and_specials_are_escaped(store, odd_record):
    text = to_bibtex(_records(store, odd_record))
    entries = re.split(r"\n(?=@)", text.strip())
    assert len(entries) == 9
    keys = [re.match(r"@(?:article|incollection)\{([^,]+),", e).group(1) for e in entries]
    assert len(set(keys)) == 9 and all(re.fullmatch(r"[a-z]+(\d{4}|nd)_\d+|pmid\d+", k) for k in keys)
    assert "kim2024_90000001" in keys and "mullerludenscheidt" + "nd_90000042" in keys
    for entry in entries:
        assert _balanced(entry), entry
        for line in entry.splitlines()[1:-1]:  # every field is one line: name = {value},
            assert re.fullmatch(r"  [a-z]+ = \{.*\},?", line), line
    odd = next(e for e in entries if "90000042" in e.split(",")[0])
    assert r"title = {{Exosomes \textbraceleft{}MSC-EVs\textbraceright{} \& 50\% more hair\_growth: α-catenin " \
           r"\textasciitilde{} \$5 \#1 \textasciicircum{}2 \textbackslash{} Müller}}" in odd
    assert r"author = {Müller-Lüdenscheidt, H. and O'Brien, J. P. and " \
           r"{Exosome \textbraceleft{}Hair\textbraceright{} Study Group and Friends}}" in odd
    assert "year =" not in odd and "doi =" not in odd and "abstract =" not in odd


def test_csv_round_trips_with_claims_and_screening(store, odd_record):
    records = _records(store, odd_record)
    rows = list(csv.DictReader(io.StringIO(to_csv(records), newline="")))
    assert len(rows) == 9 and len({r["pmid"] for r in rows}) == 9
    by_pmid = {r["pmid"]: r for r in rows}
    assert by_pmid["90000001"]["n_claims_supported"] == "1" and by_pmid["90000006"]["n_claims_contradicted"] == "1"
    assert 'supports: "Exosomes regrow hair; in every patient." (Exosomes {really} work) [verdict: mixed]' \
        == by_pmid["90000001"]["claims_backed"]
    assert by_pmid["90000001"]["article_claim_ids"] == "c-art"
    assert by_pmid["90000004"]["has_abstract"] == "false" and by_pmid["90000008"]["is_retracted"] == "true"
    odd = by_pmid["90000042"]
    assert odd["title"] == "Exosomes {MSC-EVs} & 50% more hair_growth: α-catenin ~ $5 #1 ^2 \\ Müller"
    assert odd["doi"] == odd["year"] == odd["abstract"] == "" and odd["screening_decision"] == ""
    assert odd["authors"] == "Müller-Lüdenscheidt H; O'Brien JP; Exosome {Hair} Study Group and Friends"
    assert [r["pmid"] for r in rows][:2] == ["90000006", "90000001"]  # strongest evidence first


def test_included_only_and_cli(store, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("EXOCLAIMS_DB", str(store))
    assert main(["screen", "90000001", "90000002", "include", "--reason", "human {and} animal"]) == 0
    assert main(["screen", "90000007", "exclude"]) == 0
    assert [r.pmid for r in _records(store, included_only=True)] == ["90000001", "90000002"]
    assert main(["export", "--format", "ris", "--included-only", "--out", str(tmp_path / "inc.ris")]) == 0
    ris = parse_ris((tmp_path / "inc.ris").read_bytes().decode("utf-8"))
    assert [dict(r)["AN"] for r in ris] == ["90000001", "90000002"]
    assert "Screening: include (human {and} animal) by" in " ".join(v for t, v in ris[0] if t == "N1")
    assert main(["export", "--out", str(tmp_path / "all")]) == 0
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == [
        "prisma_counts.csv", "records.bib", "records.csv", "records.ris"]
    rows = list(csv.DictReader(open(tmp_path / "all" / "records.csv", encoding="utf-8", newline="")))
    assert {r["pmid"]: r["screening_decision"] for r in rows}["90000007"] == "exclude"
    assert main(["export", "--format", "bibtex"]) == 0
    assert capsys.readouterr().out.count("@article{") == 8


def test_author_names():
    assert split_author("Kim J") == ("Kim", "J")
    assert split_author("van der Berg AB") == ("van der Berg", "AB")
    assert split_author("EV Consortium") == ("EV Consortium", None)  # more than 4 letters would be a word
    assert split_author("Smith") == ("Smith", None)
    assert bibtex_escape("a{b}\nc") == r"a\textbraceleft{}b\textbraceright{} c"
