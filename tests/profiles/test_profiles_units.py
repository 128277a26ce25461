"""Unit tests: UCUM grammar, NIR key, policies, OperationOutcome, catalogue, never-raise inputs."""

from __future__ import annotations

import pytest

from profiles import MsgId, Severity, apply_policy, nir, to_operation_outcome, ucum, validate
from profiles.messages import CATALOGUE
from profiles.registry import default_registry


@pytest.mark.parametrize("unit", [
    "mmol/L", "mg/dL", "g/L", "10*9/L", "10*12/L", "%", "U/L", "fL", "pg", "m[IU]/L", "[IU]/L", "mm[Hg]",
    "/min", "kg/m2", "mL/min/{1.73_m2}", "{cells}/uL", "ug/L", "umol/L", "s", "h", "a", "Cel", "[degF]",
    "mL/(24.h)", "mg/(kg.d)", "10*3/uL", "nmol/L", "ng/mL", "1", "{ratio}", "cm[H2O]", "m2", "L/s",
])
def test_ucum_valid(unit: str) -> None:
    assert ucum.is_valid(unit)


@pytest.mark.parametrize("unit", [
    "", "mmoll/L", "µg/L", "mg/dL/", "10^^9/L", "g/dL)", "mg per dL", "{open/L", "Mol/L", "mmol//L",
    "(mg/L", "gr", "mmHg", "mmol/L ", "kg.", "m^2",
])
def test_ucum_invalid(unit: str) -> None:
    assert not ucum.is_valid(unit)


@pytest.mark.parametrize("value,key", [
    ("297022A020778", 78), ("236066322083", None), ("2360663220836", 56), ("1090763220834", 89),
    ("2090763220834", 39), ("2090663220123", 55), ("1460263220001", 96), ("2790351215189", 89),
    ("1234567890122", 12), ("1234567890123", 11),
])
def test_nir_key(value: str, key: int | None) -> None:
    if key is None:
        assert nir.check_value(value + "00")[0] is False
    else:
        assert nir.expected_key(value) == key


def test_nir_2b() -> None:
    assert nir.expected_key("185022B012345") == 97 - (1850218012345 % 97)


def test_policy_change_and_suppress() -> None:
    res = {"resourceType": "Patient", "gender": "M"}
    issues = validate(res)
    assert any(i.message_id == "TERM_CODE_NOT_IN_VS" and i.severity is Severity.ERROR for i in issues)
    kept, suppressed = apply_policy(issues, {"TERM_CODE_NOT_IN_VS": "warning", "INV_FAILED:dom-6": "suppress"})
    assert all(i.severity is Severity.WARNING for i in kept if i.message_id == "TERM_CODE_NOT_IN_VS")
    assert [i.key for i in suppressed] == ["dom-6"]
    assert validate(res, policy={"TERM_CODE_NOT_IN_VS": "suppress", "INV_FAILED": "suppress"}) == []


def test_operation_outcome_shape() -> None:
    oo = to_operation_outcome(validate({"resourceType": "Patient", "gender": "M"}), "en")
    assert oo["resourceType"] == "OperationOutcome"
    first = [i for i in oo["issue"] if i["severity"] == "error"][0]
    assert first["code"] == "code-invalid"
    assert first["expression"] == ["Patient.gender"]
    assert first["details"]["coding"][0]["code"] == "TERM_CODE_NOT_IN_VS"
    assert to_operation_outcome([])["issue"][0]["severity"] == "information"


def test_catalogue_complete_and_bilingual() -> None:
    for m in MsgId:
        fr, en, hint = CATALOGUE[m]
        assert fr and en and hint and fr != en


def test_issue_has_both_languages() -> None:
    i = [x for x in validate({"resourceType": "Patient", "foo": 1}) if x.message_id == "STRUCT_UNKNOWN_ELEMENT"][0]
    assert i.text_fr.startswith("Élément inconnu") and i.text_en.startswith("Unknown element")
    assert i.hint


@pytest.mark.parametrize("bad", [None, 1, "x", [], [{}], {"resourceType": 5}, {"resourceType": ["Patient"]},
                                 {"resourceType": "Bundle", "entry": "x"}, {"resourceType": "Bundle", "entry": [1, None]},  # noqa: E501
                                 {"resourceType": "Patient", "contained": [None, 1, {"resourceType": None}]}])
def test_never_raises(bad) -> None:
    issues = validate(bad)
    assert issues and all(i.severity in (Severity.ERROR, Severity.FATAL, Severity.WARNING, Severity.INFORMATION)
                          for i in issues)
    assert not any(i.message_id == "VALIDATOR_INTERNAL_ERROR" for i in issues)


def test_deterministic_order(cr_bio_bundle) -> None:
    import copy

    doc = copy.deepcopy(cr_bio_bundle)
    for e in doc["entry"][4:]:
        e["resource"]["status"] = "done"
    a = [(i.expression, i.message_id) for i in validate(doc)]
    b = [(i.expression, i.message_id) for i in validate(copy.deepcopy(doc))]
    assert a == b and a == sorted(a, key=lambda t: t[0]) or a == b


def test_not_evaluable_invariant_reported_once() -> None:
    from profiles.context import Ctx

    ctx = Ctx(default_registry())
    for _ in range(3):
        ctx.invariant("x-1", "error", "unknownFunction()", "", {"a": 1}, "Patient", {}, {}, "Patient")
    assert [i.message_id for i in ctx.issues] == ["INV_NOT_EVALUATED"]


def test_canonical_aliases_registered() -> None:
    reg = default_registry()
    ours, alias = reg.resolve_url("https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins|2.1.0")
    assert ours == "https://mes-sandbox.invalid/fhir/StructureDefinition/fr-patient-ins" and alias
    core = {sd["url"] for sd in reg.model.core_profiles}  # the R4 vital-signs profiles, from the base table
    assert "http://hl7.org/fhir/StructureDefinition/heartrate" in core
    for url in set(reg.sds) - core:
        assert url.startswith("https://mes-sandbox.invalid/fhir/StructureDefinition/")


@pytest.mark.parametrize("div,ok", [
    ('<div xmlns="http://www.w3.org/1999/xhtml"><p>x &amp; y</p></div>', True),
    ('<div xmlns="http://www.w3.org/1999/xhtml">&nbsp;texte</div>', True),
    ('<div xmlns="http://www.w3.org/1999/xhtml"><img src="a.png"/></div>', True),
    ('<!DOCTYPE x [<!ENTITY a "b">]><div xmlns="http://www.w3.org/1999/xhtml">&a;</div>', False),
    ('<div xmlns="http://www.w3.org/1999/xhtml"><p onclick="x">y</p></div>', False),
    ('<div xmlns="http://www.w3.org/1999/xhtml"><p>x</div>', False),
    ('<div xmlns="http://www.w3.org/1999/xhtml">   </div>', False),
    ('<span xmlns="http://www.w3.org/1999/xhtml">x</span>', False),
])
def test_narrative_html_checks(div: str, ok: bool) -> None:
    from profiles.narrative import html_checks as _html

    assert _html(div, {}, {}) is ok


def test_repeated_subtrees_reported_at_each_location() -> None:
    bad = {"coding": [{"system": "http://loinc.org", "code": " x"}]}
    res = {"resourceType": "Observation", "status": "final", "code": bad,
           "category": [bad, bad], "text": {"status": "generated",
                                            "div": '<div xmlns="http://www.w3.org/1999/xhtml">o</div>'}}
    locs = [i.expression for i in validate(res) if i.message_id == "PRIM_FORMAT"]
    assert locs == ["Observation.category[0].coding[0].code", "Observation.category[1].coding[0].code",
                    "Observation.code.coding[0].code"]


def test_value_set_codes_public_api() -> None:
    from profiles import value_set_codes

    j57 = value_set_codes("https://mos.esante.gouv.fr/NOS/JDV_J57-ClassCode-DMP/FHIR/JDV-J57-ClassCode-DMP")
    assert {"10", "11", "31", "95", "urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1"} <= j57  # FACTS §3.4
    assert "99" not in j57
    assert value_set_codes("https://example.invalid/ValueSet/nothing") == frozenset()
