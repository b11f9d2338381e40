"""Shared fixtures: where the real traces live (``PMTWIN_SHARED``, default ``../shared``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """The shared data folder; tests that need it fail loudly when it is missing."""
    path = Path(os.environ.get("PMTWIN_SHARED", REPO_ROOT.parent / "shared"))
    if not (path / "data").is_dir():
        pytest.fail(f"shared data not found at {path} (set PMTWIN_SHARED)")
    return path


@pytest.fixture(scope="session")
def traces_dir() -> Path:
    return shared_dir() / "data" / "traces"
