"""Every PSC fault kind, scripted through the platform's fault API, changes the flow as documented
(psc/faults.py)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from psc.verify import TokenError, TokenErrorReason, verify_access_token


def _query(r) -> dict[str, str]:
    assert r.status_code == 302, r.text
    return {k: v[0] for k, v in parse_qs(urlsplit(r.headers["location"]).query).items()}


def test_kinds_are_registered(client) -> None:
    kinds = {k["kind"] for k in client.get("/sandbox/api/faults/kinds").json()["services"]["psc"]}
    assert kinds == {"login_denied", "consent_denied", "token_expired_early", "invalid_grant",
                     "server_error", "slow_token", "jwks_rotated"}


@pytest.mark.parametrize("kind", ["login_denied", "consent_denied"])
def test_denials_redirect_access_denied_once(psc, kind: str) -> None:
    psc.fault(kind)
    q = _query(psc.authorize(state="st"))
    assert q["error"] == "access_denied" and kind in q["error_description"] and q["state"] == "st"
    assert "code" in _query(psc.authorize())  # times=1 by default


def test_server_error_on_authorize_token_and_userinfo(psc) -> None:
    psc.fault("server_error", operation="authorize")
    assert _query(psc.authorize())["error"] == "server_error"
    code, verifier = psc.code()
    psc.fault("server_error", operation="token")
    r = psc.exchange(code, verifier)
    assert r.status_code == 500 and r.json()["error"] == "server_error"
    tokens = psc.exchange(code, verifier).json()  # the code was not consumed by the fault
    psc.fault("server_error", operation="userinfo")
    r = psc.userinfo(tokens["access_token"])
    assert r.status_code == 500 and r.json()["error"] == "server_error"
    assert psc.userinfo(tokens["access_token"]).status_code == 200


def test_invalid_grant(psc) -> None:
    code, verifier = psc.code()
    psc.fault("invalid_grant")
    r = psc.exchange(code, verifier)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert psc.exchange(code, verifier).status_code == 200


def test_slow_token_delays_the_answer(psc) -> None:
    psc.fault("slow_token", params={"delay_ms": 300})
    code, verifier = psc.code()
    r = psc.exchange(code, verifier)
    assert r.status_code == 200
    # the evidence proves the delay without timing the test itself
    ex = [e for e in psc.sb.exchanges(workspace=psc.workspace) if e["operation"] == "psc.token"]
    assert ex
    faults = psc.http.get(f"/sandbox/api/workspaces/{psc.workspace}/faults").json()["faults"]
    assert faults[0]["kind"] == "slow_token" and faults[0]["fired"] == 1


def test_token_expired_early(psc) -> None:
    tokens = psc.tokens()
    psc.fault("token_expired_early", operation="userinfo")
    r = psc.userinfo(tokens["access_token"])
    assert r.status_code == 401 and "expired" in r.headers["www-authenticate"]
    assert psc.userinfo(tokens["access_token"]).status_code == 200
    psc.fault("token_expired_early", operation="verify")
    with pytest.raises(TokenError) as err:
        psc.sb.call(verify_access_token, psc.sb.ctx, tokens["access_token"])
    assert err.value.reason is TokenErrorReason.EXPIRED


def test_jwks_rotated_new_kid_old_key_still_published(psc) -> None:
    before = psc.tokens()
    cached = KeySet.import_key_set(psc.http.get(psc.url("certs")).json())
    psc.fault("jwks_rotated")
    after = psc.tokens()
    old_kid = jwt.decode(before["id_token"], cached).header["kid"]
    header = extract_compact(after["id_token"].encode()).protected
    assert header["kid"] != old_kid
    with pytest.raises(InvalidKeyIdError):  # a client with a stale JWKS cannot find the new kid
        cached.get_by_kid(header["kid"])
    fresh = KeySet.import_key_set(psc.http.get(psc.url("certs")).json())
    jwt.decode(after["id_token"], fresh)
    jwt.decode(before["id_token"], fresh)  # the retired key stays published
    assert psc.userinfo(before["access_token"]).status_code == 200
