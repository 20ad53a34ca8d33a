import json

from helpers import FIXTURES
from pipeline.cli import main


def test_eval_claims_prints_scores_as_json(capsys):
    assert main(["eval", "claims", str(FIXTURES / "claims" / "article_claims_dev.tsv")]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["sentences"] == 85 and scores["gold_claims"] == 34
    assert 0 < scores["detection"]["precision"] <= 1 and set(scores["per_type"]) >= {"efficacy", "safety", "evidence"}


def test_runs_lists_recorded_runs(tmp_path, monkeypatch, capsys):
    from pipeline.store import db

    monkeypatch.setenv("EXOCLAIMS_DB", str(tmp_path / "x.duckdb"))
    con = db.connect(tmp_path / "x.duckdb")
    db.start_run(con, "20260101T020000-abc123")
    db.enter_stage(con, "20260101T020000-abc123", "fetch-pubmed")
    db.fail_run(con, "20260101T020000-abc123", "cannot reach E-utilities host example.org")
    con.close()
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    assert "20260101T020000-abc123 | failed | fetch-pubmed" in out
    assert "fetch-pubmed: cannot reach E-utilities host example.org" in out
