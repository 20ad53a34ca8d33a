"""Stance pairs from the web-article labels (training/project_pairs.py): numpy only, a toy embedding."""

import json
import logging

import numpy as np

from training.project_pairs import (WEB, article_parts, labelled_lines, project_pairs, record_sentences,
                                    score_pairs)

WORDS = ("hair", "density", "safe", "nodules", "mice", "cells", "approval", "skin")


def embed(texts):
    """Unit vectors from word counts over WORDS (a stand-in for the sentence encoder)."""
    rows = np.array([[t.lower().count(w) for w in WORDS] for t in texts], dtype=np.float64) + 1e-3
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


RECORDS = {
    "1": ["Exosomes for hair loss: a trial.", "Hair density rose after treatment.", "Patients were adults.",
          "Hair density and hair count rose again at week 12.", "Funding was public."],
    "2": ["Nodules after injection.", "Three patients developed nodules.", "The product had no approval."],
    "3": ["Cells in culture.", "Dermal papilla cells grew faster.", "Mice grew hair sooner."],
}


def line(article, n, quote, verdict, supporting=(), contradicting=()):
    return {"article": article, "line": n, "quote": quote, "checkable": True, "verdict": verdict,
            "supporting_pmids": list(supporting), "contradicting_pmids": list(contradicting)}


def test_cited_records_become_supports_and_contradicts_pairs_and_not_addressed_lines_topical_unrelated_ones():
    lines = [line("w01", 3, "Exosomes raise hair density.", "mixed", supporting=["1"], contradicting=["3"]),
             line("w01", 4, "Exosomes have regulatory approval for skin.", "not addressed")]
    pairs = project_pairs(lines, RECORDS, embed, unrelated=1)
    assert [(p.claim[:12], p.pmid, p.label) for p in pairs] == [
        ("Exosomes rai", "1", "supports"), ("Exosomes rai", "3", "contradicts"),
        ("Exosomes hav", "2", "unrelated")]  # the record nearest "approval": the one without approval
    # the passage: the three sentences nearest the claim, in the record's order
    assert pairs[0].evidence == ("Exosomes for hair loss: a trial. Hair density rose after treatment. "
                                 "Hair density and hair count rose again at week 12.")
    assert {p.group for p in pairs} == {"web:w01"}


def test_a_pmid_missing_from_the_records_is_skipped_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        pairs = project_pairs([line("w02", 1, "Hair density rises.", "supported", supporting=["1", "999"])],
                              RECORDS, embed)
    assert [p.pmid for p in pairs] == ["1"]
    assert "999" in caplog.text


def test_an_article_is_never_divided_between_train_and_dev():
    articles = [f"w{i:02d}" for i in range(1, 11)]
    lines = [line(a, n, f"Hair density rises {n}.", "supported", supporting=["1"]) for a in articles for n in (1, 2)]
    pairs = project_pairs(lines, RECORDS, embed)
    parts = {}
    for p in pairs:
        parts.setdefault(p.group, set()).add(p.part)
    assert all(len(v) == 1 for v in parts.values())
    assert sorted(g for g, v in parts.items() if v == {"dev"}) == ["web:w05", "web:w10"]
    assert article_parts(articles + ["w05"])["w05"] == "dev" and article_parts(articles)["w01"] == "train"


def test_only_development_articles_give_pairs():
    held_out = set(json.loads((WEB / "split.json").read_text(encoding="utf-8"))["heldout"])
    lines = labelled_lines(WEB, "dev")
    assert lines and all(row["checkable"] for row in lines)
    assert not {row["article"] for row in lines} & held_out
    assert {row["article"] for row in labelled_lines(WEB, "heldout")} <= held_out


def test_record_sentences_reads_titles_and_abstracts():
    xml = b"""<?xml version="1.0"?><PubmedArticleSet><PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM">
    <PMID Version="1">123</PMID><Article><Journal><Title>J</Title><JournalIssue><PubDate><Year>2024</Year></PubDate>
    </JournalIssue></Journal><ArticleTitle>Exosomes and hair.</ArticleTitle><Abstract>
    <AbstractText Label="RESULTS">Density rose. Count rose too.</AbstractText></Abstract></Article></MedlineCitation>
    </PubmedArticle></PubmedArticleSet>"""
    assert record_sentences(xml) == {"123": ["Exosomes and hair.", "Density rose.", "Count rose too."]}


def test_score_pairs_counts_every_label_and_the_confusion():
    pairs = project_pairs([line("w01", 1, "Hair density rises.", "supported", supporting=["1"], contradicting=["3"]),
                           line("w01", 2, "Nodules appear.", "not addressed")], RECORDS, embed, unrelated=1)
    labels = [p.label for p in pairs]
    assert labels == ["supports", "contradicts", "unrelated"]
    probabilities = np.array([[0.8, 0.1, 0.1], [0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])  # STANCES order
    figures = score_pairs(pairs, probabilities)
    assert figures["accuracy"] == round(2 / 3, 4)
    assert figures["confusion"] == {"supports -> supports": 1, "contradicts -> supports": 1,
                                    "unrelated -> unrelated": 1}
    assert figures["labels"]["contradicts"]["f1"] == 0.0 and figures["articles"] == 1
    assert figures["macro_f1"] == round((2 / 3 + 0 + 1) / 3, 4)
