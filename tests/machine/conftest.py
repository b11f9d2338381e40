"""Fixtures for the machine model: the packaged systems, and bad variants of them written to tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

import pytest

from pmtwin.machine import Machine, load_system

PERLMUTTER_TOML = files("pmtwin.machine").joinpath("systems", "perlmutter.toml").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def perlmutter() -> Machine:
    return load_system("perlmutter")


@pytest.fixture(scope="session")
def perlmutter_2021() -> Machine:
    return load_system("perlmutter-2021")


@pytest.fixture(scope="session")
def perlmutter_toml() -> str:
    """The text of the packaged perlmutter.toml."""
    return PERLMUTTER_TOML


@pytest.fixture
def variant(tmp_path: Path) -> Callable[[str, str], Path]:
    """``variant(old, new)``: perlmutter.toml with one exact text replaced, written to tmp_path."""

    def write(old: str, new: str) -> Path:
        assert PERLMUTTER_TOML.count(old) >= 1, f"{old!r} not in perlmutter.toml"
        path = tmp_path / "variant.toml"
        path.write_text(PERLMUTTER_TOML.replace(old, new, 1), encoding="utf-8")
        return path

    return write
