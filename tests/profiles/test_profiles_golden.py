"""Golden cases: tests/profiles/cases/<name>/{input.json, expected.json} (STYLE §15).

Compared by (severity, code, expression, message_id), in the validator's deterministic order.
A case whose expected.json says ``"parse": "bytes"`` is validated from its bytes with
:func:`profiles.validate_bytes` (decimals kept as written); the others from ``json.loads``. A case
with an ``ig/`` folder loads the StructureDefinitions, ValueSets and CodeSystems in it first (as
``mes-sandbox validate --ig`` does).
"""

from __future__ import annotations

import pytest
from profiles_testutil import CASES, load

from profiles import validate, validate_bytes
from profiles.registry import build_registry

CASE_DIRS = sorted(p for p in CASES.iterdir() if p.is_dir())


def test_enough_cases() -> None:
    assert len(CASE_DIRS) >= 150


@pytest.mark.parametrize("case", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_golden(case) -> None:
    expected = load(case / "expected.json")
    reg = build_registry([case / "ig"]) if (case / "ig").is_dir() else None
    policy = expected.get("policy")
    if expected.get("parse") == "bytes":
        issues = validate_bytes((case / "input.json").read_bytes(), expected.get("profile"), registry=reg,
                                policy=policy)
    else:
        issues = validate(load(case / "input.json"), expected.get("profile"), registry=reg, policy=policy)
    got = [(i.severity.value, i.code.value, i.expression, i.message_id) for i in issues]
    want = [(i["severity"], i["code"], i["expression"], i["message_id"]) for i in expected["issues"]]
    assert got == want
