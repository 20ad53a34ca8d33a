"""The stance package's record of what its model scored before packaging, and its stacker."""

import numpy as np
import pytest

from training.stance_encoder_package import choose_stacker
from training.stance_encoder_train import final_figures


def test_the_package_records_the_final_models_figures_on_what_it_never_trained_on():
    final = {"variant": "g", "heldout_healthver": {"macro_f1": 0.654, "accuracy": 0.7},
             "scifact_dev": {"macro_f1": 0.537}, "project_dev": {"macro_f1": 0.5206}, "seconds": 1.0}
    assert final_figures(final) == {"heldout_healthver_macro_f1": 0.654, "scifact_dev_macro_f1": 0.537,
                                     "project_dev_macro_f1": 0.5206}
    # a recipe run without the project's pairs scores no project_dev; a run with no final, nothing
    assert "project_dev_macro_f1" not in final_figures({**final, "project_dev": None})
    assert final_figures({}) == {}


def test_the_stacker_copes_with_a_fold_lacking_a_label_and_refuses_rows_lacking_one():
    rng = np.random.default_rng(0)
    gold = np.array([0, 1] * 15 + [2])  # one unrelated pair: the fold holding it trains without that label
    cross = rng.normal(size=(len(gold), 3)) + 2.0 * np.eye(3)[gold]
    features = rng.normal(size=(len(gold), 3))
    groups = np.array([f"claim{i}" for i in range(len(gold))])
    chosen = choose_stacker(cross, features, gold, groups)
    assert chosen["choice"] in ("cross-encoder + feature model", "cross-encoder, temperature-scaled")
    assert all(0.0 <= f1 <= 1.0 for by_c in chosen["cv_macro_f1"].values() for f1 in by_c.values())
    assert np.array(chosen["weights"]).shape[1] == 3
    with pytest.raises(ValueError, match="hold no unrelated pair"):
        choose_stacker(cross[:-1], features[:-1], gold[:-1], groups[:-1])
