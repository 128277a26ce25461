"""Personas: the seeded world as INSi, PSC and MSSanté describe it (FACTS §1.2–1.4, §2.6, §4)."""

import json
from collections import Counter

from ins.nir import nir_key
from sandbox.personas.generate import generate_world


def _all(client, kind):
    r = client.get("/sandbox/api/personas", params={"kind": kind})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == body["count"] == len(body["personas"])
    return body["personas"]


def test_at_least_200_patients_all_keys_verify(client):
    patients = _all(client, "patient")
    assert len(patients) >= 200
    for p in patients:
        number, key = p["matricule"][:13], p["matricule"][13:]
        assert int(key) == nir_key(number), p["id"]
        assert p["ins"]["number"] + p["ins"]["key"] == p["matricule"]


def test_patient_mix_covers_corsica_abroad_nia_homonyms_and_statuses(client):
    patients = _all(client, "patient")
    tags = Counter(t for p in patients for t in p["tags"])
    assert tags["corsica"] >= 2 and tags["abroad"] >= 2 and tags["nia"] >= 2
    assert any(p["matricule"][5:7] in ("2A", "2B") for p in patients)
    assert any(p["matricule"][5:7] == "99" and p["birth_place"].startswith("99") for p in patients)
    nia = [p for p in patients if "nia" in p["tags"]]
    assert all(p["ins"]["oid"] == "1.2.250.1.213.1.4.9" for p in nia)
    statuses = Counter(p["identity_status"] for p in patients)
    assert set(statuses) == {"PROV", "RECUP", "VALI", "QUAL"}
    homonyms = [p for p in patients if "homonym" in p["tags"]]
    groups = Counter((p["birth_name"], p["first_names"][0], p["sex"], p["birth_date"]) for p in homonyms)
    assert groups and all(n >= 2 for n in groups.values())
    for key in groups:  # same traits, different birth places: INSi answers 02 without the COG
        places = {p["birth_place"] for p in homonyms
                  if (p["birth_name"], p["first_names"][0], p["sex"], p["birth_date"]) == key}
        assert len(places) >= 2


def test_public_insi_test_identities_exactly_as_facts(client):
    patients = {p["birth_name"]: p for p in _all(client, "patient")}
    adr = patients["ADRTROIS"]
    assert (adr["first_names"], adr["sex"], adr["birth_date"], adr["birth_place"]) == (
        ["DOMINIQUE"], "F", "1997-02-26", "2A020")
    assert (adr["ins"]["number"], adr["ins"]["key"]) == ("297022A020778", "78")
    tch = patients["TCHITCHI"]
    assert tch["first_names"] == ["CATARINA", "BELLA"]
    assert (tch["ins"]["number"], tch["ins"]["key"], tch["birth_place"]) == ("2360663220836", "56", "63220")
    ece = patients["ECETINSI"]
    assert ece["first_names"] == ["PIERRE-ALAIN", "MURIEL", "FLORIANT"]
    assert (ece["ins"]["number"], ece["ins"]["key"]) == ("1090763220834", "89")
    assert [(h["number"], h["key"]) for h in ece["history"]] == [("2090763220834", "39"), ("2090663220123", "55")]
    assert patients["CORSE"]["first_names"] == ["ANTHONY"] and patients["CORSE"]["birth_date"] == "1980-03-02"
    assert all(patients[n]["ins"]["oid"] == "1.2.250.1.213.1.4.8" for n in ("ADRTROIS", "TCHITCHI", "ECETINSI"))


def test_professionals_include_psc_test_personas_and_fill_subject_ref_pro(client):
    pros = {p["id"]: p for p in _all(client, "professional")}
    assert len(pros) >= 50
    for idnps in ("899700218896", "899700366240", "899700427885", "ANS20231122132732"):
        assert idnps in pros
    kit = pros["899700427885"]
    assert (kit["given_name"], kit["family_name"], kit["savoir_faire"]) == ("KIT", "DOC0042788", "SM26")
    assert kit["activities"][0]["organisation_id"] == "0B0193488"
    assert pros["ANS20231122132732"]["id_origin"] == "EDIT"
    synthetic = [p for p in pros.values() if p["origin"] == "synthetic"]
    assert all(p["id"].startswith("8997") and p["id"] == "8" + p["rpps"] for p in synthetic)
    assert all(p["profession"] in ("10", "21", "40", "50", "60", "70", "80") for p in pros.values())
    orgs = {o["id"] for o in _all(client, "organisation")}
    assert all(a["organisation_id"] in orgs for p in pros.values() for a in p["activities"])


def test_organisations_and_mailboxes(client):
    orgs = _all(client, "organisation")
    assert len(orgs) >= 20
    assert any(o["finess_et"] == "0B0193488" and o["name"] == "HOPITAL GENERIQUE FIN VARI" for o in orgs)
    assert {o["category"] for o in orgs} >= {"hospital", "lab", "imaging", "practice"}
    for o in orgs:
        assert len(o["finess_et"]) == 9 and len(o["siret"]) == 14 and o["siret"].startswith(o["siren"])
        assert o["sector"].startswith("SA")
    boxes = _all(client, "mailbox")
    types = Counter(b["type"] for b in boxes)
    assert types["PER"] >= 50 and types["ORG"] >= 20 and types["APP"] >= 1 and types[None] >= 200
    assert set(types) == {"PER", "ORG", "APP", None}  # JDV_J139 has no patient type
    assert len({b["id"] for b in boxes}) == len(boxes)
    pat = next(b for b in boxes if b["owner_kind"] == "patient")
    assert pat["type"] is None
    assert pat["id"].endswith("@patient.mssante.fr") and len(pat["id"].split("@")[0]) == 15


def test_unknown_kind_is_a_problem(client):
    r = client.get("/sandbox/api/personas", params={"kind": "alien"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "patient" in r.json()["valid_kinds"]


def test_unknown_workspace_header_is_404_problem(client):
    r = client.get("/sandbox/api/personas", headers={"X-Sandbox-Workspace": "nope"})
    assert r.status_code == 404
    assert r.json()["type"].endswith("/unknown-workspace")


def test_get_one_persona(client):
    r = client.get("/sandbox/api/personas/professional/899700218896")
    assert r.status_code == 200 and r.json()["given_name"] == "ROBERT"
    assert client.get("/sandbox/api/personas/patient/pat-9999").status_code == 404


def test_same_seed_same_bytes_other_seed_differs():
    def dump(seed):
        w = generate_world(seed)
        return json.dumps([p.to_dict() for k in ("patients", "professionals", "organisations", "mailboxes")
                           for p in getattr(w, k)], sort_keys=True, default=str).encode()

    assert dump(7) == dump(7)
    assert dump(7) != dump(8)


def test_workspaces_are_seeded_identically(client, workspace):
    default = client.get("/sandbox/api/personas").json()["personas"]
    other = client.get("/sandbox/api/personas", headers={"X-Sandbox-Workspace": workspace}).json()["personas"]
    assert json.dumps(default, sort_keys=True) == json.dumps(other, sort_keys=True)
