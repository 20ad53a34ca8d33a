"""[compare] stance_model: the comparison reads the pairs the facts leave open with the model it is given."""

import dataclasses

import duckdb
import pytest

from helpers import colder_stacker, make_settings, stance_package_copy, stored_rows
from pipeline.nlp.encoder import ModelMissing
from pipeline.stages import compare_claims


def _state(db):
    with duckdb.connect(str(db), read_only=True) as con:
        fingerprint = con.execute("SELECT inputs_sha256 FROM comparison_state").fetchone()[0]
        surest = con.execute("SELECT max(text_probability) FROM evidence_links").fetchone()[0]
    return fingerprint, surest


def test_another_stance_model_recomputes_the_comparison_and_a_missing_one_stops_it_losing_nothing(
        after_first_run, tmp_path_factory):
    settings = make_settings(after_first_run, "http://127.0.0.1:9/not-needed")
    db = settings.storage.db_path
    shipped = _state(db)

    def using(model: str):
        return dataclasses.replace(settings, compare=dataclasses.replace(settings.compare, stance_model=model))

    folder = stance_package_copy(tmp_path_factory.mktemp("models") / "candidate", name="candidate",
                                 stacker=colder_stacker())
    compare_claims(using(str(folder)))
    colder = _state(db)
    # a new comparison, its pairs read by the candidate: the same readings, less sure of them
    assert colder[0] != shipped[0] and colder[1] < shipped[1]
    rows = stored_rows(db)

    with pytest.raises(ModelMissing, match="no meta.json"):
        compare_claims(using(str(folder.parent / "not-there")))
    assert _state(db) == colder and stored_rows(db) == rows

    compare_claims(settings)  # back to the shipped model: its readings again
    assert _state(db)[1] == shipped[1]
