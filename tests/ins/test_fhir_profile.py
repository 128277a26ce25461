"""Every Patient the FHIR face serves validates with no error against the fr-core Patient INS
profile of ``profiles/`` (the team's validator, not ours)."""

from __future__ import annotations

import copy

import profiles
from ins.fhir_patient import patient_resource
from ins.seed import identity_of

PROFILE = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins"


def _errors(resource):
    return [i for i in profiles.validate(resource, PROFILE) if str(i.severity) in ("error", "fatal")]


def test_served_patients_of_every_kind_conform(client, workspace):
    """One patient per tag (public test identities, homonym, NIA, Corsica, abroad, incomplete
    civil status month, history) fetched over HTTP."""
    headers = {"x-sandbox-workspace": workspace}
    pats = client.get("/sandbox/api/personas", params={"kind": "patient", "limit": 1000},
                      headers=headers).json()["personas"]
    sample = {p["id"]: p for p in pats if p["origin"].startswith("public-test")}
    for tag in ("homonym", "nia", "corsica", "abroad", "pseudo-month", "history"):
        p = next(p for p in pats if tag in p["tags"])
        sample[p["id"]] = p
    for p in sample.values():
        bundle = client.get("/ins/fhir/Patient", params={"identifier": p["matricule"]}, headers=headers).json()
        assert bundle["total"] == 1
        assert _errors(bundle["entry"][0]["resource"]) == [], p["id"]


def test_every_world_patient_conforms(sandbox):
    ctx = sandbox.ctx
    insi = ctx.state["ins"].insi
    for p in ctx.world.patients:
        resource = patient_resource(insi.presented(identity_of(p)))
        assert _errors(resource) == [], p.id


def test_validator_does_catch_a_broken_patient(client, workspace):
    r = client.get("/ins/fhir/Patient", params={"identifier": "297022A02077878"},
                   headers={"x-sandbox-workspace": workspace})
    good = r.json()["entry"][0]["resource"]
    broken = copy.deepcopy(good)
    broken["identifier"][0]["value"] = "297022A02077877"  # wrong key (FACTS §1.3)
    del broken["birthDate"]
    assert len(_errors(broken)) >= 2
