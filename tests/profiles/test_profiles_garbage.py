"""Garbage in the instances and in the ``--ig`` definitions the issue 16 checks read
(StructureDefinitions of profiles and extensions, Questionnaires, ImplementationGuides; corrected
invariants and UCUM on the instance side) becomes
issues or nothing, never a validator error (``VALIDATOR_INTERNAL_ERROR``). Seeded, so repeatable."""

from __future__ import annotations

import copy
import json
import random

import pytest
from profiles_testutil import CASES, load

from profiles import validate
from profiles.registry import Registry, build_registry

GARBAGE = [None, 0, 1.5, -1, True, "", "x", "#", [], [None], [1, "a"], {}, {"a": 1}, {"valueString": 2}]
FAMILIES = ("questionnaire-response-", "ext-fhirpath-context-", "ig-", "corrected-", "ucum-units-")
CASE_DIRS = sorted(p for p in CASES.iterdir() if p.is_dir() and p.name.startswith(FAMILIES))


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


def _mutate(doc, rnd: random.Random):
    doc = copy.deepcopy(doc)
    paths = [p for p in _paths(doc) if p]
    for path in rnd.sample(paths, min(3, len(paths))):
        cur = doc
        try:
            for step in path[:-1]:
                cur = cur[step]
            last = path[-1]
            if isinstance(cur, dict) and isinstance(last, str) or isinstance(cur, list) and isinstance(last, int):
                cur[last] = copy.deepcopy(rnd.choice(GARBAGE))  # what JSON can hold: no int keys
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the way there
    return doc


def _registry(case, rnd: random.Random | None) -> Registry | None:
    ig = case / "ig"
    if not ig.is_dir():
        return None
    if rnd is None:
        return build_registry([ig])
    reg = build_registry()
    for f in sorted(ig.glob("*.json")):
        original = json.loads(f.read_text())
        # anywhere: a malformed StructureDefinition is refused (PROF_UNUSABLE), never compiled
        res = _mutate(original, rnd)
        if isinstance(res, dict):
            res["resourceType"] = original["resourceType"]
            res["url"] = original.get("url")
            reg.add_resources([res])
    return reg


@pytest.mark.parametrize("case", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_garbage_never_breaks_the_validator(case) -> None:
    assert len(CASE_DIRS) >= 30
    rnd = random.Random(case.name)
    doc = load(case / "input.json")
    clean = _registry(case, None)
    for n in range(60):
        reg = _registry(case, rnd) if n % 3 == 0 else clean
        issues = validate(_mutate(doc, rnd), registry=reg)
        assert not [i for i in issues if i.message_id == "VALIDATOR_INTERNAL_ERROR"], (case.name, n)
