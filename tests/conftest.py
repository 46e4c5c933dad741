"""Shared test settings: where the third-party real data lives (never copied into the project)."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
REALDATA = PROJECT.parent / "shared" / "realdata"


@pytest.fixture(scope="session")
def realdata() -> Path:
    if not (REALDATA / "MANIFEST.tsv").is_file():
        pytest.skip("../shared/realdata is absent")
    return REALDATA
