"""The claim detector's recipe: it never trains on the held-out web articles, its folds keep each article whole,
its threshold is the lowest that reaches the precision asked for, and it retrains to the same weights."""

import json

import numpy as np

from helpers import FIXTURES
from training import claim_detector as recipe


def test_training_data_hold_no_held_out_article_and_every_dev_line():
    split = json.loads((FIXTURES / "web_articles" / "split.json").read_text())
    web = recipe.web_examples("dev")
    assert {e.group for e in web} == set(split["dev"])
    assert not {e.group for e in web} & set(split["heldout"])
    lines = sum(1 for a in split["dev"] for _ in (FIXTURES / "web_articles" / "labels" / f"{a}.jsonl").open())
    assert len(web) == lines and any(e.checkable for e in web) and any(not e.checkable for e in web)
    seeds = recipe.seed_examples()
    assert all(e.group.startswith("seed:") for e in seeds) and {e.kind for e in seeds if e.checkable} <= set(
        recipe.SEED_KINDS.values())


def test_folds_never_split_an_article():
    groups = ["a", "b", "a", "c", "b", "d", "e", "f", "a"]
    folds = recipe._folds(groups)
    assert all(len({f for g2, f in zip(groups, folds) if g2 == g}) == 1 for g in set(groups))
    assert set(folds) <= set(range(recipe.FOLDS))


def test_the_threshold_is_the_lowest_that_reaches_the_precision():
    examples = [recipe.Example(str(i), "t", checkable, None, checkable) for i, checkable in
                enumerate([True, True, False, True, False, False])]
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.3, 0.1])
    # at 0.6 three of four predicted are checkable (0.75); from 0.71 two of two
    assert recipe.choose_threshold(examples, p, 0.75) == 0.31
    assert recipe.choose_threshold(examples, p, 0.9) == 0.71
    assert recipe.precision_recall(examples, p, 0.71) == {"threshold": 0.71, "precision": 1.0, "recall": 0.6667,
                                                          "predicted": 2, "gold": 3}


def test_retraining_gives_the_shipped_weights(tmp_path):
    out = tmp_path / "detector.npz"
    assert recipe.main([str(out), "--report", str(tmp_path / "report.json")]) == 0
    shipped = np.load(recipe.PROJECT_ROOT / "pipeline" / "claims" / "detector_weights.npz")
    retrained = np.load(out)
    for key in ("checkable_w", "kind_w", "kind_b"):
        np.testing.assert_allclose(retrained[key], shipped[key], atol=1e-5)
    assert float(retrained["threshold"]) == float(shipped["threshold"])
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["cross_validated"]["all"]["precision"] >= 0.8
