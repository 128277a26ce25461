"""Client registry (REST + seeded demo client), discovery, JWKS, the French persona picker, the
demo relying party, evidence attribution."""

from __future__ import annotations

import base64
import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from psc import runtime

CALLBACK = "http://127.0.0.1:8000/callback"


def test_discovery_is_psc_s_wallet_document_and_truthful(psc) -> None:
    a = psc.http.get(psc.issuer + "/.well-known/wallet-openid-configuration").json()
    assert a["issuer"] == psc.issuer
    assert a["token_endpoint"] == psc.issuer + "/protocol/openid-connect/token"
    assert a["introspection_endpoint"].endswith("/protocol/openid-connect/token/introspect")
    assert a["code_challenge_methods_supported"] == ["S256"]
    assert a["response_types_supported"] == ["code"] and a["acr_values_supported"] == ["eidas1"]
    assert set(a["grant_types_supported"]) == {"authorization_code", "refresh_token", "client_credentials"}
    assert set(a["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post",
                                                               "private_key_jwt"}
    assert "implicit" not in a["grant_types_supported"] and a["request_uri_parameter_supported"] is False
    for key in ("userinfo_endpoint", "end_session_endpoint", "jwks_uri"):
        assert a[key].startswith(psc.issuer + "/protocol/openid-connect/")
    # PSC authorizes on its wallet host, not under the issuer (FACTS §4, §8.7)
    assert a["authorization_endpoint"] == psc.sb.url("/psc/wallet/auth")


def test_strict_by_default_standard_discovery_and_issuer_authorize_absent(psc) -> None:
    r = psc.http.get(psc.issuer + "/.well-known/openid-configuration")
    assert r.status_code == 404 and "wallet-openid-configuration" in r.json()["error_description"]
    params = {k: v for k, v in psc.auth_params().items() if k != "_verifier"}
    r = psc.http.get(psc.issuer + "/protocol/openid-connect/auth", params=params)
    assert r.status_code == 404 and "/psc/wallet/auth" in r.text
    assert psc.http.get(psc.url("auth"), params=params).status_code == 302
    ex = psc.sb.exchanges(service="psc")
    docs = [e["summary"] for e in ex if e["operation"] == "psc.discovery"]
    assert {"document": "openid-configuration", "served": False} in [
        {k: d.get(k) for k in ("document", "served")} for d in docs]
    assert all(d.get("host", "").startswith("127.0.0.1:") for d in docs)
    auth = [e["summary"] for e in ex if e["operation"] == "psc.authorize"]
    assert any(s.get("endpoint") == "issuer" and s.get("served") is False for s in auth)
    assert any(s.get("endpoint") == "wallet" and s.get("client_id") == psc.client_id for s in auth)


def test_standard_discovery_leniency(monkeypatch) -> None:
    from sandbox.testing import running_sandbox

    monkeypatch.setenv("MES_SANDBOX_PSC_STANDARD_DISCOVERY", "true")
    with running_sandbox() as sb, sb.client(follow_redirects=False) as http:
        issuer = sb.url("/psc/realms/esante-wallet")
        a = http.get(issuer + "/.well-known/openid-configuration")
        assert a.status_code == 200
        assert a.json() == http.get(issuer + "/.well-known/wallet-openid-configuration").json()
        r = http.get(issuer + "/protocol/openid-connect/auth", params={"client_id": "nobody"})
        assert r.status_code == 400  # served (and judged like the wallet endpoint)


def test_jwks_public_parts_only_and_rotation_keeps_old_keys(psc) -> None:
    keys = psc.http.get(psc.url("certs")).json()["keys"]
    assert {k["alg"] for k in keys} >= {"ES256", "RS256"}
    for k in keys:
        assert k["kid"] and k["use"] == "sig" and not ({"d", "p", "q", "dp", "dq", "qi"} & set(k))
    rt = runtime.get(psc.sb.ctx)
    new = psc.sb.call(rt.keys.rotate, ("ES256",))
    after = {k["kid"] for k in psc.http.get(psc.url("certs")).json()["keys"]}
    assert set(new) <= after and {k["kid"] for k in keys} <= after


def test_seeded_demo_client_and_registration_api(psc) -> None:
    base = f"/sandbox/api/workspaces/{psc.workspace}/psc/clients"
    listed = psc.http.get(base).json()["clients"]
    demo = next(c for c in listed if c["client_id"] == psc.client_id)
    assert len(demo["client_secret"]) >= 32  # random per workspace, never a shared fixed secret
    assert "/psc/demo/callback" in demo["redirect_uris"] and CALLBACK in demo["redirect_uris"]
    created = psc.add_client(client_id=f"app-{psc.workspace}", redirect_uris=["https://app.example/cb"])
    assert len(created["client_secret"]) >= 32 and created["workspace"] == psc.workspace
    got = psc.http.get(f"{base}/{created['client_id']}").json()
    assert got["client_secret"] == created["client_secret"]
    r = psc.http.post(base, json={"client_id": created["client_id"], "redirect_uris": ["https://a.example/cb"]})
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    for bad in ({"redirect_uris": ["not a uri"]}, {"redirect_uris": ["https://a.example/cb#frag"]},
                {"token_endpoint_auth_method": "none", "redirect_uris": ["https://a.example/cb"]},
                {"grant_types": ["implicit"], "redirect_uris": ["https://a.example/cb"]},
                {"grant_types": ["authorization_code"]},
                {"token_endpoint_auth_method": "private_key_jwt", "redirect_uris": ["https://a.example/cb"]},
                {"scopes": ["admin"], "redirect_uris": ["https://a.example/cb"]},
                {"id_token_signed_response_alg": "HS256", "redirect_uris": ["https://a.example/cb"]},
                {"unexpected": 1}):
        r = psc.http.post(base, json=bad)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", bad
    assert psc.http.delete(f"{base}/{created['client_id']}").status_code == 204
    assert psc.http.get(f"{base}/{created['client_id']}").status_code == 404
    assert psc.http.get("/sandbox/api/workspaces/no-such-ws/psc/clients").status_code == 404


def test_persona_picker_in_french_then_e_cps_login(psc) -> None:
    r = psc.authorize(login_hint=None, state="pick")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    page = r.text
    assert 'lang="fr"' in page and "Carte CPS" in page and "e-CPS" in page and "899700218896" in page
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    form = {k: unescape(v) for k, v in hidden.items()}
    form.update({"persona": "899700427885", "auth_mode": "MOBILE", "decision": "accept"})
    r = psc.http.post(psc.url("auth"), data=form)
    assert r.status_code == 303
    q = parse_qs(urlsplit(r.headers["location"]).query)
    assert q["state"] == ["pick"] and q["code"][0].startswith("psc-ac.")
    # refusing on the picker is access_denied
    form["decision"] = "deny"
    r = psc.http.post(psc.url("auth"), data=form)
    assert r.status_code == 303 and "error=access_denied" in r.headers["location"]


def test_e_cps_login_amr_and_auth_mode(psc) -> None:
    params = psc.auth_params(login_hint=None)
    verifier = params.pop("_verifier")
    form = {k: v for k, v in params.items() if v is not None}
    form.update({"persona": "99700427885", "auth_mode": "MOBILE", "decision": "accept"})  # bare RPPS
    r = psc.http.post(psc.url("auth"), data=form)
    code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
    tokens = psc.exchange(code, verifier).json()
    info = psc.userinfo(tokens["access_token"]).json()
    assert info["authMode"] == "MOBILE" and info["SubjectNameID"] == "899700427885"
    claims = json.loads(base64.urlsafe_b64decode(tokens["id_token"].split(".")[1] + "=="))
    assert claims["amr"] == ["swk", "pin", "mfa"]


def test_unknown_login_hint_shows_the_picker_with_a_message(psc) -> None:
    r = psc.authorize(login_hint="899700000000")
    assert r.status_code == 200 and "Aucun professionnel" in r.text


def test_demo_relying_party_round_trip(psc) -> None:
    r = psc.http.get("/psc/demo/login", params={"workspace": psc.workspace, "login_hint": "899700218896"})
    assert r.status_code == 302
    r = psc.http.get(r.headers["location"])  # authorize, login_hint skips the picker
    assert r.status_code == 302 and "/psc/demo/callback?" in r.headers["location"]
    r = psc.http.get(r.headers["location"].removeprefix(psc.sb.base_url))
    assert r.status_code == 200, r.text
    assert "Connexion réussie" in r.text and "SubjectRefPro" in r.text and "899700218896" in r.text
    assert psc.http.get("/psc/demo/callback?code=x&state=y").status_code == 400


def test_evidence_is_attributed_to_workspace_and_actor(psc) -> None:
    psc.tokens()
    ex = psc.sb.exchanges(workspace=psc.workspace, service="psc")
    ops = {e["operation"] for e in ex}
    assert {"psc.authorize", "psc.token"} <= ops
    token_ex = next(e for e in ex if e["operation"] == "psc.token")
    assert token_ex["actor"] == psc.client_id
    auth_ex = [e for e in ex if e["operation"] == "psc.authorize" and "899700218896" in e["actor"]]
    assert auth_ex


def test_each_workspace_is_a_realm_and_its_fetches_are_attributed(psc) -> None:
    meta = psc.http.get(psc.issuer + "/.well-known/wallet-openid-configuration").json()
    assert meta["issuer"] == psc.issuer != psc.sb.url("/psc/realms/esante-wallet")
    assert meta["jwks_uri"] == psc.issuer + "/protocol/openid-connect/certs"
    assert psc.http.get(meta["jwks_uri"]).json()["keys"]
    mine = {e["operation"] for e in psc.sb.exchanges(workspace=psc.workspace, service="psc")}
    assert {"psc.discovery", "psc.certs"} <= mine
    tokens = psc.tokens()
    claims = psc.http.post(psc.url("token/introspect"), data={"token": tokens["access_token"]},
                           auth=(psc.client_id, psc.secret_of(psc.workspace, psc.client_id))).json()
    assert claims["iss"] == psc.issuer
    r = psc.http.get(psc.sb.url("/psc/w/no-such-workspace/realms/esante-wallet/.well-known/"
                                "wallet-openid-configuration"))
    assert r.status_code == 404
