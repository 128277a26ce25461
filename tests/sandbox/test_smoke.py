from ins.nir import nir_key


def test_patients_served_with_valid_keys(client):
    r = client.get("/sandbox/api/personas", params={"kind": "patient"})
    assert r.status_code == 200
    patients = r.json()["personas"]
    assert len(patients) >= 200
    for p in patients:
        assert len(p["matricule"]) == 15
        assert int(p["matricule"][13:]) == nir_key(p["matricule"][:13])
