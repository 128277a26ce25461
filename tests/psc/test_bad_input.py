"""Bad input gets a clear protocol error (issue #3 list): RFC 6749 §4.1.2.1 at the authorization
endpoint (error page before the redirect URI is trusted, redirect after), §5.2 at the token
endpoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select, update

from psc.models import PscCodeRow, PscRefreshRow
from psc.store import digest, revoke_session

CALLBACK = "http://127.0.0.1:8000/callback"


def _redirect_error(r) -> dict[str, str]:
    assert r.status_code == 302, r.text
    assert r.headers["location"].startswith(CALLBACK)
    return {k: v[0] for k, v in parse_qs(urlsplit(r.headers["location"]).query).items()}


def _token_error(r, status: int, error: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == error and body["error_description"]
    assert r.headers["cache-control"] == "no-store"
    return body


def _refresh_tokens(psc) -> int:
    """Refresh tokens stored for the test's workspace: a refused exchange leaves none behind (on
    PostgreSQL the claim inserts one in the same statement, then forgets it)."""
    query = select(func.count()).select_from(PscRefreshRow).where(PscRefreshRow.workspace == psc.workspace)
    return psc.sb.call(lambda: psc.sb.ctx.db.run(lambda c: c.execute(query).scalar_one(), write=False))


# --- authorization endpoint: never redirect to an untrusted URI ---------------------------------

def test_unknown_client_gets_an_error_page_not_a_redirect(psc) -> None:
    r = psc.authorize(client_id="no-such-client")
    assert r.status_code == 400 and "location" not in r.headers
    assert "text/html" in r.headers["content-type"] and "client inconnu" in r.text


def test_unregistered_redirect_uri_gets_an_error_page(psc) -> None:
    for uri in ("https://evil.example/callback", CALLBACK + "/", CALLBACK + "?x=1", "http://127.0.0.1:8000/CALLBACK"):
        r = psc.authorize(redirect_uri=uri)
        assert r.status_code == 400 and "location" not in r.headers, uri
        assert "redirect_uri" in r.text


def test_missing_redirect_uri_gets_an_error_page(psc) -> None:
    r = psc.authorize(redirect_uri=None)
    assert r.status_code == 400 and "location" not in r.headers


def test_unsupported_response_type_is_redirected(psc) -> None:
    for rt in ("token", "id_token", "code id_token"):
        q = _redirect_error(psc.authorize(response_type=rt, state="s1"))
        assert q["error"] == "unsupported_response_type" and q["state"] == "s1"
        assert q["iss"] == psc.issuer


def test_missing_openid_scope(psc) -> None:
    q = _redirect_error(psc.authorize(scope="profile email"))
    assert q["error"] == "invalid_scope" and "openid" in q["error_description"]


def test_unknown_acr_refused(psc) -> None:
    q = _redirect_error(psc.authorize(acr_values="eidas3 substantial"))
    assert q["error"] == "invalid_request" and "acr_values" in q["error_description"]


def test_pkce_plain_and_missing_challenge_refused(psc) -> None:
    q = _redirect_error(psc.authorize(code_challenge_method="plain"))
    assert q["error"] == "invalid_request" and "S256" in q["error_description"]
    q = _redirect_error(psc.authorize(code_challenge=None, code_challenge_method=None))
    assert q["error"] == "invalid_request" and "PKCE" in q["error_description"]
    q = _redirect_error(psc.authorize(code_challenge="too-short"))
    assert q["error"] == "invalid_request"


def test_repeated_and_oversized_parameters(psc) -> None:
    r = psc.http.get(psc.url("auth") + f"?client_id={psc.client_id}&client_id=other")
    assert r.status_code == 400 and "repeated" in r.text
    r = psc.http.get(psc.url("auth"), params={"client_id": psc.client_id, "x": "a" * 9000})
    assert r.status_code == 400 and "location" not in r.headers
    q = _redirect_error(psc.authorize(state="s" * 3000))
    assert q["error"] == "invalid_request"


def test_prompt_none_and_request_objects(psc) -> None:
    assert _redirect_error(psc.authorize(prompt="none"))["error"] == "login_required"
    assert _redirect_error(psc.authorize(request="eyJ.x.y"))["error"] == "request_not_supported"
    assert _redirect_error(psc.authorize(response_mode="fragment"))["error"] == "invalid_request"


# --- token endpoint ------------------------------------------------------------------------------

def test_unknown_client_and_wrong_secret(psc) -> None:
    code, verifier = psc.code()
    r = psc.exchange(code, verifier, auth=("no-such-client", "x"))
    _token_error(r, 401, "invalid_client")
    assert r.headers["www-authenticate"].startswith("Basic realm=")
    r = psc.exchange(code, verifier, auth=(psc.client_id, "wrong-secret"))
    _token_error(r, 401, "invalid_client")
    # the code survived the failed attempts (client authentication happens first)
    assert psc.exchange(code, verifier).status_code == 200


def test_no_client_authentication_and_two_methods(psc) -> None:
    code, verifier = psc.code()
    r = psc.http.post(psc.url("token"), data={"grant_type": "authorization_code", "code": code,
                                              "redirect_uri": CALLBACK, "code_verifier": verifier,
                                              "client_id": psc.client_id})
    _token_error(r, 401, "invalid_client")
    r = psc.http.post(psc.url("token"), data={"grant_type": "authorization_code", "code": code,
                                              "client_secret": psc.secret},
                      auth=(psc.client_id, psc.secret))
    _token_error(r, 400, "invalid_request")
    # a secret client may not authenticate with a client assertion instead
    r = psc.http.post(psc.url("token"), data={
        "grant_type": "authorization_code", "code": code, "client_id": psc.client_id,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."})
    _token_error(r, 401, "invalid_client")
    # like PSC's Keycloak, the secret is accepted from the body too (client_secret_post)
    r = psc.http.post(psc.url("token"), data={"grant_type": "authorization_code", "code": code,
                                              "redirect_uri": CALLBACK, "code_verifier": verifier,
                                              "client_id": psc.client_id,
                                              "client_secret": psc.secret})
    assert r.status_code == 200, r.text


def test_missing_and_wrong_pkce_verifier(psc) -> None:
    code, _ = psc.code()
    body = _token_error(psc.exchange(code, None), 400, "invalid_grant")
    assert "code_verifier" in body["error_description"]
    code, _ = psc.code()
    body = _token_error(psc.exchange(code, "x" * 50), 400, "invalid_grant")
    assert "PKCE" in body["error_description"]
    assert _refresh_tokens(psc) == 0


def test_redirect_uri_mismatch_at_token(psc) -> None:
    code, verifier = psc.code()
    r = psc.exchange(code, verifier, redirect_uri="http://localhost:8000/callback")
    _token_error(r, 400, "invalid_grant")
    assert _refresh_tokens(psc) == 0
    # the code was used up by the refused request
    assert "already used" in _token_error(psc.exchange(code, verifier), 400, "invalid_grant")["error_description"]


def test_reused_code_revokes_the_tokens_it_issued(psc) -> None:
    code, verifier = psc.code()
    first = psc.exchange(code, verifier)
    assert first.status_code == 200
    tokens = first.json()
    assert psc.userinfo(tokens["access_token"]).status_code == 200
    body = _token_error(psc.exchange(code, verifier), 400, "invalid_grant")
    assert "already used" in body["error_description"]
    r = psc.userinfo(tokens["access_token"])
    assert r.status_code == 401 and "revoked" in r.headers["www-authenticate"]
    assert psc.introspect(tokens["access_token"]).json() == {"active": False}
    r = psc.http.post(psc.url("token"), data={"grant_type": "refresh_token",
                                              "refresh_token": tokens["refresh_token"]},
                      auth=(psc.client_id, psc.secret))
    _token_error(r, 400, "invalid_grant")


def test_expired_code(psc) -> None:
    code, verifier = psc.code()

    async def expire() -> None:
        async with psc.sb.ctx.db.session() as s:
            await s.execute(update(PscCodeRow).where(PscCodeRow.code_hash == digest(code))
                            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))

    psc.sb.call(expire)
    body = _token_error(psc.exchange(code, verifier), 400, "invalid_grant")
    assert "expired" in body["error_description"]
    assert _refresh_tokens(psc) == 0


def test_code_of_a_revoked_session(psc) -> None:
    code, verifier = psc.code()
    sid = psc.sb.call(lambda: psc.sb.ctx.db.run(lambda c: c.execute(
        select(PscCodeRow.sid).where(PscCodeRow.code_hash == digest(code))).scalar_one()))
    psc.sb.call(lambda: psc.sb.ctx.db.run(lambda c: revoke_session(c, sid, "logout", datetime.now(UTC))))
    body = _token_error(psc.exchange(code, verifier), 400, "invalid_grant")
    assert "revoked" in body["error_description"]
    assert _refresh_tokens(psc) == 0
    good, verifier = psc.code()  # a good exchange stores exactly one
    assert psc.exchange(good, verifier).status_code == 200
    assert _refresh_tokens(psc) == 1


def test_code_of_another_client_and_unknown_code(psc) -> None:
    other = psc.add_client(client_id=f"other-{psc.workspace}", redirect_uris=[CALLBACK])
    code, verifier = psc.code()
    r = psc.exchange(code, verifier, auth=(other["client_id"], other["client_secret"]))
    _token_error(r, 400, "invalid_grant")
    _token_error(psc.exchange("psc-ac.nope", verifier), 400, "invalid_grant")


def test_grant_type_errors(psc) -> None:
    auth = (psc.client_id, psc.secret)
    _token_error(psc.http.post(psc.url("token"), data={"code": "x"}, auth=auth), 400, "invalid_request")
    _token_error(psc.http.post(psc.url("token"), data={"grant_type": "password", "username": "u"}, auth=auth),
                 400, "unsupported_grant_type")
    code_only = psc.add_client(client_id=f"co-{psc.workspace}", redirect_uris=[CALLBACK],
                               grant_types=["authorization_code"])
    _token_error(psc.http.post(psc.url("token"), data={"grant_type": "client_credentials"},
                               auth=(code_only["client_id"], code_only["client_secret"])),
                 400, "unauthorized_client")


def test_malformed_and_oversized_token_requests(psc) -> None:
    auth = (psc.client_id, psc.secret)
    r = psc.http.post(psc.url("token"), json={"grant_type": "client_credentials"}, auth=auth)
    _token_error(r, 400, "invalid_request")
    r = psc.http.post(psc.url("token"), content=b"grant_type=\xff\xfe",
                      headers={"content-type": "application/x-www-form-urlencoded"}, auth=auth)
    _token_error(r, 400, "invalid_request")
    r = psc.http.post(psc.url("token"), content=b"grant_type=client_credentials&grant_type=refresh_token",
                      headers={"content-type": "application/x-www-form-urlencoded"}, auth=auth)
    _token_error(r, 400, "invalid_request")
    r = psc.http.post(psc.url("token"), data={"grant_type": "client_credentials", "pad": "x" * 70_000}, auth=auth)
    _token_error(r, 400, "invalid_request")
    r = psc.http.post(psc.url("token"), data={"grant_type": "client_credentials"},
                      headers={"Authorization": "Basic !!!notbase64"})
    _token_error(r, 401, "invalid_client")
    r = psc.http.get(psc.url("token"))
    assert r.status_code == 405 and r.json()["error"] == "invalid_request"
    r = psc.http.get("/psc/realms/esante-wallet/nothing-here")
    assert r.status_code == 404 and r.json()["error"] == "invalid_request"


def test_refresh_with_widened_scope_keeps_the_token_usable(psc) -> None:
    tokens = psc.tokens(scope="openid profile")
    auth = (psc.client_id, psc.secret)
    r = psc.http.post(psc.url("token"), data={"grant_type": "refresh_token", "scope": "openid scope_all",
                                              "refresh_token": tokens["refresh_token"]}, auth=auth)
    _token_error(r, 400, "invalid_scope")
    r = psc.http.post(psc.url("token"), data={"grant_type": "refresh_token",
                                              "refresh_token": tokens["refresh_token"]}, auth=auth)
    assert r.status_code == 200 and r.json()["scope"] == "openid profile"


def test_logout_refuses_unregistered_redirect_and_bad_hint(psc) -> None:
    tokens = psc.tokens()
    r = psc.http.get(psc.url("logout"), params={"id_token_hint": tokens["id_token"],
                                                "post_logout_redirect_uri": "https://evil.example/"})
    assert r.status_code == 400 and "location" not in r.headers
    r = psc.http.get(psc.url("logout"), params={"id_token_hint": tokens["access_token"]})
    assert r.status_code == 400 and "ID token" in r.text
    r = psc.http.get(psc.url("logout"), params={"id_token_hint": tokens["id_token"][:-4] + "AAAA"})
    assert r.status_code == 400
    assert psc.userinfo(tokens["access_token"]).status_code == 200  # nothing was revoked
    r = psc.http.get(psc.url("logout"), params={"id_token_hint": tokens["id_token"]})
    assert r.status_code == 200 and "session Pro Santé Connect est terminée" in r.text
    assert psc.userinfo(tokens["access_token"]).status_code == 401
