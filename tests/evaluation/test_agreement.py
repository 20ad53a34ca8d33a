"""Two labellers' labels of the same articles, compared: what a verdict figure should be read against."""

import json

import pytest

from pipeline.cli import main
from pipeline.evaluation.agreement import agreement, cohens_kappa, evaluate_agreement
from pipeline.evaluation.verdicts import read_gold


def _label(article, quote, verdict=None, certainty=None, claim_type=None, core=None):
    checkable = verdict is not None
    return {"article": article, "quote": quote, "asserts": True, "checkable": checkable,
            "not_checkable_reason": None if checkable else "rhetoric", "claim_type": claim_type, "core": core,
            "verdict": verdict, "certainty": certainty, "supporting_pmids": [], "contradicting_pmids": [],
            "key_pmids": [], "rationale": ""}


def _write(folder, rows):
    folder.mkdir()
    by_article = {}
    for row in rows:
        by_article.setdefault(row["article"], []).append(row)
    for article, labels in by_article.items():
        (folder / f"{article}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in labels), encoding="utf-8")
    return folder


FIRST = [
    _label("w1", "Exosomes regrow hair.", "supported", "moderate", "efficacy", True),
    _label("w1", "They are approved by the FDA.", "not addressed", "very low", "regulatory", True),
    _label("w1", "A game changer."),
    _label("w1", "They act on the hair cycle.", "supported only by preclinical evidence", "very low", "mechanism",
           True),
    _label("w2", "Side effects are rare.", "mixed", "low", "safety", True),
]
SECOND = [
    _label("w1", "Exosomes  regrow hair.", "supported", "low", "efficacy", True),  # spacing folds away
    _label("w1", "They are approved by the FDA."),  # B: not checkable
    _label("w1", "A game changer."),
    _label("w1", "They act on the hair cycle.", "supported", "moderate", "efficacy", True),
    _label("w2", "Side effects are rare.", "mixed", "low", "safety", False),
    _label("w2", "A line only B labelled.", "not addressed", "very low", "background", False),
]


def test_kappa_is_one_for_perfect_agreement_zero_for_chance_and_undefined_for_one_label():
    assert cohens_kappa(["a", "b", "a"], ["a", "b", "a"]) == 1.0
    # each says "a" half the time, independently of the other: agreement is what chance gives
    assert cohens_kappa(["a", "a", "b", "b"], ["a", "b", "a", "b"]) == 0.0
    assert cohens_kappa(["a", "a"], ["a", "a"]) is None
    with pytest.raises(ValueError):
        cohens_kappa(["a"], ["a", "b"])


def test_two_labellers_are_compared_line_by_line(tmp_path):
    figures = evaluate_agreement(_write(tmp_path / "a", FIRST), _write(tmp_path / "b", SECOND))
    assert (figures["paired"], figures["unpaired_a"], figures["unpaired_b"]) == (5, 0, 1)
    checkable = figures["checkable"]
    assert (checkable["both"], checkable["only_a"], checkable["only_b"], checkable["neither"]) == (3, 1, 0, 1)
    assert checkable["agreement"] == 0.8
    verdict = figures["verdict"]
    assert verdict["n"] == 3 and verdict["agreement"] == round(2 / 3, 4)
    assert verdict["confusion"]["supported only by preclinical evidence -> supported"] == 1
    assert figures["claim_type"]["confusion"] == {"mechanism -> efficacy": 1}
    assert figures["certainty"]["agreement"] == round(1 / 3, 4) and figures["certainty"]["within_one_level"] == round(2 / 3, 4)
    # B scored as the pipeline would be against A: A's four checkable lines; "not checkable" counts as
    # "not addressed", which is A's verdict there; the preclinical line read as supported is an over-claim
    assert figures["scored_against_a"] == {"n": 4, "correct": 3, "accuracy": 0.75, "over_claims": 1,
                                           "under_claims": 0}
    # and A against B: B's three checkable lines among the paired ones
    assert figures["scored_against_b"]["n"] == 3 and figures["scored_against_b"]["under_claims"] == 1


def test_only_the_articles_both_labelled_are_compared(tmp_path):
    first = _write(tmp_path / "a", FIRST + [_label("w9", "Only A labelled this article.", "supported", "low")])
    figures = evaluate_agreement(first, _write(tmp_path / "b", SECOND))
    assert figures["articles"] == 2 and figures["unpaired_a"] == 0


def test_labellers_with_no_article_in_common_are_an_error_the_command_reports(tmp_path, capsys):
    first = _write(tmp_path / "a", FIRST)
    second = _write(tmp_path / "b", [dict(row, article="w7") for row in SECOND])
    with pytest.raises(ValueError, match="no article in common"):
        evaluate_agreement(first, second)
    assert main(["eval", "agreement", str(first), str(second)]) == 1
    assert "no article in common" in capsys.readouterr().err


def test_the_command_prints_the_figures_as_json(tmp_path, capsys):
    assert main(["eval", "agreement", str(_write(tmp_path / "a", FIRST)), str(_write(tmp_path / "b", SECOND))]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["verdict"]["n"] == 3 and printed["scored_against_a"]["accuracy"] == 0.75


def test_agreement_with_itself_is_complete(tmp_path):
    labels = read_gold(_write(tmp_path / "a", FIRST))
    figures = agreement(labels, labels)
    assert figures["verdict"]["kappa"] == 1.0 and figures["scored_against_a"]["accuracy"] == 1.0
