"""Shared paths for the profiles tests (official examples copied verbatim in tests/examples, see its MANIFEST.md)."""

from __future__ import annotations

import json
from pathlib import Path



REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "tests" / "examples"
HERE = Path(__file__).parent
CASES = HERE / "cases"
FIXTURES = HERE / "fixtures"


def load(path: Path) -> object:
    return json.loads(path.read_text("utf-8"))


