"""fr-core identity-status invariants per version (FACTS §1.5, §8.6: VALI in v2-0445, VALI/QUAL in the
dev code system, require an INS) and TRE_R248's two spellings (FACTS §3.1)."""

from __future__ import annotations

import uuid

from dmp_helpers import ONLY_MT, OTHER_PRO, PAT1, cr_bio_bundle, issue_texts

from ins import ReliabilityRule, check_reliability
from profiles.registry import default_registry

RELIABILITY = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability"
V2_0445 = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0445"
DEV = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identity-status"
NSS = {"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "146026322000196",
       "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "NH"}]}}
INS = {"system": "urn:oid:1.2.250.1.213.1.4.8", "value": PAT1, "type": {"coding": [
    {"system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203", "code": "INS-NIR"}]}}
CANONICAL = "https://mos.esante.gouv.fr/NOS/TRE_R248_ModeAcces/FHIR/TRE-R248-ModeAcces"
NOS_PATTERN = "https://mos.esante.gouv.fr/NOS/TRE_R248-ModeAcces/FHIR/TRE-R248-ModeAcces"


def patient(system: str, code: str, *identifiers: dict) -> dict:
    return {"resourceType": "Patient", "identifier": list(identifiers), "extension": [
        {"url": RELIABILITY,
         "extension": [{"url": "identityStatus", "valueCoding": {"system": system, "code": code}}]}]}


def rules(p: dict) -> list[ReliabilityRule]:
    return [x.rule for x in check_reliability(p)]


def test_invariants_per_fr_core_version() -> None:
    assert rules(patient(V2_0445, "VALI", NSS)) == [ReliabilityRule.INS_REQUIRED]
    assert rules(patient(V2_0445, "VALI", NSS, INS)) == []
    assert rules(patient(V2_0445, "PROV", NSS)) == []
    assert rules(patient(DEV, "QUAL", NSS)) == [ReliabilityRule.INS_REQUIRED]
    assert rules(patient(DEV, "VALI")) == [ReliabilityRule.INS_REQUIRED]
    assert rules(patient(DEV, "RECUP", NSS)) == []
    assert rules(patient(V2_0445, "QUAL", INS)) == [ReliabilityRule.CODE_NOT_IN_VERSION]


def test_dmp_refuses_a_vali_patient_without_ins(dmp) -> None:
    bundle = cr_bio_bundle(PAT1)
    ref = f"urn:uuid:{uuid.uuid4()}"
    for e in bundle["entry"]:
        if e["resource"]["resourceType"] in ("DocumentReference", "List"):
            e["resource"]["subject"] = {"reference": ref}
    bundle["entry"].append({"fullUrl": ref, "resource": patient(V2_0445, "VALI", NSS),
                            "request": {"method": "POST", "url": "Patient"}})
    r = dmp.provide(bundle)
    assert r.status_code == 422 and ReliabilityRule.INS_REQUIRED.value in issue_texts(r)


def test_access_mode_system_in_both_spellings(dmp) -> None:
    assert dmp.provide(cr_bio_bundle(ONLY_MT), token=dmp.pro_token("899700675665")).status_code == 200
    for system in (CANONICAL, NOS_PATTERN, "urn:oid:1.2.250.1.213.1.1.4.248"):
        r = dmp.find(dmp.pro_token(OTHER_PRO), headers={"X-DMP-Access-Mode": f"{system}|bris_de_glace"},
                     patient=f"Patient/{ONLY_MT}", status="current")
        assert r.status_code == 200, (system, r.text)
    r = dmp.find(dmp.pro_token(OTHER_PRO), headers={"X-DMP-Access-Mode": "http://example.org|bris_de_glace"},
                 patient=f"Patient/{ONLY_MT}", status="current")
    assert r.status_code == 400 and CANONICAL in issue_texts(r) and NOS_PATTERN in issue_texts(r)
    audit = dmp.http.get(f"/sandbox/api/workspaces/{dmp.workspace}/dmp/audit", params={"patient": ONLY_MT}).json()
    purposes = {c["system"] for e in audit["entry"] for p in e["resource"]["purposeOfEvent"] for c in p["coding"]}
    assert purposes == {CANONICAL}


def test_validator_accepts_the_other_spelling_and_says_so() -> None:
    vs = "https://mes-sandbox.invalid/fhir/ValueSet/mode-acces"  # TRE_R248 codes, as profiles/ bundles them
    term = default_registry().terminology
    assert term.member(vs, NOS_PATTERN, "centre_15") == (True, CANONICAL)
    assert term.member(vs, CANONICAL, "centre_15") == (True, None)
