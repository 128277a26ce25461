"""Minting the token set: access token and ID token as JWS (RFC 7515) signed with the client's
algorithm, opaque rotating refresh token (FACTS §4, appendix A.6).

Access token claims follow the PSC/Keycloak shape (``typ`` ``Bearer``, ``azp``, ``scope``, ``sid``,
``session_state``, ``acr``, ``preferred_username``) plus ``workspace``, which tells other services
which sandbox workspace the request is for. ID tokens carry OIDC Core §2 claims plus PSC's ``idp``
and ``typ`` ``ID`` (so an ID token is never accepted as an access token).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from psc.claims import idnps_of
from psc.clients import Client
from psc.runtime import Psc, half_hash
from psc.scopes import AUTH_MEANS, AuthMode
from psc.store import Session, new_token


def _ts(dt: datetime) -> int:
    return int(dt.timestamp())


def access_claims(rt: Psc, client: Client, *, sub: str, scope: str, now: datetime,
                  session: Session | None, ttl: int) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "exp": _ts(now) + ttl, "iat": _ts(now), "jti": secrets.token_urlsafe(12),
        "iss": rt.issuer_for(client.workspace),
        "aud": [client.client_id, *client.audiences], "sub": sub, "typ": "Bearer",
        "azp": client.client_id, "scope": scope, "workspace": client.workspace,
    }
    if session is not None:
        idnps = idnps_of(sub) or ""
        claims.update({"sid": session.sid, "session_state": session.sid, "acr": session.acr,
                       "auth_time": _ts(session.auth_time), "preferred_username": idnps,
                       "authMode": session.auth_mode, "idp": "PSC"})
    return claims


def id_token_claims(rt: Psc, client: Client, *, sub: str, session: Session, nonce: str | None,
                    access_token: str, now: datetime) -> dict[str, Any]:
    means = AUTH_MEANS[AuthMode(session.auth_mode)]
    claims: dict[str, Any] = {
        "exp": _ts(now) + rt.config.id_token_ttl, "iat": _ts(now), "auth_time": _ts(session.auth_time),
        "jti": secrets.token_urlsafe(12), "iss": rt.issuer_for(client.workspace), "aud": client.client_id,
        "sub": sub,
        "typ": "ID", "azp": client.client_id, "sid": session.sid, "session_state": session.sid,
        "acr": session.acr, "amr": list(means.amr), "idp": "PSC", "at_hash": half_hash(access_token),
        "preferred_username": idnps_of(sub) or "", "SubjectNameID": idnps_of(sub) or "",
    }
    if nonce:
        claims["nonce"] = nonce
    return claims


async def token_set(rt: Psc, client: Client, *, sub: str, scope: str, now: datetime,
                    session: Session | None, nonce: str | None = None,
                    refresh_token: str | None = None) -> dict[str, Any]:
    """The token response body (RFC 6749 §5.1, OIDC Core §3.1.3.3)."""
    alg = client.signing_alg(rt.config.default_alg)
    ttl = rt.config.access_token_ttl
    access = await rt.sign(access_claims(rt, client, sub=sub, scope=scope, now=now, session=session,
                                         ttl=ttl), alg)
    body: dict[str, Any] = {"access_token": access, "token_type": "Bearer", "expires_in": ttl,
                            "scope": scope, "not-before-policy": 0}
    if session is not None and "openid" in scope.split():
        body["id_token"] = await rt.sign(id_token_claims(rt, client, sub=sub, session=session, nonce=nonce,
                                                         access_token=access, now=now), alg)
        body["session_state"] = session.sid
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
        body["refresh_expires_in"] = rt.config.refresh_token_ttl
    return body


def refresh_expiry(rt: Psc, now: datetime, session: Session) -> datetime:
    return min(now + timedelta(seconds=rt.config.refresh_token_ttl), session.expires_at)


def new_refresh_token() -> str:
    return new_token("psc-rt")
