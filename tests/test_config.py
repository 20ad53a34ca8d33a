"""The [encoder] and [compare] sections of config/pipeline.toml: read as written, refused when out of range."""

import pytest

from pipeline.config import DEFAULT_CONFIG, load_settings


def _config(tmp_path, old, new):
    text = DEFAULT_CONFIG.read_text()
    assert old in text
    path = tmp_path / "pipeline.toml"
    path.write_text(text.replace(old, new))
    return path


def test_encoder_and_compare_settings_are_read_from_the_file(tmp_path):
    path = _config(tmp_path, "max_candidates = 30", "max_candidates = 12")
    path.write_text(path.read_text().replace("batch_size = 8 ", "batch_size = 4 ").replace("threads = 0 ", "threads = 3 "))
    settings = load_settings(path, env={})
    assert (settings.compare.max_candidates, settings.compare.min_similarity) == (12, 0.55)
    assert (settings.encoder.batch_size, settings.encoder.threads, settings.encoder.thread_count) == (4, 3, 3)


@pytest.mark.parametrize("old, new, message", [
    ("max_candidates = 30", "max_candidates = 0", r"\[compare\] max_candidates must be >= 1"),
    ("min_similarity = 0.55", "min_similarity = 1.5", r"min_similarity in \[-1, 1\]"),
    ("chunk = 2048", "chunk = 0", r"\[encoder\] threads must be >= 0, batch_size and chunk >= 1"),
    ("threads = 0 ", "threads = -2 ", r"\[encoder\] threads must be >= 0"),
])
def test_out_of_range_encoder_and_compare_settings_are_refused_naming_the_section(tmp_path, old, new, message):
    with pytest.raises(ValueError, match=message):
        load_settings(_config(tmp_path, old, new), env={})


def test_the_claim_detector_is_on_unless_the_file_or_the_environment_turns_it_off(tmp_path):
    assert load_settings(env={}).nlp.claim_detector is True
    assert load_settings(env={"EXOCLAIMS_CLAIM_DETECTOR": "0"}).nlp.claim_detector is False
    path = _config(tmp_path, "claim_detector = true", "claim_detector = false")
    assert load_settings(path, env={}).nlp.claim_detector is False
    assert load_settings(path, env={"EXOCLAIMS_CLAIM_DETECTOR": "1"}).nlp.claim_detector is True


def test_the_detector_veto_is_read_from_the_file_or_the_environment_and_refused_out_of_range(tmp_path):
    assert load_settings(env={}).nlp.claim_detector_veto == 0.3
    assert load_settings(env={"EXOCLAIMS_CLAIM_DETECTOR_VETO": "0"}).nlp.claim_detector_veto == 0.0
    path = _config(tmp_path, "claim_detector_veto = 0.3", "claim_detector_veto = 0.2")
    assert load_settings(path, env={}).nlp.claim_detector_veto == 0.2
    with pytest.raises(ValueError, match=r"\[nlp\] claim_detector_veto must be in \[0, 1\)"):
        load_settings(env={"EXOCLAIMS_CLAIM_DETECTOR_VETO": "1.5"})


def test_the_detector_threshold_is_the_trained_one_unless_set_and_never_below_the_veto(tmp_path):
    assert load_settings(env={}).nlp.claim_detector_threshold is None
    path = _config(tmp_path, "# claim_detector_threshold = 0.1", "claim_detector_threshold = 0.3")
    assert load_settings(path, env={}).nlp.claim_detector_threshold == 0.3
    assert load_settings(path, env={"EXOCLAIMS_CLAIM_DETECTOR_THRESHOLD": "0.5"}).nlp.claim_detector_threshold == 0.5
    with pytest.raises(ValueError, match=r"claim_detector_threshold must be in \(0, 1\)"):
        load_settings(env={"EXOCLAIMS_CLAIM_DETECTOR_THRESHOLD": "0"})
    with pytest.raises(ValueError, match=r"\[nlp\] claim_detector_threshold must be a number, not 'low'"):
        load_settings(env={"EXOCLAIMS_CLAIM_DETECTOR_THRESHOLD": "low"})
    with pytest.raises(ValueError, match="would drop the rules' claim on a sentence the detector calls checkable"):
        load_settings(env={"EXOCLAIMS_CLAIM_DETECTOR_THRESHOLD": "0.2"})  # the veto stays 0.3


def test_the_stance_model_is_a_package_name_or_a_folder(tmp_path, monkeypatch):
    assert load_settings(env={}).compare.stance_model == "exoclaims_stance"
    path = _config(tmp_path, 'stance_model = "exoclaims_stance"', 'stance_model = "training/stance/package"')
    assert load_settings(path, env={}).compare.stance_model == str(DEFAULT_CONFIG.parents[1] / "training/stance/package")
    monkeypatch.chdir(tmp_path)  # a folder in the environment is where the user stands
    settings = load_settings(path, env={"EXOCLAIMS_STANCE_MODEL": "candidate/exoclaims_stance"})
    assert settings.compare.stance_model == str(tmp_path / "candidate/exoclaims_stance")
    assert load_settings(env={"EXOCLAIMS_STANCE_MODEL": "other_stance"}).compare.stance_model == "other_stance"
    # a folder written with backslashes is a folder too, as the model loader reads it (pipeline.nlp.encoder)
    path = _config(tmp_path, 'stance_model = "exoclaims_stance"', 'stance_model = "candidate\\\\pkg"')
    assert load_settings(path, env={}).compare.stance_model == str(DEFAULT_CONFIG.parents[1] / "candidate\\pkg")
