from pathlib import Path

import pytest

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
SHARED = TESTS.parent.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or a skip saying what is missing (a fresh clone has no ../shared)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (../shared is not beside this checkout)")
    return path
