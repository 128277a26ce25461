"""DMP existence TD0.2 (FACTS §3.3) and the sandbox API that opens/closes DMPs; seeded states."""

from __future__ import annotations

from dmp_helpers import BLOCKED_PRO, BLOCKING, CLOSED, INS_SYSTEM, MT1, NO_DMP, PAT1, cr_bio_bundle

CLOSURE = "https://interop.esante.gouv.fr/ig/fhir/pdsm4dmp/StructureDefinition/dmp-fermeture"


def _lookup(dmp, ins: str, token: str | None = None) -> dict:  # noqa: ANN001
    r = dmp.http.get("/dmp/fhir/Patient", params={"identifier": f"{INS_SYSTEM}|{ins}"},
                     headers=dmp.headers(token or dmp.pro_token()))
    assert r.status_code == 200, r.text
    assert r.json()["type"] == "searchset"
    return r.json()


def test_open_closed_absent(dmp) -> None:
    open_ = _lookup(dmp, PAT1)["entry"][0]["resource"]
    assert open_["active"] is True and open_["id"] == PAT1
    ext = {e["url"].rsplit("/", 1)[1]: e for e in open_["extension"]}
    assert ext["dmp-medecin-traitant"]["valueBoolean"] is True  # the default test professional
    assert ext["dmp-statut-autorisation"]["valueCode"] == "autorise"
    closed = _lookup(dmp, CLOSED)["entry"][0]["resource"]
    assert closed["active"] is False
    closure = next(e for e in closed["extension"] if e["url"] == CLOSURE)
    assert {x["url"] for x in closure["extension"]} >= {"dateFermeture", "motifFermeture"}
    assert _lookup(dmp, NO_DMP)["total"] == 0


def test_blocked_status_reported(dmp) -> None:
    res = _lookup(dmp, BLOCKING, dmp.pro_token(BLOCKED_PRO))["entry"][0]["resource"]
    assert any(e.get("valueCode") == "bloque" for e in res["extension"])


def test_identifier_required(dmp) -> None:
    r = dmp.http.get("/dmp/fhir/Patient", headers=dmp.headers(dmp.pro_token()))
    assert r.status_code == 400


def test_create_close_delete_through_sandbox_api(dmp) -> None:
    base = f"/sandbox/api/workspaces/{dmp.workspace}/dmp/patients"
    assert dmp.http.get(f"{base}/{NO_DMP}").status_code == 404
    created = dmp.set_dmp(NO_DMP, medecin_traitant=MT1)
    assert created["status"] == "open"
    assert _lookup(dmp, NO_DMP)["entry"][0]["resource"]["active"] is True
    assert dmp.provide(cr_bio_bundle(NO_DMP)).status_code == 200
    r = dmp.http.post(f"{base}/{NO_DMP}/close", json={"motif": "DECES", "reason": "test"})
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert dmp.provide(cr_bio_bundle(NO_DMP)).status_code == 403
    assert dmp.http.delete(f"{base}/{NO_DMP}").status_code == 204
    assert _lookup(dmp, NO_DMP)["total"] == 0
    assert dmp.http.put(f"{base}/000000000000000", json={}).status_code == 404


def test_seed_is_deterministic_and_mixed(dmp) -> None:
    states = dmp.http.get(f"/sandbox/api/workspaces/{dmp.workspace}/dmp/patients").json()["patients"]
    by_status = {s["status"] for s in states}
    assert by_status == {"open", "closed"}
    assert len(states) < len(dmp.patients())  # some patients have no DMP
    assert next(s for s in states if s["ins"] == PAT1)["medecin_traitant"] == MT1
