"""Authorization endpoint, code flow (RFC 6749 §4.1.1–4.1.2, OIDC Core §3.1.2, RFC 7636 §4.3,
RFC 9207 ``iss`` in the response; FACTS appendix A.6).

Order of checks follows RFC 6749 §4.1.2.1: the client and its exact ``redirect_uri`` first — any
error there is shown to the user, never redirected; every later error is redirected to the client
with ``error``, ``error_description``, ``state`` and ``iss``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from psc import rfc7636
from psc.clients import Client
from psc.errors import (
    AccessDenied,
    AuthorizeError,
    InvalidRequest,
    InvalidScope,
    LoginRequired,
    OAuthError,
    RequestNotSupported,
    RequestUriNotSupported,
    ServerError,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from psc.runtime import Psc
from psc.scopes import ACR_VALUES, AuthMode, parse_scope
from psc.store import CodeGrant, Session, create_authorization, new_token

#: parameters the picker form carries back (the request is validated again on POST)
FORWARDED = ("response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
             "code_challenge_method", "acr_values", "login_hint", "prompt", "response_mode", "max_age",
             "ui_locales", "claims_locales")
MAX_STATE = 2048


@dataclass(frozen=True)
class AuthorizationRequest:
    client: Client
    redirect_uri: str
    scopes: list[str]
    state: str | None
    nonce: str | None
    code_challenge: str | None
    acr: str
    login_hint: str | None
    params: dict[str, str]

    def forwarded(self) -> dict[str, str]:
        return {k: v for k, v in self.params.items() if k in FORWARDED}


def redirect_with(redirect_uri: str, params: dict[str, str | None]) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{query}"


def error_redirect(rt: Psc, exc: AuthorizeError, workspace: str | None = None) -> str:
    """``workspace``: the client's (its issuer is the ``iss`` parameter, RFC 9207)."""
    assert exc.redirect_uri is not None
    return redirect_with(exc.redirect_uri, {"error": exc.error.error,
                                            "error_description": exc.error.description,
                                            "state": exc.state, "iss": rt.issuer_for(workspace)})


async def validate(rt: Psc, params: dict[str, str]) -> AuthorizationRequest:
    """Check an authorization request; raises :class:`AuthorizeError`."""
    client_id = params.get("client_id")
    if not client_id:
        raise AuthorizeError(InvalidRequest("client_id manquant (client_id is required)"))
    client = await rt.clients.get(client_id)
    if client is None:
        raise AuthorizeError(InvalidRequest(f"client inconnu : {client_id[:128]!r} (unknown client)"))
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri:
        raise AuthorizeError(InvalidRequest("redirect_uri manquant (required by OpenID Connect)"))
    if not client.redirect_uri_registered(redirect_uri, rt.ctx.settings.base_url):
        raise AuthorizeError(InvalidRequest(
            f"redirect_uri non enregistrée pour ce client : {redirect_uri[:300]!r} "
            "(exact match with a registered redirect URI is required)"))
    state = params.get("state")

    def fail(error: OAuthError) -> AuthorizeError:
        return AuthorizeError(error, redirect_uri=redirect_uri, state=state)

    if state is not None and len(state) > MAX_STATE:
        raise fail(InvalidRequest(f"state longer than {MAX_STATE} characters"))
    if "request" in params:
        raise fail(RequestNotSupported("request objects are not supported"))
    if "request_uri" in params:
        raise fail(RequestUriNotSupported("request_uri is not supported"))
    response_type = params.get("response_type")
    if not response_type:
        raise fail(InvalidRequest("response_type manquant"))
    if response_type != "code":
        raise fail(UnsupportedResponseType(f"response_type {response_type!r} non supporté : seul 'code' l'est"))
    if params.get("response_mode", "query") != "query":
        raise fail(InvalidRequest("response_mode non supporté : seul 'query' l'est"))
    if "authorization_code" not in client.grant_types:
        raise fail(UnauthorizedClient("client not allowed to use the authorization_code grant"))
    scopes = parse_scope(params.get("scope"))
    if "openid" not in scopes:
        raise fail(InvalidScope("le scope 'openid' est obligatoire (OpenID Connect)"))
    unknown = [s for s in scopes if s not in client.scopes]
    if unknown:
        raise fail(InvalidScope(f"scope non autorisé pour ce client : {' '.join(unknown)}"))
    acr_values = params.get("acr_values", "eidas1").split()
    acr = next((a for a in acr_values if a in ACR_VALUES), None)
    if acr is None:
        raise fail(InvalidRequest(f"acr_values non supporté : {' '.join(acr_values)} (seul 'eidas1' l'est)"))
    problem = rfc7636.check_challenge(params.get("code_challenge"), params.get("code_challenge_method"))
    if problem:
        raise fail(InvalidRequest(problem))
    if client.require_pkce and not params.get("code_challenge"):
        raise fail(InvalidRequest("PKCE obligatoire : code_challenge (S256) manquant"))
    nonce = params.get("nonce")
    if nonce is not None and len(nonce) > MAX_STATE:
        raise fail(InvalidRequest(f"nonce longer than {MAX_STATE} characters"))
    if "none" in params.get("prompt", "").split():
        raise fail(LoginRequired("prompt=none : aucune session PSC active (no single sign-on here)"))
    return AuthorizationRequest(client, redirect_uri, scopes, state, nonce, params.get("code_challenge"),
                                acr, params.get("login_hint"), params)


async def resolve_hint(rt: Psc, workspace: str, hint: str) -> dict[str, Any] | None:
    """``login_hint`` = IDNPS (``8`` + RPPS, or an ADELI/EDIT id) or the bare RPPS."""
    for candidate in (hint, "8" + hint if hint.isdigit() and len(hint) == 11 else None):
        if candidate:
            pro = await rt.professional(workspace, candidate)
            if pro is not None:
                return pro
    return None


async def apply_faults(rt: Psc, areq: AuthorizationRequest) -> None:
    """Scripted ``login_denied``, ``consent_denied`` and ``server_error`` at the login step."""
    fault = await rt.ctx.faults.take(areq.client.workspace, "psc", "authorize",
                              ("login_denied", "consent_denied", "server_error"))
    if fault is None:
        return
    error: OAuthError = {
        "login_denied": AccessDenied("authentification refusée : échec de l'authentification du "
                                     "professionnel (fault login_denied)"),
        "consent_denied": AccessDenied("le professionnel a refusé de donner son consentement "
                                       "(fault consent_denied)"),
    }.get(fault.kind) or ServerError("erreur interne simulée (fault server_error)")
    raise AuthorizeError(error, redirect_uri=areq.redirect_uri, state=areq.state)


async def issue_code(rt: Psc, areq: AuthorizationRequest, persona_id: str, mode: AuthMode) -> str:
    """Open a session for the professional and return the client redirect carrying the code."""
    now = datetime.now(UTC)
    session = Session(sid=secrets.token_hex(16), workspace=areq.client.workspace,
                      client_id=areq.client.client_id, persona_id=persona_id, auth_mode=mode.value,
                      acr=areq.acr, auth_time=now.replace(microsecond=0),
                      expires_at=now + timedelta(seconds=rt.config.refresh_token_ttl),
                      revoked_at=None, revoked_reason="")
    code = new_token("psc-ac")
    grant = CodeGrant(areq.client.workspace, session.sid, areq.client.client_id, areq.redirect_uri,
                      " ".join(areq.scopes), areq.nonce, areq.code_challenge,
                      now + timedelta(seconds=rt.config.code_ttl))
    await rt.ctx.db.run(lambda c: create_authorization(c, session, code, grant))
    return redirect_with(areq.redirect_uri, {"code": code, "state": areq.state,
                                             "iss": rt.issuer_for(areq.client.workspace)})
