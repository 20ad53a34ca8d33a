"""Shared test helpers: paths and settings pointed at temporary files and a loopback server."""

import dataclasses
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
PROJECT = TESTS.parent
SHARED = PROJECT.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or a skip saying what is missing (a fresh clone has no ../shared)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (../shared is not beside this checkout)")
    return path


def make_settings(tmp_path: Path, eutils_url: str, **pubmed_overrides):
    """Project settings pointed at a temporary DuckDB file, archive and a loopback E-utilities server."""
    from pipeline.config import load_settings

    settings = load_settings(env={
        "EXOCLAIMS_EUTILS_URL": eutils_url,
        "EXOCLAIMS_DB": str(tmp_path / "exoclaims.duckdb"),
        "EXOCLAIMS_ARCHIVE": str(tmp_path / "raw"),
        "EXOCLAIMS_EXPORTS": str(tmp_path / "exports"),
        "EXOCLAIMS_REPORT": str(tmp_path / "reports" / "evidence-report.html"),
    })
    fast = dict(backoff_s=0.01, max_attempts=3, timeout_s=5, task_retries=0, task_retry_delay_s=0,
                email="tests@example.org")
    pubmed = dataclasses.replace(settings.pubmed, **{**fast, **pubmed_overrides})
    # the NLP stage in the test process: the fixtures are one batch, and starting worker processes (each
    # loading the models) would only slow the suite; tests/flows/test_execution.py covers the other runners
    execution = dataclasses.replace(settings.execution, task_runner="threads", workers=1)
    return dataclasses.replace(settings, pubmed=pubmed, execution=execution)


DOCUMENT_TABLES = ("pubmed_articles", "articles", "sentences", "entities", "claims")
COMPARISON_TABLES = ("evidence_links", "claim_verdicts", "article_conflict_pairs")


def stored_rows(db_path: Path, tables=DOCUMENT_TABLES + COMPARISON_TABLES, *, provenance: bool = False) -> dict:
    """Every row of ``tables``, sorted, without the columns that say which run wrote it or when: two
    databases built from the same input by different runs compare equal. With ``provenance`` those columns
    are kept, to show that a run left the rows of the same database untouched."""
    import duckdb

    out = {}
    with duckdb.connect(str(db_path), read_only=True) as con:
        for table in tables:
            columns = [name for name, kind in con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
                "ORDER BY ordinal_position", [table]).fetchall()
                if provenance or not (name.endswith("run_id") or kind.startswith("TIMESTAMP"))]
            out[table] = con.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY ALL").fetchall()
    return out


def stance_package_copy(folder: Path, **meta_changes) -> Path:
    """A stance model package folder as ``training.stance_encoder_package`` writes one, not installed: the shipped
    graph and tokenizer (linked, not copied) under a meta.json of its own (``meta_changes`` replace its keys)."""
    import json

    from pipeline.nlp.encoder import package_dir

    shipped = package_dir("exoclaims_stance")
    folder.mkdir()
    for name in ("stance.onnx", "tokenizer.json"):
        (folder / name).symlink_to(shipped / name)
    meta = json.loads((shipped / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, **meta_changes}))
    return folder


def colder_stacker() -> dict:
    """The shipped stance model's calibration at half its weights: the same readings, less sure of them."""
    import json

    import numpy as np

    from pipeline.nlp.encoder import package_dir

    stacker = json.loads((package_dir("exoclaims_stance") / "meta.json").read_text())["stacker"]
    return {**stacker, "weights": (np.asarray(stacker["weights"]) / 2).tolist()}

