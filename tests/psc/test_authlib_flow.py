"""The full flow driven by a client library nobody here wrote (Authlib, httpx flavour) over real
HTTP on loopback, ID tokens verified with joserfc against the published JWKS."""

from __future__ import annotations

import pytest
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError as AuthlibOAuthError
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

CALLBACK = "http://127.0.0.1:8000/callback"
PERSONA = "899700218896"


@pytest.fixture(autouse=True)
def _insecure_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")


def _discover(psc) -> dict:
    r = psc.http.get(psc.issuer + "/.well-known/wallet-openid-configuration")
    assert r.status_code == 200
    return r.json()


def _login(psc, client: OAuth2Client, meta: dict, **extra: str) -> dict:
    verifier = generate_token(48)
    nonce = generate_token(16)
    uri, state = client.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier,
                                                 nonce=nonce, acr_values="eidas1", login_hint=PERSONA, **extra)
    r = psc.http.get(uri)  # the "browser": login_hint skips the picker
    assert r.status_code == 302, r.text
    token = client.fetch_token(meta["token_endpoint"], authorization_response=r.headers["location"],
                               code_verifier=verifier)
    token["_nonce"] = nonce
    return token


def _verify_id_token(psc, meta: dict, id_token: str, client_id: str, nonce: str, alg: str = "RS256") -> dict:
    jwks = KeySet.import_key_set(psc.http.get(meta["jwks_uri"]).json())
    tok = jwt.decode(id_token, jwks, algorithms=[alg])
    assert tok.header["kid"] and tok.header["alg"] == alg
    jwt.JWTClaimsRegistry(iss={"essential": True, "value": meta["issuer"]},
                          aud={"essential": True, "value": client_id},
                          nonce={"essential": True, "value": nonce},
                          sub={"essential": True}, exp={"essential": True}).validate(tok.claims)
    return tok.claims


def test_code_flow_pkce_userinfo_refresh_logout(psc) -> None:
    meta = _discover(psc)
    with OAuth2Client(psc.client_id, psc.secret, scope="openid scope_all profile email",
                      redirect_uri=CALLBACK, code_challenge_method="S256") as client:
        token = _login(psc, client, meta)
        claims = _verify_id_token(psc, meta, token["id_token"], psc.client_id, token["_nonce"])
        assert claims["sub"].startswith("f:") and claims["sub"].endswith(":" + PERSONA)
        assert claims["acr"] == "eidas1" and claims["idp"] == "PSC" and claims["amr"] == ["sc", "pin"]
        assert claims["azp"] == psc.client_id and claims["sid"] and claims["auth_time"] <= claims["iat"]
        assert token["expires_in"] == 120 and token["token_type"] == "Bearer"

        info = client.get(meta["userinfo_endpoint"]).json()
        assert info["sub"] == claims["sub"] and info["SubjectNameID"] == PERSONA
        activity = info["SubjectRefPro"]["exercices"][0]["activities"][0]
        assert activity["numeroFinessSite"] == "0B0193488"
        assert activity["raisonSocialeSite"] == "HOPITAL GENERIQUE FIN VARI"
        assert info["authMode"] == "CARD" and info["SubjectOrganization"] == "HOPITAL GENERIQUE FIN VARI"

        old_refresh = token["refresh_token"]
        fresh = client.refresh_token(meta["token_endpoint"], refresh_token=old_refresh)
        assert fresh["refresh_token"] != old_refresh and fresh["access_token"] != token["access_token"]
        assert client.get(meta["userinfo_endpoint"]).status_code == 200
        with pytest.raises((OAuth2Error, AuthlibOAuthError)) as err:
            client.refresh_token(meta["token_endpoint"], refresh_token=old_refresh)
        assert err.value.error == "invalid_grant"
        # replaying a rotated refresh token ends the session: the new access token is refused too
        r = psc.userinfo(fresh["access_token"])
        assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]

    # a second login, then RP-initiated logout revokes its tokens
    with OAuth2Client(psc.client_id, psc.secret, scope="openid scope_all",
                      redirect_uri=CALLBACK, code_challenge_method="S256") as client:
        token = _login(psc, client, meta)
        r = psc.http.get(meta["end_session_endpoint"], params={
            "id_token_hint": token["id_token"], "post_logout_redirect_uri": "http://127.0.0.1:8000/",
            "state": "bye"})
        assert r.status_code == 302 and r.headers["location"] == "http://127.0.0.1:8000/?state=bye"
        assert psc.userinfo(token["access_token"]).status_code == 401
        assert psc.introspect(token["access_token"]).json() == {"active": False}
        with pytest.raises((OAuth2Error, AuthlibOAuthError)):
            client.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])


def test_es256_client_with_post_auth_and_signed_userinfo(psc) -> None:
    meta = _discover(psc)
    reg = psc.add_client(client_id=f"es-{psc.workspace}", redirect_uris=[CALLBACK],
                         token_endpoint_auth_method="client_secret_post",
                         id_token_signed_response_alg="ES256", userinfo_signed_response_alg="ES256")
    with OAuth2Client(reg["client_id"], reg["client_secret"], scope="openid scope_all",
                      redirect_uri=CALLBACK, code_challenge_method="S256",
                      token_endpoint_auth_method="client_secret_post") as client:
        token = _login(psc, client, meta)
        _verify_id_token(psc, meta, token["id_token"], reg["client_id"], token["_nonce"], alg="ES256")
        r = client.get(meta["userinfo_endpoint"])
        assert r.headers["content-type"].startswith("application/jwt")
        jwks = KeySet.import_key_set(psc.http.get(meta["jwks_uri"]).json())
        signed = jwt.decode(r.text, jwks, algorithms=["ES256"])
        assert signed.claims["aud"] == reg["client_id"] and signed.claims["SubjectNameID"] == PERSONA


def test_private_key_jwt_client(psc) -> None:
    meta = _discover(psc)
    key = ECKey.generate_key("P-256", parameters={"kid": "rp-key-1", "alg": "ES256"}, private=True)
    public = {"keys": [key.as_dict(private=False)]}
    reg = psc.add_client(client_id=f"pkj-{psc.workspace}", redirect_uris=[CALLBACK],
                         token_endpoint_auth_method="private_key_jwt", jwks=public)
    assert reg["client_secret"] is None
    with OAuth2Client(reg["client_id"], key, scope="openid",
                      redirect_uri=CALLBACK, code_challenge_method="S256",
                      token_endpoint_auth_method=PrivateKeyJWT(meta["token_endpoint"], alg="ES256")) as client:
        token = _login(psc, client, meta)
        _verify_id_token(psc, meta, token["id_token"], reg["client_id"], token["_nonce"])


def test_client_credentials_and_introspection_by_resource_server(psc) -> None:
    meta = _discover(psc)
    machine = psc.add_client(client_id=f"m2m-{psc.workspace}", grant_types=["client_credentials"],
                             scopes=["scope_all"])
    rs = psc.add_client(client_id=f"rs-{psc.workspace}", grant_types=["client_credentials"])
    with OAuth2Client(machine["client_id"], machine["client_secret"], scope="scope_all") as client:
        token = client.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    assert "refresh_token" not in token and "id_token" not in token
    r = psc.http.post(meta["introspection_endpoint"], data={"token": token["access_token"]},
                      auth=(rs["client_id"], rs["client_secret"]))
    body = r.json()
    assert r.status_code == 200 and body["active"] is True
    assert body["client_id"] == machine["client_id"] and body["workspace"] == psc.workspace
    assert body["sub"] == f"service-account-{machine['client_id']}" and body["typ"] == "Bearer"
    # a client_credentials token is not for userinfo
    assert psc.userinfo(token["access_token"]).status_code == 403


def test_introspection_of_a_professional_token_carries_psc_claims(psc) -> None:
    tokens = psc.tokens()
    body = psc.introspect(tokens["access_token"]).json()
    assert body["active"] is True
    for claim in ("scope", "client_id", "azp", "session_state", "sid", "authMode", "otherIds",
                  "preferred_username", "typ", "exp", "iat", "sub", "acr"):
        assert claim in body, claim
    assert body["preferred_username"] == PERSONA and body["otherIds"][0]["origine"] == "RPPS"
    refresh = psc.introspect(tokens["refresh_token"]).json()
    assert refresh["active"] is True and refresh["sid"] == body["sid"]
