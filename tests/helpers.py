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
    return dataclasses.replace(settings, pubmed=pubmed)
