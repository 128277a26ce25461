"""No live secret in the evidence: a full PSC code flow (PKCE, refresh, introspection, userinfo),
the demo relying party, DMP calls with professional and patient tokens and an INSi call, then every
stored body and summary, read straight from the database, is searched for every secret seen on the
wire (sandbox/redaction.py)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlsplit

from dmp_helpers import PAT1, cr_bio_bundle
from security_helpers import SOAP12, insi_request
from sqlalchemy import select

from sandbox.models import BodyRow, ExchangeRow

WALLET_AUTH = "/psc/wallet/auth"  # PSC authorizes on its wallet host, not under the issuer (psc/README.md)
CALLBACK = "http://127.0.0.1:8000/callback"


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _stored(sandbox) -> tuple[list[bytes], list[str]]:
    async def read() -> tuple[list[bytes], list[str]]:
        await sandbox.ctx.recorder.flush()
        async with sandbox.ctx.db.session() as s:
            bodies = [b.data for b in await s.scalars(select(BodyRow))]
            rows = [f"{r.summary} {r.actor} {r.operation} {r.correlation_id}"
                    for r in await s.scalars(select(ExchangeRow))]
        return bodies, rows

    return sandbox.call(read)


def test_no_live_secret_is_stored(sandbox, two_tenants) -> None:
    tenant, _ = two_tenants
    ws, key = tenant.name, tenant.key
    live: dict[str, str] = {"workspace key": key, "operator key": sandbox.operator_key}
    oidc = f"/psc/w/{ws}/realms/esante-wallet/protocol/openid-connect"  # the workspace's own realm
    with sandbox.client(key=key, follow_redirects=False) as c:
        client_id = f"sandbox-demo-{ws}"
        live["client secret"] = c.get(f"/sandbox/api/workspaces/{ws}/psc/clients/{client_id}").json()["client_secret"]
        made = c.post(f"/sandbox/api/workspaces/{ws}/psc/clients",
                      json={"client_id": f"m2m-{ws}", "grant_types": ["client_credentials"]}).json()
        live["registered client secret"] = made["client_secret"]
        # authorization code + PKCE
        verifier = secrets.token_urlsafe(48)
        live["code verifier"] = verifier
        r = c.get(WALLET_AUTH, params={
            "response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK,
            "scope": "openid scope_all", "state": "st", "nonce": "nn", "code_challenge": _s256(verifier),
            "code_challenge_method": "S256", "acr_values": "eidas1", "login_hint": "899700218896"})
        assert r.status_code == 302, r.text
        live["code"] = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
        # the client's callback, as a browser would follow it to the sandbox's own demo RP
        r = c.post(oidc + "/token", data={"grant_type": "authorization_code", "code": live["code"],
                                          "redirect_uri": CALLBACK, "code_verifier": verifier},
                   auth=(client_id, live["client secret"]))
        assert r.status_code == 200, r.text
        tokens = r.json()
        live.update({"access token": tokens["access_token"], "refresh token": tokens["refresh_token"],
                     "id token": tokens["id_token"]})
        r = c.post(oidc + "/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                   auth=(client_id, live["client secret"]))
        assert r.status_code == 200, r.text
        live.update({"refreshed access token": r.json()["access_token"],
                     "refreshed refresh token": r.json()["refresh_token"]})
        pro = r.json()["access_token"]
        assert c.get(oidc + "/userinfo", headers={"Authorization": f"Bearer {pro}"}).status_code == 200
        r = c.post(oidc + "/token/introspect", data={"token": pro}, auth=(client_id, live["client secret"]))
        assert r.status_code == 200 and r.json()["active"] is True
        r = c.post(oidc + "/token", data={"grant_type": "client_credentials", "client_id": f"m2m-{ws}",
                                          "client_secret": made["client_secret"]})
        assert r.status_code == 200, r.text
        live["client credentials token"] = r.json()["access_token"]
        # the DMP: a professional feeds and searches, the patient reads through Mon Espace Santé
        fhir = {"Authorization": f"Bearer {pro}", "Content-Type": "application/fhir+json"}
        r = c.post("/dmp/fhir", json=cr_bio_bundle(PAT1), headers=fhir)
        assert r.status_code == 200, r.text
        assert c.get("/dmp/fhir/DocumentReference", params={"patient": f"Patient/{PAT1}", "status": "current"},
                     headers=fhir).status_code == 200
        r = c.post(f"/sandbox/api/workspaces/{ws}/dmp/patient-token", json={"patient": PAT1})
        assert r.status_code == 200, r.text
        live["patient token"] = r.json()["access_token"]
        assert c.get("/dmp/mes/api/documents", headers={"Authorization": f"Bearer {live['patient token']}"}
                     ).status_code == 200
        # INSi, and the demo relying party whose page shows a whole token response
        r = c.post("/ins/insi", content=insi_request().encode(),
                   headers={"content-type": SOAP12, "x-sandbox-workspace": ws})
        assert r.status_code == 200, r.text
        r = c.get("/psc/demo/login", params={"workspace": ws, "login_hint": "899700218896"})
        r = c.get(r.headers["location"])
        r = c.get(r.headers["location"])  # the client keeps the demo cookie
        assert r.status_code == 200 and "SubjectRefPro" in r.text, r.text[:500]
        shown = re.findall(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+|psc-rt\.[A-Za-z0-9_-]{20,}", r.text)
        assert shown, "the demo page shows its tokens"
        live.update({f"demo page secret {n}": s for n, s in enumerate(shown)})

    bodies, rows = _stored(sandbox)
    assert bodies and rows
    for label, secret in live.items():
        assert secret and len(secret) >= 20, label
        needle = secret.encode()
        leaked = [b[:200] for b in bodies if needle in b] + [r[:200] for r in rows if secret in r]
        assert not leaked, f"{label} stored in clear: {leaked[:2]}"
    everything = b"\n".join(bodies) + "\n".join(rows).encode()
    assert not re.search(rb"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.", everything), "a JWT is stored"
    assert not re.search(rb"psc-(?:ac|rt)\.[A-Za-z0-9_-]{20,}", everything), "a PSC code or refresh token is stored"
    # the marks correlate: the refresh token issued is the one redeemed, under the same mark
    redactor = sandbox.call(sandbox.ctx.evidence.redactor)
    mark = redactor.mark(live["refresh token"].encode())
    assert b'"refresh_token":"' + mark + b'"' in everything
    assert b"refresh_token=" + mark in everything
