"""Fixtures for the profiles tests; makes ``profiles_testutil`` importable from test modules."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from profiles_testutil import FIXTURES, load  # noqa: E402


@pytest.fixture(scope="session")
def cr_bio_bundle() -> dict:
    return load(FIXTURES / "cr-bio-transaction.json")  # type: ignore[return-value]
