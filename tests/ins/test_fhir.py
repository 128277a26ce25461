"""FHIR face: fr-core Patient INS search and read (FACTS §1.5, A.3), errors as OperationOutcome."""

from __future__ import annotations

import pytest

from ins.fhir_patient import BIRTH_LIST_URL, BIRTH_PLACE_URL, RELIABILITY_URL

NIR = "urn:oid:1.2.250.1.213.1.4.8"


@pytest.fixture()
def fhir(client, workspace):
    def get(path="/ins/fhir/Patient", **params):
        return client.get(path, params=params, headers={"x-sandbox-workspace": workspace})
    return get


def _ext(resource, url):
    return next(e for e in resource["extension"] if e["url"] == url)


def test_identifier_search_returns_a3_shape(fhir):
    r = fhir(identifier=f"{NIR}|297022A02077878")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    bundle = r.json()
    assert (bundle["resourceType"], bundle["type"], bundle["total"]) == ("Bundle", "searchset", 1)
    entry = bundle["entry"][0]
    assert entry["search"] == {"mode": "match"}
    assert entry["fullUrl"].endswith("/ins/fhir/Patient/" + entry["resource"]["id"])
    p = entry["resource"]
    assert p["meta"]["profile"] == ["https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins"]
    assert p["identifier"] == [{
        "use": "official",
        "type": {"coding": [{"system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
                             "code": "INS-NIR"}]},
        "system": NIR, "value": "297022A02077878"}]
    assert p["name"] == [{"extension": [{"url": BIRTH_LIST_URL, "valueString": "DOMINIQUE"}],
                          "use": "official", "family": "ADRTROIS", "given": ["DOMINIQUE"]}]
    assert (p["gender"], p["birthDate"]) == ("female", "1997-02-26")
    place = _ext(p, BIRTH_PLACE_URL)["valueAddress"]["extension"][0]["valueCoding"]
    assert place == {"system": "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM",
                     "code": "2A020"}
    rel = {e["url"]: e for e in _ext(p, RELIABILITY_URL)["extension"]}
    assert rel["identityStatus"]["valueCoding"]["code"] == "QUAL"
    assert rel["methodCollection"]["valueCoding"]["code"] == "INSI"


def test_given_is_first_first_name_only(fhir):
    p = fhir(family="ECETINSI", birthdate="2009-07-14").json()["entry"][0]["resource"]
    assert p["name"][0]["given"] == ["PIERRE-ALAIN"]
    assert p["name"][0]["extension"][0]["valueString"] == "PIERRE-ALAIN MURIEL FLORIANT"
    assert p["identifier"][0]["value"] == "109076322083489"


def test_traits_search_normalises_like_insi(fhir):
    b = fhir(family="tchitchi", given="bella", gender="female", birthdate="eq1936-06-21", birthplace="63220").json()
    assert b["total"] == 1 and b["entry"][0]["resource"]["identifier"][0]["value"] == "236066322083656"
    assert fhir(family="TCHITCHI", given="OLA", birthdate="1936-06-21").json()["total"] == 0


def test_homonyms_found_together(fhir, client, workspace):
    pats = client.get("/sandbox/api/personas", params={"kind": "patient", "limit": 1000},
                      headers={"x-sandbox-workspace": workspace}).json()["personas"]
    h = next(p for p in pats if "homonym" in p["tags"])
    b = fhir(family=h["birth_name"], birthdate=h["birth_date"]).json()
    assert b["total"] == 2
    b = fhir(family=h["birth_name"], birthdate=h["birth_date"], birthplace=h["birth_place"]).json()
    assert b["total"] == 1


def test_read(fhir):
    pid = fhir(identifier="236066322083656").json()["entry"][0]["resource"]["id"]
    r = fhir(f"/ins/fhir/Patient/{pid}")
    assert r.status_code == 200 and r.json()["birthDate"] == "1936-06-21"
    r = fhir("/ins/fhir/Patient/nope")
    assert r.status_code == 404 and r.json()["resourceType"] == "OperationOutcome"


def test_nia_identity_uses_nia_slice(fhir, client, workspace):
    pats = client.get("/sandbox/api/personas", params={"kind": "patient", "limit": 1000},
                      headers={"x-sandbox-workspace": workspace}).json()["personas"]
    nia = next(p for p in pats if "nia" in p["tags"])
    p = fhir(identifier=f"urn:oid:1.2.250.1.213.1.4.9|{nia['matricule']}").json()["entry"][0]["resource"]
    ident = p["identifier"][0]
    assert (ident["use"], ident["type"]["coding"][0]["code"], ident["system"]) == (
        "temp", "INS-NIA", "urn:oid:1.2.250.1.213.1.4.9")
    assert fhir(identifier=f"{NIR}|{nia['matricule']}").json()["total"] == 0


def _outcome(r, status, code, expression):
    assert r.status_code == status, r.text
    body = r.json()
    assert body["resourceType"] == "OperationOutcome"
    issue = body["issue"][0]
    assert issue["code"] == code
    if expression:
        assert issue["expression"] == [expression]
    return issue


@pytest.mark.parametrize(("params", "code", "expression"), [
    ({"identifier": f"{NIR}|297022A02077877"}, "value", "Patient.identifier"),
    ({"identifier": f"{NIR}|2970"}, "value", "Patient.identifier"),
    ({"identifier": "urn:oid:1.2.3|297022A02077878"}, "value", "Patient.identifier"),
    ({"family": "ADR3TROIS"}, "value", "Patient.name.family"),
    ({"family": "ADRTROIS", "given": "DOMI_NIQUE"}, "value", "Patient.name.given"),
    ({"birthdate": "1997-02-30"}, "value", "Patient.birthDate"),
    ({"birthdate": "gt1997-02-01"}, "not-supported", "Patient.birthDate"),
    ({"family": "ADRTROIS", "gender": "other"}, "value", "Patient.gender"),
    ({"family": "ADRTROIS", "birthplace": "2A02"}, "value",
     "Patient.extension('http://hl7.org/fhir/StructureDefinition/patient-birthPlace')"),
    ({"family": "ADRTROIS", "name": "X"}, "not-supported", "name"),
    ({"given": "DOMINIQUE"}, "too-costly", None),
])
def test_bad_search_parameters(fhir, params, code, expression):
    _outcome(fhir(**params), 400, code, expression)


def test_wrong_key_outcome_is_precise(fhir):
    issue = _outcome(fhir(identifier=f"{NIR}|297022A02077877"), 400, "value", "Patient.identifier")
    assert issue["details"]["coding"][0]["code"] == "INS_NIR_KEY_MISMATCH"
    assert "78" in issue["diagnostics"]


def test_unknown_fhir_route_is_operation_outcome(client):
    r = client.get("/ins/fhir/Observation")
    assert r.status_code == 404 and r.json()["resourceType"] == "OperationOutcome"


def test_exact_modifier_accepted(fhir):
    b = fhir(**{"family:exact": "TCHITCHI", "given:exact": "CATARINA", "birthdate": "1936-06-21"}).json()
    assert b["total"] == 1
