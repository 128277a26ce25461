"""First end-to-end path: metadata, TD0.2, ITI-65, ITI-67, ITI-68 (FACTS §3.2–3.3)."""

from __future__ import annotations

from dmp_helpers import CDA, FHIR, INS_SYSTEM, QUAL_INS, cr_bio_bundle


def test_metadata_is_a_capability_statement(dmp) -> None:
    r = dmp.http.get("/dmp/fhir/metadata")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(FHIR)
    cs = r.json()
    assert cs["resourceType"] == "CapabilityStatement" and cs["fhirVersion"] == "4.0.1"
    dr = next(x for x in cs["rest"][0]["resource"] if x["type"] == "DocumentReference")
    assert {"read", "search-type", "patch"} == {i["code"] for i in dr["interaction"]}


def test_feed_find_retrieve(dmp) -> None:
    r = dmp.provide(cr_bio_bundle(QUAL_INS))
    assert r.status_code == 200, r.text
    resp = r.json()
    assert resp["type"] == "transaction-response"
    assert [e["response"]["status"] for e in resp["entry"]] == ["201 Created"] * 3
    doc_loc = resp["entry"][1]["response"]["location"]
    assert doc_loc.startswith("DocumentReference/") and doc_loc.endswith("/_history/1")
    r = dmp.find(**{"patient.identifier": f"{INS_SYSTEM}|{QUAL_INS}", "status": "current"})
    assert r.status_code == 200, r.text
    bundle = r.json()
    assert bundle["total"] == 1
    doc = bundle["entry"][0]["resource"]
    assert doc["id"] == doc_loc.split("/")[1]
    url = doc["content"][0]["attachment"]["url"]
    r = dmp.http.get(url, headers=dmp.headers(dmp.pro_token()))
    assert r.status_code == 200
    assert r.content == CDA
    assert r.headers["content-type"].startswith("text/xml")


def test_td02_existence(dmp) -> None:
    r = dmp.http.get("/dmp/fhir/Patient", params={"identifier": f"{INS_SYSTEM}|{QUAL_INS}"},
                     headers=dmp.headers(dmp.pro_token()))
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["total"] == 1 and b["entry"][0]["resource"]["active"] is True


def test_unknown_route_and_physical_delete_answer_operation_outcomes(dmp) -> None:
    h = dmp.headers(dmp.pro_token())
    r = dmp.http.get("/dmp/fhir/Observation", headers=h)
    assert r.status_code == 404 and r.json()["resourceType"] == "OperationOutcome"
    r = dmp.http.delete("/dmp/fhir/DocumentReference/abc", headers=h)  # never a physical deletion
    assert r.status_code == 405 and r.json()["resourceType"] == "OperationOutcome"


def test_patient_identifier_must_be_an_ins(dmp) -> None:
    r = dmp.find(**{"patient.identifier": "urn:oid:1.2.3|123", "status": "current"})
    assert r.status_code == 400
