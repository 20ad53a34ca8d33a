"""`exoclaims eval paraphrases`: reading rewording files and scoring how often a rewording keeps the verdict."""

import json

import pytest

from helpers import FIXTURES
from pipeline.evaluation.paraphrases import NO_CLAIM, ParaphraseItem, WordingVerdict, context_text, read_items, score


def _item(item_id, n=2, gold=None):
    return ParaphraseItem(item_id, "Exosomes for hair", "They come from stem cells.", f"Claim {item_id}.",
                          tuple(f"Rewording {k} of {item_id}." for k in range(1, n + 1)), gold)


def _judged(item_id, *verdicts):
    return [WordingVerdict(item_id, k, f"w{k}", v, None, "") for k, v in enumerate(verdicts)]


def test_stability_counts_rewordings_that_keep_the_verdict_and_ranks_the_ones_that_move_it():
    items = [_item("a", gold="supported"), _item("b", gold="not addressed"), _item("c", 3)]
    judged = (_judged("a", "supported", "supported", "not addressed")  # a loss: the rewording is not answered
              + _judged("b", "not addressed", "supported only by preclinical evidence", NO_CLAIM)  # a gain, a swap
              + _judged("c", "mixed", "mixed", "mixed", "mixed"))
    figures = score(items, judged)
    assert (figures["assertions"], figures["rewordings"]) == (3, 7)
    assert figures["changes"] == {"same": 4, "gain": 1, "loss": 1, "swap": 1}
    assert figures["stability"] == round(4 / 7, 4) and figures["all_stable"] == round(1 / 3, 4)
    assert figures["per_original_verdict"]["supported"] == {"rewordings": 2, "stability": 0.5, "gain": 0, "loss": 1,
                                                            "swap": 0}
    assert figures["originals_against_gold"] == {"right": 2, "wrong": 0}
    moved = {(m["id"], m["change"], m["verdict"]) for m in figures["moved"]}
    assert moved == {("a", "loss", "not addressed"), ("b", "gain", "supported only by preclinical evidence"),
                     ("b", "swap", NO_CLAIM)}


def test_a_wording_is_judged_after_its_title_and_the_line_before_it():
    item = _item("a")
    assert context_text(item, "They lower inflammation.") == \
        "Exosomes for hair\n\nThey come from stem cells. They lower inflammation.\n"
    heading = ParaphraseItem("h", "Title", "How they work", "They lower inflammation.", ("x",))
    assert context_text(heading, "They lower inflammation.") == "Title\n\nHow they work\n\nThey lower inflammation.\n"


def test_a_file_that_is_not_rewordings_is_refused_with_its_line_number(tmp_path):
    good = {"id": "p1", "title": "T", "previous": "", "sentence": "Exosomes lower inflammation.",
            "paraphrases": ["Inflammation is lowered by exosomes."]}
    path = tmp_path / "items.jsonl"
    path.write_text(json.dumps(good) + "\n\n" + json.dumps({**good, "paraphrases": []}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"items.jsonl:3: not a paraphrase item"):
        read_items(path)
    path.write_text(json.dumps(good) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r":2:"):
        read_items(path)
    path.write_text(json.dumps([good]) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r":1: not a paraphrase item \(not a JSON object\)"):
        read_items(path)


@pytest.mark.parametrize("name, per_item", [("web_dev_rewordings.jsonl", 3), ("web_dev_rewordings_2.jsonl", 2)])
def test_the_shipped_rewordings_come_from_development_articles_only(name, per_item):
    items = read_items(FIXTURES / "paraphrases" / name)
    split = json.loads((FIXTURES / "web_articles" / "split.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (FIXTURES / "paraphrases" / name).read_text(encoding="utf-8").splitlines()]
    assert len(items) == 300 and all(len(i.paraphrases) == per_item for i in items)
    articles = {r["article"] for r in rows}
    assert articles <= set(split["dev"]) and not articles & set(split["heldout"])
    # rewordings, not copies
    assert all(p.casefold() != i.sentence.casefold() for i in items for p in i.paraphrases)


def test_the_second_batch_rewords_the_same_assertions_in_other_words():
    first = {i.item_id: i for i in read_items(FIXTURES / "paraphrases" / "web_dev_rewordings.jsonl")}
    second = read_items(FIXTURES / "paraphrases" / "web_dev_rewordings_2.jsonl")
    assert {i.item_id for i in second} == set(first)
    assert all(i.sentence == first[i.item_id].sentence and not set(i.paraphrases) & set(first[i.item_id].paraphrases)
               for i in second)


def test_a_file_without_assertions_is_refused_before_the_database_is_opened(tmp_path, capsys):
    from pipeline.cli import main

    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    assert main(["eval", "paraphrases", str(empty), "--db", str(tmp_path / "absent.duckdb")]) == 1
    assert "empty.jsonl: no assertions" in capsys.readouterr().err
    assert not (tmp_path / "absent.duckdb").exists()
