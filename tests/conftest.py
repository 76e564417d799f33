"""Shared test fixtures: where the reference data live, and how to skip without them."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared(*parts: str) -> Path:
    """A file in ../shared/data; the test is skipped, saying why, when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"reference data {path} is absent (../shared/data beside the repository holds the "
            "OpenSim example models and recordings these tests read)"
        )
    return path
