"""Fault kinds PSC supports (DESIGN "Fault injection"); each is acted on where it applies:
``authorize`` (:func:`psc.authorize.apply_faults`), ``token`` (:mod:`psc.token_endpoint`),
``userinfo``/``introspect``/``verify`` (:mod:`psc.verify`, :mod:`psc.userinfo`)."""

from __future__ import annotations

from sandbox.services import FaultKind

FAULT_KINDS: tuple[FaultKind, ...] = (
    FaultKind("login_denied", "The professional's authentication fails: the authorization request "
              "is answered error=access_denied.", ("authorize",)),
    FaultKind("consent_denied", "The professional refuses consent: error=access_denied.", ("authorize",)),
    FaultKind("token_expired_early", "A still-valid access token is refused as expired (userinfo "
              "401 invalid_token, verify API TokenError expired).", ("userinfo", "introspect", "verify")),
    FaultKind("invalid_grant", "The token endpoint refuses the grant: 400 invalid_grant.", ("token",)),
    FaultKind("server_error", "PSC fails: error=server_error on authorize, 500 server_error on "
              "token and userinfo.", ("authorize", "token", "userinfo")),
    FaultKind("slow_token", "The token endpoint answers after a delay.", ("token",),
              {"delay_ms": "delay in milliseconds (default 2000, at most 60000)"}),
    FaultKind("jwks_rotated", "The signing keys rotate just before the token is signed: the new "
              "kid is unknown to clients that cached the JWKS.", ("token",)),
)
