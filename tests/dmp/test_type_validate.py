"""`POST /dmp/fhir/DocumentReference/$validate`: the profiles validator on the DMP base, so a
vendor checks a DocumentReference before submitting it (issue 6 interfaces)."""

from dmp_helpers import cr_bio_bundle


def test_document_reference_validate_on_the_dmp_base(client):
    bundle = cr_bio_bundle("297022A02077878")
    doc = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference")
    r = client.post("/dmp/fhir/DocumentReference/$validate", json=doc)
    assert r.status_code == 200, r.text
    assert r.json()["resourceType"] == "OperationOutcome"
    assert not [i for i in r.json()["issue"] if i["severity"] in ("error", "fatal")]
    broken = {**doc, "status": "lost"}
    errors = [i for i in client.post("/dmp/fhir/DocumentReference/$validate", json=broken).json()["issue"]
              if i["severity"] == "error"]
    assert any("status" in i.get("expression", [""])[0] for i in errors)
    assert client.post("/dmp/fhir/List/$validate", json=doc).status_code == 400
