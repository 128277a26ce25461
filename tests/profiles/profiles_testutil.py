"""Shared paths for the profiles tests. The official examples are copied, unchanged, under
``tests/examples/`` (provenance in its ``MANIFEST.md``): tests never read ``../shared``."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent
EXAMPLES = REPO / "tests" / "examples"
CASES = HERE / "cases"
FIXTURES = HERE / "fixtures"


def load(path: Path) -> object:
    return json.loads(path.read_text("utf-8"))


