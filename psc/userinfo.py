"""UserInfo endpoint (OIDC Core §5.3; RFC 6750 §2.1–2.2 for the bearer token): PSC claims as JSON,
or a signed JWT (``application/jwt``) for clients registered with
``userinfo_signed_response_alg`` (OIDC Core §5.3.2; FACTS §4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psc.claims import userinfo_claims
from psc.errors import BearerError, ServerError
from psc.runtime import Psc
from psc.verify import TokenError, VerifiedToken, verify_with_faults


@dataclass
class UserInfo:
    token: VerifiedToken
    claims: dict[str, Any]
    jwt: str | None = None  # set when the client asked for signed responses


def bearer_from(authorization: str | None, form: dict[str, str] | None) -> str:
    """The access token from ``Authorization: Bearer`` or the form body (one place only)."""
    header = None
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise BearerError("Authorization header must be 'Bearer <access token>'", error="invalid_request",
                              status=400)
        header = value.strip()
    body = (form or {}).get("access_token")
    if header and body:
        raise BearerError("access token sent twice (header and body)", error="invalid_request", status=400)
    token = header or body
    if not token:
        raise BearerError("access token required", error="invalid_request", status=401)
    return token


async def userinfo(rt: Psc, token: str) -> UserInfo:
    try:
        vt, fault = await verify_with_faults(rt, token, operation="userinfo", fault_kinds=("server_error",))
    except TokenError as exc:
        raise BearerError(f"{exc.reason}: {exc.description}") from None
    if fault is not None:
        raise ServerError("internal error (fault server_error injected)")
    if "openid" not in vt.scopes or vt.professional is None:
        raise BearerError("the token was not issued for OpenID Connect (openid scope, professional)",
                          error="insufficient_scope", status=403)
    pro = vt.professional
    org_ids = [a["organisation_id"] for a in pro.get("activities", [])]
    orgs = await rt.personas(vt.workspace, "organisation", org_ids) if org_ids else {}
    claims = userinfo_claims(pro, orgs, list(vt.scopes), vt.auth_mode or "CARD")
    client = await rt.clients.get(vt.client_id)
    if client is not None and client.userinfo_signed_response_alg:
        signed = {**claims, "iss": rt.issuer_for(vt.workspace), "aud": client.client_id}
        return UserInfo(vt, claims, await rt.sign(signed, client.userinfo_signed_response_alg))
    return UserInfo(vt, claims)
