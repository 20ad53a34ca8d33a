"""`exoclaims eval verdicts`: a reviewer's labels against the verdicts of a real DuckDB file built with the
project's own migrations and comparison store."""

import json
from dataclasses import replace

import pytest

from pipeline.cli import main
from pipeline.evaluation.verdicts import (
    GoldAssertion, article_matches, evaluate_database, fold, load_stored, match_quote, read_gold, score,
)
from pipeline.compare.comparison import Comparison
from pipeline.compare.verdicts import ClaimVerdict
from pipeline.report.query import open_read_only
from pipeline.store import comparison, db

# (article_id, sentence_idx, sentence, claim_type or None for a sentence without claim,
#  (verdict, certainty_of_evidence, supporting, contradicting) or None for a claim without verdict)
STORED = [
    ("001_abc#1", 0, "Exosomes can promote hair growth in patients.", "efficacy",
     ("supported", "low", ("90000005",), ())),
    ("001_abc#1", 1, "Most patients report minimal side effects.", "safety", ("not addressed", "very low", (), ())),
    ("001_abc#2", 0, "Larger randomized clinical trials are necessary to establish definitive conclusions.",
     "evidence", ("supported", "moderate", ("39447204", "90000034"), ())),
    ("001_abc#2", 1, "Choose a reputable clinic.", "recommendation", None),
    ("001_abc#2", 2, "The future of hair care is exosomes.", "background",
     ("mixed", "low", ("90000032",), ("90000034",))),
    ("001_abc#2", 3, "Exosomes are tiny vesicles.", None, None),
    ("001_abc#2", 4, "Exosomes reduce inflammation.", None, None),
    ("001_abc#2", 5, "They also heal wounds.", None, None),
    # other articles say the same words with other verdicts: gold "001" must not pick them up
    ("002_def", 0, "Exosomes can promote hair growth in patients.", "efficacy", ("contradicted", "high", (), ("1",))),
    ("0011_ghi", 0, "Most patients report minimal side effects.", "safety", ("mixed", "low", ("2",), ("3",))),
]


def _gold(quote, checkable, verdict=None, certainty=None, article="001"):
    return {"article": article, "quote": quote, "checkable": checkable, "verdict": verdict, "certainty": certainty,
            "supporting_pmids": [], "contradicting_pmids": [], "rationale": "test"}


GOLD = [
    # 1. over-claim; the quote keeps a Cyrillic "о" and "е" inside English words, and another case
    _gold("exоsоmеs can PROMOTE hair   growth", True, "supported only by preclinical evidence", "very low"),
    # 2. under-claim
    _gold("minimal side effects", True, "mixed", "low"),
    # 3. right, with the right certainty
    _gold("Larger randomized clinical trials are necessary", True, "supported", "moderate"),
    # 4. not checkable, and the pipeline gave no verdict (a recommendation): right
    _gold("Choose a reputable clinic", False),
    # 5. not checkable, but the pipeline judged it
    _gold("The future of hair care is exosomes", False),
    # 6. checkable, but its sentence yielded no claim: scored as "not addressed", an under-claim
    _gold("Exosomes are tiny vesicles", True, "supported only by preclinical evidence", "very low"),
    # 7. spans two stored sentences: unmatched, "not addressed" ranks above "contradicted": an over-claim
    _gold("reduce inflammation. They also heal", True, "contradicted", "low"),
    # 8. in no stored sentence: "not addressed", which is what the gold says
    _gold("a sentence the article does not have", True, "not addressed", "very low"),
]


def _build(path, with_certainty=True):
    con = db.connect(path)
    db.insert_rows(con, "sentences", ("source", "doc_id", "sentence_idx", "text"),
                   [("article", a, i, s) for a, i, s, _, _ in STORED])
    db.insert_rows(con, "claims", ("claim_id", "source", "doc_id", "sentence_idx", "sentence", "claim_type"),
                   [(f"{a}:{i}", "article", a, i, s, t) for a, i, s, t, _ in STORED if t])
    verdicts = tuple(ClaimVerdict(f"{a}:{i}", v[0], 1, "randomised_controlled_trial", len(v[2]), len(v[3]), 0, v[2],
                                  v[3], f"reason → {v[0]}", v[1], v[2][:1])
                     for a, i, _, t, v in STORED if t and v)
    comparison.write_comparison(con, Comparison((), verdicts, (), {}), "fingerprint")
    if not with_certainty:  # a database from before schema version 9
        con.execute("""CREATE OR REPLACE VIEW verdicts AS
                       SELECT v.claim_id, c.doc_id AS article_id, c.sentence_idx, c.sentence, v.verdict,
                              list_distinct(list_concat(v.supporting_pmids, v.contradicting_pmids)) AS pmids,
                              v.reason
                       FROM claim_verdicts v JOIN claims c ON c.claim_id = v.claim_id""")
    con.close()
    return path


@pytest.fixture()
def gold_file(tmp_path):
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(json.dumps(g, ensure_ascii=False) for g in GOLD) + "\n\n", encoding="utf-8")
    return path


def test_figures_over_and_under_claims_and_certainty(tmp_path, gold_file):
    result = evaluate_database(gold_file, _build(tmp_path / "x.duckdb"))
    assert (result["n_gold"], result["n_checkable"], result["n_not_checkable"]) == (8, 6, 2)
    assert result["matched"] == {"with_verdict": 4, "claim_without_verdict": 1, "unmatched": 3,
                                 "unmatched_by_reason": {"sentence without claim": 1, "spans sentences": 1,
                                                         "not found": 1},
                                 "checkable_with_verdict": 3}
    assert result["correct"] == 2 and result["accuracy"] == pytest.approx(2 / 6, abs=1e-4)
    assert (result["over_claims"], result["under_claims"], result["other_errors"]) == (2, 2, 0)
    per = result["per_verdict"]
    assert per["supported"] == {"precision": 0.5, "recall": 1.0, "f1": pytest.approx(0.6667, abs=1e-4),
                                "support": 1, "predicted": 2}
    assert (per["not addressed"]["precision"], per["not addressed"]["recall"], per["not addressed"]["predicted"]) \
        == (0.25, 1.0, 4)
    assert per["supported only by preclinical evidence"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0,
                                                             "support": 2, "predicted": 0}
    assert "not checkable" not in per  # the pipeline gave no checkable assertion that verdict
    assert result["confusion"]["supported only by preclinical evidence -> not addressed"] == 1
    certainty = result["certainty"]
    assert (certainty["agreement"], certainty["within_one_level"], certainty["n"]) == (
        pytest.approx(1 / 3, abs=1e-4), 1.0, 3)
    assert result["not_checkable"] == {"n": 2, "given_a_verdict": 1, "marked_not_checkable": 0, "no_verdict": 1,
                                       "verdicts_given": {"mixed": 1}}
    assert [(u["reason"], u["article_id"], u["sentence_idx"]) for u in result["unmatched"]] == [
        ("sentence without claim", "001_abc#2", 3), ("spans sentences", "001_abc#2", 4), ("not found", None, None)]

    rows = result["assertions"]
    assert [r["error"] for r in rows] == ["over-claim", "under-claim", None, None, None, "under-claim", "over-claim",
                                          None]
    first = rows[0]  # the Cyrillic quote found the claim of article 001, not the same words in 002
    assert (first["article_id"], first["pipeline_verdict"], first["pipeline_pmids"], first["pipeline_certainty"]) == (
        "001_abc#1", "supported", ["90000005"], "low")
    assert rows[1]["article_id"] == "001_abc#1"  # not 0011_ghi
    assert rows[5]["pipeline_verdict"] is None and rows[5]["scored_as"] == "not addressed"
    assert rows[3]["match"] == "claim without verdict" and rows[3]["correct"]


def test_a_database_without_certainty_of_evidence_gives_null_agreement_with_a_note(tmp_path, gold_file):
    result = evaluate_database(gold_file, _build(tmp_path / "old.duckdb", with_certainty=False))
    assert result["certainty"]["agreement"] is None and "certainty_of_evidence" in result["certainty"]["note"]
    assert result["accuracy"] == pytest.approx(2 / 6, abs=1e-4)  # the rest is scored as before
    assert result["assertions"][0]["pipeline_certainty"] is None


def test_pipeline_not_checkable_on_a_checkable_assertion_is_wrong_and_ranks_with_not_addressed(tmp_path):
    path = tmp_path / "x.duckdb"
    _build(path)
    with open_read_only(path) as con:
        stored = load_stored(con)
    claims = tuple(replace(c, verdict="not checkable") if (c.article_id, c.sentence_idx) == ("001_abc#1", 0) else c
                   for c in stored.claims)
    result = score([GoldAssertion("001", "promote hair growth", True, "not addressed", "very low"),
                    GoldAssertion("001", "promote hair growth", True, "contradicted", "low")],
                   replace(stored, claims=claims))
    assert [r["error"] for r in result["assertions"]] == ["other", "over-claim"]
    assert result["per_verdict"]["not checkable"]["predicted"] == 2


def test_fold_and_article_ids():
    assert fold("Exоsоmеs  can\nPromote") == fold("exosomes can promote") == "exosomes can promote"
    assert fold("infection.Currently") == "infection. currently"  # glued sentences as the article normaliser splits
    assert article_matches("001", "001_0ac89671bc1565eb#3") and article_matches("001", "001_0ac89671bc1565eb")
    assert not article_matches("001", "0011_x") and not article_matches("001", "url-001")


def test_match_quote_prefers_a_claim_with_a_verdict(tmp_path):
    with open_read_only(_build(tmp_path / "x.duckdb")) as con:
        stored = load_stored(con)
    match = match_quote(GoldAssertion("001", "patients", True, "supported", "low"), stored)
    assert match.status == "verdict" and (match.article_id, match.sentence_idx) == ("001_abc#1", 0)


def test_read_gold_names_the_bad_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(_gold("x", True, "probably true")) + "\n")
    with pytest.raises(ValueError, match="line 1.*probably true"):
        read_gold(path)


def test_cli_prints_json_and_fails_cleanly_without_a_database(tmp_path, gold_file, capsys):
    path = _build(tmp_path / "x.duckdb")
    assert main(["eval", "verdicts", str(gold_file), "--db", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_gold"] == 8 and out["database"] == str(path)
    assert main(["eval", "verdicts", str(gold_file), "--db", str(tmp_path / "none.duckdb")]) == 1
    assert "no database" in capsys.readouterr().err


def _line(article, quote, checkable, claim_type=None, verdict=None, certainty=None, core=False):
    return {**_gold(quote, checkable, verdict, certainty, article), "claim_type": claim_type, "core": core,
            "asserts": checkable}


def _write_two_articles(labels):
    """Line labels of two articles against the STORED claims: 001 with four lines, 002 with one."""
    labels.mkdir(parents=True)
    (labels / "001.jsonl").write_text("\n".join(json.dumps(x) for x in [
        _line("001", "Exosomes can promote hair growth in patients.", True, "efficacy", "supported", "low", True),
        _line("001", "Most patients report minimal side effects.", True, "safety", "mixed", "low", True),
        _line("001", "Exosomes are tiny vesicles.", True, "mechanism", "supported only by preclinical evidence",
              "very low"),
        # the pipeline judges this line checkable (mixed), the labels do not: a false positive
        _line("001", "The future of hair care is exosomes.", False),
    ]) + "\n")
    (labels / "002.jsonl").write_text(json.dumps(
        _line("002", "Exosomes can promote hair growth in patients.", True, "efficacy", "supported", "low", True))
        + "\n")
    return labels


def test_a_folder_of_line_labels_gives_detection_kinds_core_and_splits(tmp_path, capsys):
    path = _build(tmp_path / "x.duckdb")
    labels = _write_two_articles(tmp_path / "web" / "labels")
    (tmp_path / "web" / "split.json").write_text(json.dumps({"dev": ["001"], "heldout": ["002"], "how": "test"}))

    every = evaluate_database(labels, path)
    assert every["n_gold"] == 5 and every["split"] is None
    # 4 checkable lines, 3 yield a claim (the vesicle definition does not); 3 judged checkable
    assert every["detection"]["checkable_lines"] == 4 and every["detection"]["recall_yields_claim"] == 0.75
    # sentences judged checkable: 3 in 001 (2 on checkable lines, 1 on the non-checkable one) + 1 in 002
    assert every["detection"]["claims_judged_checkable"] == 4
    assert every["detection"]["precision_judged_checkable"] == 0.75
    assert every["by_kind"]["efficacy"] == {"n": 2, "claim_recall": 1.0, "judged_checkable": 1.0, "accuracy": 0.5,
                                            "correct": 1, "over_claims": 0, "under_claims": 1,
                                            "certainty_agreement": 0.5}
    assert every["by_kind"]["mechanism"]["claim_recall"] == 0.0 and every["core"]["n"] == 3

    dev = evaluate_database(labels, path, split="dev")
    assert dev["n_gold"] == 4 and {a["article"] for a in dev["assertions"]} == {"001"}
    assert main(["eval", "verdicts", str(labels), "--db", str(path), "--split", "heldout"]) == 0
    heldout = json.loads(capsys.readouterr().out)
    assert heldout["n_gold"] == 1 and heldout["split"] == "heldout" and heldout["by_kind"]["efficacy"]["accuracy"] == 0
    assert main(["eval", "verdicts", str(labels), "--db", str(path), "--split", "test"]) == 1
    assert "no split 'test' (it has: dev, heldout)" in capsys.readouterr().err


def test_figures_come_with_intervals_from_resampling_whole_articles(tmp_path):
    path = _build(tmp_path / "x.duckdb")
    labels = _write_two_articles(tmp_path / "labels")

    figures = evaluate_database(labels, path)
    # 1 of 4 right overall; article 001 alone is 1 of 3 right, 002 alone 0 of 1: a resample of two articles lies
    # between those, and each extreme is drawn a quarter of the time, so the 95% interval reaches both
    assert figures["accuracy"] == 0.25
    intervals = figures["intervals"]
    assert intervals["articles"] == 2 and intervals["draws"] == 2000
    assert intervals["accuracy"] == [0.0, 0.3333]
    assert intervals["claim_recall"] == [0.6667, 1.0] and intervals["precision"] == [0.6667, 1.0]
    assert intervals["over_claims"] == [0.0, 0.0]
    assert evaluate_database(labels, path) == figures  # the same resamples every time
    # one article: nothing to resample
    (labels / "002.jsonl").unlink()
    assert evaluate_database(labels, path)["intervals"] is None
