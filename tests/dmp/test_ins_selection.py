"""The DMP finds the patient's INS by OID *and* identifier type (FACTS §1.5, §8 trap 1: the NSS
shares the NIR OID), keeps a NIA as a NIA, refuses an ambiguous or missing INS naming the rule,
and stores the INS system the vendor sent (judged, never rewritten)."""

from __future__ import annotations

import uuid

from dmp_helpers import PAT1, PROV, cr_bio_bundle, issue_texts

from dmp.fhir import patient_identifier
from ins import InsRule, select_ins

FR_CORE_TYPE = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
NIR = "urn:oid:1.2.250.1.213.1.4.8"
NIR_TEST = "urn:oid:1.2.250.1.213.1.4.10"
NSS = {"use": "official", "system": NIR, "value": "146026322000196",
       "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "NH"}]}}


def ins_nir(value: str, code: str = "INS-NIR", system: str = NIR) -> dict:
    return {"use": "official", "system": system, "value": value,
            "type": {"coding": [{"system": FR_CORE_TYPE, "code": code}]}}


def with_patient_entry(identifiers: list[dict]) -> dict:
    """A CR-BIO bundle whose documents name a Patient entry of the Bundle (urn:uuid)."""
    bundle = cr_bio_bundle(PAT1)
    ref = f"urn:uuid:{uuid.uuid4()}"
    for e in bundle["entry"]:
        if e["resource"]["resourceType"] in ("DocumentReference", "List"):
            e["resource"]["subject"] = {"reference": ref}
    bundle["entry"].append({"fullUrl": ref, "resource": {"resourceType": "Patient", "identifier": identifiers},
                            "request": {"method": "POST", "url": "Patient"}})
    return bundle


def test_nss_listed_first_is_not_taken_for_the_ins(dmp) -> None:
    r = dmp.provide(with_patient_entry([NSS, ins_nir(PAT1)]))
    assert r.status_code == 200, r.text
    assert r.json()["entry"][-1]["response"]["location"] == f"Patient/{PAT1}"
    found = dmp.find(patient=f"Patient/{PAT1}", status="current").json()
    assert found["total"] == 1
    assert found["entry"][0]["resource"]["subject"]["identifier"] == {"system": NIR, "value": PAT1}


def test_untyped_ins_oid_is_refused_naming_the_rule(dmp) -> None:
    r = dmp.provide(with_patient_entry([{"system": NIR, "value": PAT1}]))
    assert r.status_code == 422
    assert InsRule.UNTYPED.value in issue_texts(r)
    assert r.json()["issue"][0]["expression"] == ["Bundle.entry[3].resource.identifier[0]"]


def test_missing_and_ambiguous_ins_are_refused_naming_the_rule(dmp) -> None:
    r = dmp.provide(with_patient_entry([NSS]))
    assert r.status_code == 422 and InsRule.MISSING.value in issue_texts(r)
    r = dmp.provide(with_patient_entry([ins_nir(PAT1), ins_nir("146026322000196")]))
    assert r.status_code == 422 and InsRule.AMBIGUOUS.value in issue_texts(r)
    r = dmp.provide(with_patient_entry([ins_nir(PAT1, code="INS-NIA")]))
    assert r.status_code == 422 and InsRule.TYPE_MISMATCH.value in issue_texts(r)


def test_selection_rules() -> None:
    assert select_ins([NSS, ins_nir(PAT1)]).ins.value == PAT1
    nia = select_ins([ins_nir(PROV, "INS-NIA", "urn:oid:1.2.250.1.213.1.4.9")]).ins
    assert (nia.value, nia.oid, nia.type_code) == (PROV, "1.2.250.1.213.1.4.9", "INS-NIA")
    assert select_ins([ins_nir(PROV)]).problems[0].rule is InsRule.KIND_MISMATCH
    old = {**ins_nir("146026322000196"), "use": "old"}
    assert select_ins([old, ins_nir(PAT1)]).ins.value == PAT1
    legacy = {"system": NIR, "value": PAT1, "type": {"coding": [
        {"system": "http://interopsante.org/CodeSystem/fr-core-v2-0203", "code": "INS-NIR"}]}}
    assert select_ins([legacy]).ins.value == PAT1


def test_nia_stays_nia(dmp) -> None:
    assert patient_identifier(PROV) == {"system": "urn:oid:1.2.250.1.213.1.4.9", "value": PROV}
    r = dmp.http.get("/dmp/fhir/Patient", params={"identifier": f"urn:oid:1.2.250.1.213.1.4.9|{PROV}"},
                     headers=dmp.headers(dmp.pro_token()))
    assert r.status_code == 200, r.text
    assert r.json()["entry"][0]["resource"]["identifier"] == [
        {"system": "urn:oid:1.2.250.1.213.1.4.9", "value": PROV}]


def test_test_oid_is_stored_as_sent_and_judged(dmp) -> None:
    bundle = cr_bio_bundle(PAT1)
    for e in bundle["entry"]:
        if e["resource"]["resourceType"] in ("DocumentReference", "List"):
            e["resource"]["subject"] = {"reference": f"Patient?identifier={NIR_TEST}|{PAT1}"}
    r = dmp.provide(bundle)
    assert r.status_code == 200, r.text
    assert "dmp.ins.oid" in str(r.json())
    doc = dmp.find(patient=f"Patient/{PAT1}", status="current").json()["entry"][0]["resource"]
    assert doc["subject"] == {"reference": f"Patient/{PAT1}", "identifier": {"system": NIR_TEST, "value": PAT1}}
