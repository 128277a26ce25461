"""Tokens on the DMP (FACTS §4; issue 5 "token missing / expired / for another workspace")."""

from __future__ import annotations

import base64
import json

from dmp_helpers import CALLBACK, FHIR, PAT1, cr_bio_bundle


def _oo(r, status: int) -> None:  # noqa: ANN001
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(FHIR)
    assert r.json()["resourceType"] == "OperationOutcome"


def test_missing_token_401(dmp) -> None:
    r = dmp.http.get("/dmp/fhir/DocumentReference", params={"patient": PAT1, "status": "current"})
    _oo(r, 401)
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_garbage_and_tampered_token_401(dmp) -> None:
    _oo(dmp.find("not.a.jwt", patient=PAT1, status="current"), 401)
    head, payload, sig = dmp.pro_token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = claims["sub"][:-1] + "0"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    _oo(dmp.find(f"{head}.{forged}.{sig}", patient=PAT1, status="current"), 401)


def test_expired_token_401(dmp) -> None:
    token = dmp.pro_token()
    r = dmp.http.post(f"/sandbox/api/workspaces/{dmp.workspace}/faults",
                      json={"service": "psc", "kind": "token_expired_early"})
    assert r.status_code == 201, r.text
    r = dmp.find(token, patient=PAT1, status="current")
    _oo(r, 401)
    assert "expired" in r.text


def test_token_of_another_workspace_403(dmp) -> None:
    r = dmp.find(headers={"X-Sandbox-Workspace": "default"}, patient=PAT1, status="current")
    _oo(r, 403)
    r = dmp.provide(cr_bio_bundle(PAT1), **{"X-Sandbox-Workspace": "default"})
    _oo(r, 403)


def test_client_credentials_token_refused_403(dmp) -> None:
    client_id = f"sandbox-demo-{dmp.workspace}"
    r = dmp.http.post("/psc/realms/esante-wallet/protocol/openid-connect/token",
                      data={"grant_type": "client_credentials", "scope": "scope_all"},
                      auth=(client_id, dmp.demo_secret))
    assert r.status_code == 200, r.text  # the demo client has the grant (psc/README.md)
    r = dmp.find(r.json()["access_token"], patient=PAT1, status="current")
    _oo(r, 403)
    assert "aucun professionnel" in r.text


def test_token_for_another_audience_401(dmp) -> None:
    """A token issued to a client registered for another service is not the DMP's (FACTS §4)."""
    r = dmp.http.post(f"/sandbox/api/workspaces/{dmp.workspace}/psc/clients", json={
        "client_id": f"agenda-{dmp.workspace}", "client_secret": "s3cret", "redirect_uris": [CALLBACK],
        "audiences": ["urn:agenda"]})
    assert r.status_code == 201, r.text
    r = dmp.find(dmp.token_for(f"agenda-{dmp.workspace}", "s3cret"), patient=PAT1, status="current")
    _oo(r, 401)
    assert "wrong_audience" in r.text and "urn:dmp" in r.text


def test_token_without_the_dmp_scope_403(dmp) -> None:
    token = dmp.token_for(f"sandbox-demo-{dmp.workspace}", dmp.demo_secret, scope="openid profile")
    r = dmp.find(token, patient=PAT1, status="current")
    _oo(r, 403)
    assert "scope_all" in r.text and "insufficient_scope" in r.headers["www-authenticate"]
