"""Verification use case ``POST /ins/api/verify`` (FACTS §1.2, App. C: real operation [U])."""

from __future__ import annotations

import pytest

from ins.nir import nir_key

ADRTROIS = {"matricule": "297022A02077878", "birth_name": "ADRTROIS", "first_names": ["DOMINIQUE"],
            "sex": "F", "birth_date": "1997-02-26", "birth_place": "2A020"}


@pytest.fixture()
def verify(client, workspace):
    def post(**changes):
        return client.post("/ins/api/verify", json={**ADRTROIS, **changes},
                           headers={"x-sandbox-workspace": workspace})
    return post


def test_match(verify):
    r = verify()
    assert r.status_code == 200
    assert r.json()["result"] == "match" and r.json()["cr"] == "00" and r.json()["differences"] == []


def test_stored_traits_normalised(verify):
    assert verify(birth_name="Adrtrois", first_names=["dominique"]).json()["result"] == "match"


def test_mismatch_names_the_differing_traits(verify):
    body = verify(birth_place="75056", birth_date="1997-02-25").json()
    assert body["result"] == "mismatch" and body["cr"] == "01"
    assert {d["trait"] for d in body["differences"]} == {"LieuNaissance", "DateNaissance"}
    assert {"cr", "traits"} <= set(body["reasons"])
    assert body["reference"]["DateNaissance"] == "1997-02-26"


def test_first_names_list_difference(client, workspace):
    body = client.post("/ins/api/verify", headers={"x-sandbox-workspace": workspace}, json={
        "matricule": "236066322083656", "birth_name": "TCHITCHI", "first_names": ["CATARINA"], "sex": "F",
        "birth_date": "1936-06-21"}).json()
    assert body["result"] == "mismatch" and body["cr"] == "00"
    assert body["differences"] == [{"trait": "Prenom", "stored": "CATARINA", "reference": "CATARINA BELLA"}]


def test_matricule_of_someone_else(verify):
    body = verify(matricule="236066322083656").json()
    assert body["result"] == "mismatch"
    assert "matricule" in body["reasons"]


def test_historical_matricule(client, workspace):
    body = client.post("/ins/api/verify", headers={"x-sandbox-workspace": workspace}, json={
        "matricule": "209076322083439", "birth_name": "ECETINSI",
        "first_names": ["PIERRE-ALAIN", "MURIEL", "FLORIANT"], "sex": "M", "birth_date": "2009-07-14"}).json()
    assert body["result"] == "mismatch" and body["reasons"] == ["historical"]
    assert body["activeMatricule"] == "109076322083489"


def test_unknown_matricule(verify):
    number = "1800175056999"
    body = verify(matricule=number + f"{nir_key(number):02d}").json()
    assert "unknown_matricule" in body["reasons"]


@pytest.mark.parametrize(("changes", "problem"), [
    ({"matricule": "297022A02077877"}, "INS_NIR_KEY_MISMATCH"),
    ({"birth_name": "ADR3"}, "INS_NAME_CHARACTERS"),
    ({"sex": "X"}, "INS_SEX_INVALID"),
    ({"birth_date": "1997-02-30"}, "INS_DATE_IMPOSSIBLE"),
    ({"birth_place": "2A0"}, "INS_COG_FORMAT"),
])
def test_invalid_input_is_problem_json(verify, changes, problem):
    r = verify(**changes)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert problem in [p["id"] for p in r.json()["problems"]]


def test_missing_field_is_422_not_500(client):
    r = client.post("/ins/api/verify", json={"matricule": "297022A02077878"})
    assert r.status_code == 422
