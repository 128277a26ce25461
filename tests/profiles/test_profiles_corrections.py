"""Corrected invariant expressions (issue 16 item 10): every published expression we correct is in
the base table as R4 4.0.1 publishes it, so a regenerated table cannot silently stop correcting;
the golden cases ``corrected-*`` hold the verdicts."""

from __future__ import annotations

import gzip
import json

from profiles_testutil import CASES, REPO

from profiles.base import base_model
from profiles.corrected_invariants import CORRECTIONS, corrected


def _published() -> set[str]:
    table = json.loads(gzip.decompress((REPO / "profiles" / "data" / "r4-base.json.gz").read_bytes()))
    out: set[str] = set()
    for holder in (*table["types"].values(), *table["constraints"].values()):
        out.update(i[2] for i in holder.get("inv", []))
        for facts in holder.get("el", {}).values():
            out.update(i[2] for i in facts.get("inv", []))
    return out


def test_each_corrected_expression_is_published_in_r4() -> None:
    published = _published()
    assert [expr for expr in CORRECTIONS if expr not in published] == []


def test_the_loaded_model_evaluates_the_corrected_expressions() -> None:
    model = base_model()
    loaded = {i[2] for t in model.types.values() for i in t.get("inv", [])}
    loaded |= {i[2] for t in model.types.values() for f in t["el"].values() for i in f.get("inv", [])}
    for published, (fixed, why) in CORRECTIONS.items():
        assert fixed in loaded and why
        assert corrected(published) == fixed
    assert corrected("code.empty() or system.exists()") == "code.empty() or system.exists()"


def test_each_correction_has_golden_cases() -> None:
    names = {p.name for p in CASES.iterdir()}
    for stem in ("que-12", "que-7", "ref-1-container", "name-anchored", "dom-6-contained", "eld-19-20"):
        assert any(n.startswith(f"corrected-{stem}") and n.endswith("-valid") for n in names), stem
    assert sum(n.startswith("corrected-") and n.endswith("-invalid") for n in names) >= 6
