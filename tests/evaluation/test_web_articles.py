"""The labelled corpora stay whole (the web articles and the written ones): every article has one label per line, in
the documented format, and the split covers every article once."""

import json
import re
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "web_articles"
RECORDS = Path(__file__).resolve().parents[1] / "fixtures" / "literature" / "pubmed_records.xml"
VERDICTS = {"supported", "supported only by preclinical evidence", "mixed", "contradicted", "not addressed"}
CERTAINTIES = {"high", "moderate", "low", "very low"}
REASONS = {"definition", "policy", "advice", "rhetoric", "popularity", "speculation", "personal"}
TYPES = {"efficacy", "safety", "mechanism", "regulatory", "time_course", "comparison", "evidence_gap", "background"}
ARTICLES = sorted(p.name.split("_")[0] for p in (CORPUS / "articles").glob("w*.txt"))
WRITTEN = CORPUS.parent / "written_articles"
WRITTEN_ARTICLES = sorted(p.name.split("_")[0] for p in (WRITTEN / "articles").glob("*.txt"))


def test_the_second_labellers_articles_are_development_articles():
    # agreement between labellers is measured where the rules were written, never on the held-out articles
    split = json.loads((CORPUS / "split.json").read_text(encoding="utf-8"))
    assert SECOND and set(SECOND) <= set(split["dev"])


def test_the_split_covers_every_article_once_and_every_article_is_in_the_sources():
    split = json.loads((CORPUS / "split.json").read_text(encoding="utf-8"))
    held, dev = split["heldout"], split["dev"]
    assert not set(held) & set(dev) and sorted(held + dev) == ARTICLES
    sources = [line.split("\t")[0] for line in (CORPUS / "sources.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    assert sorted(sources) == ARTICLES


def test_the_written_split_holds_every_written_article_once():
    split = json.loads((WRITTEN / "split.json").read_text(encoding="utf-8"))
    assert not set(split["heldout"]) & set(split["dev"])
    assert sorted(split["heldout"] + split["dev"]) == WRITTEN_ARTICLES and len(WRITTEN_ARTICLES) == 16


SECOND = sorted(p.stem for p in (CORPUS / "labels_second").glob("w*.jsonl"))


@pytest.mark.parametrize("corpus, folder, article", [(CORPUS, "labels", a) for a in ARTICLES]
                         + [(CORPUS, "labels_second", a) for a in SECOND]
                         + [(WRITTEN, "labels", a) for a in WRITTEN_ARTICLES])
def test_an_articles_labels_follow_its_lines_and_the_format(corpus, folder, article):
    [path] = (corpus / "articles").glob(f"{article}_*.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    labels = [json.loads(row) for row in (corpus / folder / f"{article}.jsonl").read_text(encoding="utf-8")
              .splitlines()]
    assert [(r["line"], r["quote"]) for r in labels] == list(enumerate(lines, start=1))
    known = set(re.findall(r"<PMID[^>]*>(\d+)</PMID>", RECORDS.read_text(encoding="utf-8")))
    for r in labels:
        assert r["article"] == article
        if r["checkable"]:
            assert r["asserts"] and r["claim_type"] in TYPES and r["verdict"] in VERDICTS
            assert r["certainty"] in CERTAINTIES and r["not_checkable_reason"] is None
            pmids = r["supporting_pmids"] + r["contradicting_pmids"] + r["key_pmids"]
            assert set(pmids) <= known and not set(r["supporting_pmids"]) & set(r["contradicting_pmids"])
        else:
            assert r["verdict"] is None and r["claim_type"] is None
            assert r["not_checkable_reason"] in (REASONS if r["asserts"] else {None})
