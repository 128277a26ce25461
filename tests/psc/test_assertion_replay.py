"""A private_key_jwt client assertion is single-use across workers and nodes (RFC 7523 §3 item 7):
the used ``jti`` lives in the database, not in one process's memory."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from joserfc import jwt
from joserfc.jwk import ECKey

from psc.store import first_use_of_assertion
from sandbox.db import Database


def _assertion(key: ECKey, client_id: str, aud: str, jti: str) -> str:
    now = int(time.time())
    return jwt.encode({"alg": "ES256", "kid": "k1"}, {"iss": client_id, "sub": client_id, "aud": aud,
                                                      "jti": jti, "iat": now, "exp": now + 60}, key)


def test_replayed_assertion_refused(psc) -> None:
    key = ECKey.generate_key("P-256", parameters={"kid": "k1", "alg": "ES256"}, private=True)
    client = psc.add_client(client_id=f"pkj-cc-{psc.workspace}", grant_types=["client_credentials"],
                            token_endpoint_auth_method="private_key_jwt",
                            jwks={"keys": [key.as_dict(private=False)]})["client_id"]
    token_url = psc.url("token")
    assertion = _assertion(key, client, token_url, uuid.uuid4().hex)
    form = {"grant_type": "client_credentials", "client_id": client, "client_assertion": assertion,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
    assert psc.http.post(token_url, data=form).status_code == 200
    r = psc.http.post(token_url, data=form)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client" and "already used" in r.text
    fresh = {**form, "client_assertion": _assertion(key, client, token_url, uuid.uuid4().hex)}
    assert psc.http.post(token_url, data=fresh).status_code == 200


def test_the_used_jti_is_seen_by_another_process_on_the_same_database(psc) -> None:
    """A second Database on the same URL stands for another worker or node."""
    until = datetime.now(UTC) + timedelta(minutes=1)
    jti = uuid.uuid4().hex
    assert psc.sb.call(first_use_of_assertion, psc.sb.ctx.db, psc.workspace, "c1", jti, until)
    other = Database(psc.sb.ctx.db.url)
    try:
        assert psc.sb.call(first_use_of_assertion, other, psc.workspace, "c1", jti, until) is False
        assert psc.sb.call(first_use_of_assertion, other, psc.workspace, "c2", jti, until) is True
    finally:
        psc.sb.call(other.dispose)
