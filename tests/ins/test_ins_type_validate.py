"""`POST /ins/fhir/Patient/$validate` validates with the profiles service (issue 6 interfaces)."""


def test_patient_validate_on_the_ins_fhir_base(client):
    found = client.get("/ins/fhir/Patient", params={"family": "ADRTROIS", "birthdate": "1997-02-26"}).json()
    patient = found["entry"][0]["resource"]
    r = client.post("/ins/fhir/Patient/$validate", json=patient,
                    params={"profile": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins"})
    assert r.status_code == 200, r.text
    outcome = r.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert not [i for i in outcome["issue"] if i["severity"] in ("error", "fatal")]
    broken = {**patient, "gender": "robot"}
    r = client.post("/ins/fhir/Patient/$validate", json=broken)
    errors = [i for i in r.json()["issue"] if i["severity"] == "error"]
    assert errors and any("gender" in e.get("expression", [""])[0] for e in errors)
    r = client.post("/ins/fhir/Observation/$validate", json=patient)
    assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome"
