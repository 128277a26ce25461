"""Fast paths of the validator agree with the general code they shortcut.

Natively compiled ``exists()/empty()`` constraints vs fhirpathpy, the narrative fast path vs expat,
the calendar shortcut of dates, the primitive tests of ``fast_source`` vs ``check``, and the
constraints skipped on resources without ``contained``.
"""

from __future__ import annotations

import random

import fhirpathpy
import pytest
from fhirpathpy.models import models

import profiles
from profiles import invariants, narrative
from profiles.base import base_model
from profiles.invariants import CONTAINED_ONLY, compiled
from profiles.narrative import html_fast
from profiles.primitives import check, fast_checker

SIMPLE = [
    "code.empty() or system.exists()",
    "low.exists() or high.exists() or text.exists()",
    "resource.exists() or request.exists() or response.exists()",
    "comparator.empty()",
    "dataAbsentReason.empty() or value.empty()",
    "contained.contained.empty()",
    "contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()",
]
NODES = [
    {}, {"code": "mg"}, {"code": "mg", "system": "http://unitsofmeasure.org"}, {"_code": {"id": "x"}},
    {"system": "s"}, {"low": {"value": 1}}, {"text": "t"}, {"comparator": "<"}, {"request": {}},
    {"valueQuantity": {"value": 1}}, {"dataAbsentReason": {"text": "x"}, "valueString": "v"},
    {"contained": [{"resourceType": "Patient", "contained": [{"resourceType": "Patient"}]}]},
    {"contained": [{"resourceType": "Patient", "meta": {"versionId": "1"}}]}, {"code": None},
]


@pytest.mark.parametrize("expr", SIMPLE)
def test_native_simple_constraints_agree_with_fhirpath(expr: str) -> None:
    base_model()  # choice names (value[x]...) come from the base table
    comp = compiled(expr)
    assert comp.native is not None
    for shape in NODES:
        node = {"resourceType": "Observation", **shape}  # typed, so that fhirpathpy resolves choices
        ref = fhirpathpy.evaluate(node, expr, {}, models["r4"])
        assert comp.native(node, node, node) is (ref == [True]), (expr, node, ref)
    for not_a_node in ("x", 3, [1]):
        assert comp.native(not_a_node, {}, {}) is invariants._simple(expr)(not_a_node, {}, {})


def _expat(value: str) -> bool:
    saved = narrative.html_fast
    narrative.html_fast = lambda _v: None
    try:
        return narrative.html_checks(value, {}, {})
    finally:
        narrative.html_fast = saved


def test_narrative_fast_path_agrees_with_expat() -> None:
    root = '<div xmlns="http://www.w3.org/1999/xhtml">'
    pieces = ["<p>", "</p>", "<b>", "</b>", "<br/>", "x", " ", "&amp;", "&lt;", "&nbsp;", "&", "<", ">",
              "\x01", "é", "<i>", "</i>", "<div>", "</div>", "<script>", "\n", "\xa0", "<p/>", "</>", "\ufffe"]
    rnd = random.Random(6)
    decided = 0
    for _ in range(3000):
        value = root + "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 7))) + "</div>"
        fast = html_fast(value)
        if fast is not None:
            decided += 1
            assert fast is _expat(value), value
    assert decided > 300  # the fast path does decide the common shapes


@pytest.mark.parametrize("type_code", ["date", "dateTime", "instant"])
def test_date_fast_predicate_agrees_with_check(type_code: str) -> None:
    fast = fast_checker(type_code)
    suffix = "" if type_code == "date" else "T10:00:00Z"
    for y in ("2023", "2024", "1900", "2000"):
        for m in ("01", "02", "04", "12", "13"):
            for d in ("01", "28", "29", "30", "31", "32"):
                v = f"{y}-{m}-{d}{suffix}"
                assert fast(v) is (check(type_code, v) is None), v


def test_contained_only_constraints_skipped_without_contained() -> None:
    model = base_model()
    with_c = {k for k, _s, _e, _c in model.type_checks("Observation", True)}
    without = {k for k, _s, e, _c in model.type_checks("Observation", False)}
    assert with_c - without == {"dom-2", "dom-3", "dom-4", "dom-5"}
    assert all(compiled(e).native({"resourceType": "Patient"}, {}, {}) for e in CONTAINED_ONLY)
    # and still evaluated when contained is there (dom-2: nested contained)
    res = {"resourceType": "Patient", "contained": [{"resourceType": "Patient", "id": "a",
                                                        "contained": [{"resourceType": "Patient"}]}]}
    assert "dom-2" in {i.key for i in profiles.validate(res)}


def test_plain_reference_fast_path_keeps_ref1_and_string_checks() -> None:
    narrative = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>x</p></div>'}
    gp = {"resourceType": "Practitioner", "id": "gp"}

    def issues(ref: str, contained: list | None = None) -> list[tuple[str, str, str]]:
        res = {"resourceType": "Patient", "text": narrative, "generalPractitioner": [{"reference": ref}]}
        if contained:
            res["contained"] = contained
        return [(i.expression, i.message_id, i.key) for i in profiles.validate(res)]

    assert issues("#nope") == [("Patient.generalPractitioner[0]", "INV_FAILED", "ref-1")]
    assert [i for i in issues("#gp", [gp]) if i[2] == "ref-1"] == []
    assert issues(" Practitioner/1") == [("Patient.generalPractitioner[0].reference", "REF_FORMAT", ""),
                                         ("Patient.generalPractitioner[0].reference", "PRIM_WHITESPACE", "")]
    assert issues("Patient/1") == [("Patient.generalPractitioner[0].reference", "PROF_REFERENCE_TARGET", "")]


_WHITESPACE = [chr(c) for c in range(0x110000) if chr(c).isspace()]


def _strings(rnd: random.Random) -> list[str]:
    alphabet = ["a", "Z", "0", "9", "-", ".", ":", "/", "T", "+", "é", "\u200b", "\x00", " "] + _WHITESPACE
    return ["", " ", "a b", "a  b", "final", "http://loinc.org", "x\u2028y", "\ud800"] + [
        "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 6))) for _ in range(4000)]


@pytest.mark.parametrize("type_code", sorted(
    t for t, d in base_model().types.items() if d["kind"] == "primitive-type"))
def test_fast_predicates_imply_check(type_code: str) -> None:
    fast = fast_checker(type_code)
    values = _strings(random.Random(type_code)) + [
        None, True, False, 0, 1, -1, 2**31, -(2**31), 2**31 - 1, 1.5, 2.0, float("nan"), float("inf"), [], {}]
    for v in values:
        if fast(v):
            assert check(type_code, v) is None, (type_code, v)


@pytest.mark.parametrize("type_code", ["uri", "url", "canonical", "code", "integer", "positiveInt", "unsignedInt"])
def test_fast_predicates_decide_alone(type_code: str) -> None:
    # these predicates are exact: no accepted value is left to check()
    fast = fast_checker(type_code)
    for v in _strings(random.Random(type_code)) + [0, 1, -1, 2**31, 2**31 - 1, -(2**31) - 1, True, None]:
        assert fast(v) is (check(type_code, v) is None), (type_code, v)
