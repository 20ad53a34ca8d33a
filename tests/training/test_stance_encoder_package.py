"""The stance package's record of what its model scored before packaging."""

from training.stance_encoder_train import final_figures


def test_the_package_records_the_final_models_figures_on_what_it_never_trained_on():
    final = {"variant": "g", "heldout_healthver": {"macro_f1": 0.654, "accuracy": 0.7},
             "scifact_dev": {"macro_f1": 0.537}, "project_dev": {"macro_f1": 0.5206}, "seconds": 1.0}
    assert final_figures(final) == {"heldout_healthver_macro_f1": 0.654, "scifact_dev_macro_f1": 0.537,
                                     "project_dev_macro_f1": 0.5206}
    # a recipe run without the project's pairs scores no project_dev; a run with no final, nothing
    assert "project_dev_macro_f1" not in final_figures({**final, "project_dev": None})
    assert final_figures({}) == {}
