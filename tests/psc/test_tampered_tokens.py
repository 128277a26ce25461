"""Tampered and unacceptable JWTs (RFC 8725 §2–3) presented to userinfo, to introspection and to
the verification API other services use."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from psc import runtime
from psc.verify import TokenError, TokenErrorReason, verify_access_token


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict, dict, str]:
    h, p, s = token.split(".")
    pad = lambda x: x + "=" * (-len(x) % 4)  # noqa: E731
    return json.loads(base64.urlsafe_b64decode(pad(h))), json.loads(base64.urlsafe_b64decode(pad(p))), s


def _unsigned(header: dict, claims: dict) -> str:
    return _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())


def _forge(psc, token: str, how: str) -> str:
    header, claims, sig = _parts(token)
    rt = runtime.get(psc.sb.ctx)
    if how == "alg_none":
        return _unsigned({**header, "alg": "none"}, claims) + "."
    if how == "hs_confusion":  # HMAC keyed with the provider's public RSA key (classic confusion)
        jwks = psc.http.get(psc.url("certs")).json()["keys"]
        rsa = next(k for k in jwks if k["kty"] == "RSA")
        secret = RSAKey.import_key(rsa).as_pem(private=False)
        head = {"alg": "HS256", "kid": rsa["kid"], "typ": "JWT"}
        signing_input = _unsigned(head, claims)
        return signing_input + "." + _b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())
    if how == "wrong_kid":
        return _unsigned({**header, "kid": "not-a-published-kid"}, claims) + "." + sig
    if how == "bad_signature":
        return _unsigned(header, {**claims, "scope": claims["scope"] + " extra"}) + "." + sig
    if how == "foreign_key":
        key = RSAKey.generate_key(2048, private=True)
        return jwt.encode({**header}, claims, key)
    if how == "expired":
        return psc.sb.call(rt.sign, {**claims, "iat": int(time.time()) - 900, "exp": int(time.time()) - 600},
                           header["alg"])
    if how == "wrong_audience":
        return psc.sb.call(rt.sign, {**claims, "aud": ["some-other-service"]}, header["alg"])
    if how == "wrong_issuer":
        return psc.sb.call(rt.sign, {**claims, "iss": "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet"},
                           header["alg"])
    raise AssertionError(how)


CASES = {
    "alg_none": TokenErrorReason.ALG_NOT_ALLOWED,
    "hs_confusion": TokenErrorReason.ALG_NOT_ALLOWED,
    "wrong_kid": TokenErrorReason.UNKNOWN_KID,
    "bad_signature": TokenErrorReason.BAD_SIGNATURE,
    "foreign_key": TokenErrorReason.BAD_SIGNATURE,
    "expired": TokenErrorReason.EXPIRED,
    "wrong_audience": TokenErrorReason.WRONG_AUDIENCE,
    "wrong_issuer": TokenErrorReason.WRONG_ISSUER,
}


@pytest.mark.parametrize("how", sorted(CASES))
def test_tampered_access_token_refused_everywhere(psc, how: str) -> None:
    good = psc.tokens()["access_token"]
    forged = _forge(psc, good, how)
    r = psc.userinfo(forged)
    assert r.status_code == 401, r.text
    challenge = r.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge
    assert CASES[how].value in challenge
    assert r.json()["error"] == "invalid_token"
    assert psc.introspect(forged).json() == {"active": False}
    with pytest.raises(TokenError) as err:
        psc.sb.call(verify_access_token, psc.sb.ctx, forged)
    assert err.value.reason is CASES[how]
    # the untouched token still works
    assert psc.userinfo(good).status_code == 200


def test_verify_api_returns_persona_workspace_and_checks_audience(psc) -> None:
    token = psc.tokens()["access_token"]
    vt = psc.sb.call(verify_access_token, psc.sb.ctx, token)
    assert vt.workspace == psc.workspace and vt.client_id == psc.client_id
    assert vt.professional["id"] == "899700218896" and vt.professional["kind"] == "professional"
    assert "openid" in vt.scopes and vt.sid and vt.auth_mode == "CARD"
    assert psc.sb.call(verify_access_token, psc.sb.ctx, token, audience=psc.client_id).sid == vt.sid
    with pytest.raises(TokenError) as err:
        psc.sb.call(verify_access_token, psc.sb.ctx, token, audience="dmp")
    assert err.value.reason is TokenErrorReason.WRONG_AUDIENCE


def test_id_token_is_not_an_access_token(psc) -> None:
    tokens = psc.tokens()
    r = psc.userinfo(tokens["id_token"])
    assert r.status_code == 401 and "wrong_type" in r.headers["www-authenticate"]
    with pytest.raises(TokenError) as err:
        psc.sb.call(verify_access_token, psc.sb.ctx, tokens["id_token"])
    assert err.value.reason is TokenErrorReason.WRONG_TYPE


@pytest.mark.parametrize("value", ["abc", "a.b", "a.b.c", "e30.e30.", "x" * 20000,
                                   _b64(b"[1]") + ".e30.sig"])
def test_malformed_bearer_values(psc, value: str) -> None:
    r = psc.http.get(psc.url("userinfo"), headers={"Authorization": f"Bearer {value}"})
    assert r.status_code in (400, 401) and "www-authenticate" in r.headers
    assert r.json()["error"] in ("invalid_token", "invalid_request")


def test_userinfo_without_or_with_wrong_scheme(psc) -> None:
    r = psc.http.get(psc.url("userinfo"))
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    r = psc.http.get(psc.url("userinfo"), headers={"Authorization": "Basic abc"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


def test_token_of_another_workspace_is_inactive_for_its_introspection(psc, sandbox) -> None:
    token = psc.tokens()["access_token"]
    default_realm = psc.sb.url("/psc/realms/esante-wallet/protocol/openid-connect/token/introspect")
    demo = ("sandbox-demo", psc.secret_of("default", "sandbox-demo"))
    r = psc.http.post(default_realm, data={"token": token}, auth=demo)
    assert r.status_code == 200 and r.json() == {"active": False}
    # and in the token's realm, the default workspace's client is unknown (a workspace is a boundary)
    r = psc.http.post(psc.url("token/introspect"), data={"token": token}, auth=demo)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_introspection_requires_client_authentication(psc) -> None:
    token = psc.tokens()["access_token"]
    r = psc.http.post(psc.url("token/introspect"), data={"token": token})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = psc.http.post(psc.url("token/introspect"), data={}, auth=(psc.client_id, psc.secret))
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
