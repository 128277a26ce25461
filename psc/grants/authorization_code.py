"""``authorization_code`` grant (RFC 6749 §4.1.3–4.1.4, RFC 7636 §4.5–4.6, OIDC Core §3.1.3).

The code is single-use: a second presentation revokes the session it opened, so the tokens issued
from it stop working (RFC 6749 §4.1.2). ``redirect_uri`` must equal the one of the authorization
request; the PKCE verifier must hash to the challenge. The claim, the checks and the refresh token's
insert are one atomic step of the store (:func:`psc.store.exchange_code`, which picks how).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from psc import rfc7636
from psc.claims import subject
from psc.clients import Client
from psc.errors import InvalidGrant, InvalidRequest
from psc.runtime import Psc
from psc.store import CodeGrant, Outcome, exchange_code
from psc.tokens import new_refresh_token, token_set

GRANT_TYPE = "authorization_code"

_OUTCOME_TEXT = {
    Outcome.UNKNOWN: "authorization code unknown",
    Outcome.WRONG_CLIENT: "authorization code was issued to another client",
    Outcome.EXPIRED: "authorization code expired",
    Outcome.REUSED: "authorization code already used; the tokens it issued are revoked",
    Outcome.REVOKED: "the session of this authorization code was revoked",
}


def _problem(form: Mapping[str, str], grant: CodeGrant) -> str | None:
    """What is wrong with the token request for this code (RFC 6749 §4.1.3, RFC 7636 §4.6)."""
    if form.get("redirect_uri") != grant.redirect_uri:
        return "redirect_uri does not match the authorization request"
    if grant.code_challenge and not form.get("code_verifier"):
        return "code_verifier is required (PKCE)"
    if grant.code_challenge and not rfc7636.verifier_matches(form["code_verifier"], grant.code_challenge):
        return "code_verifier does not match the code_challenge (PKCE S256)"
    if not grant.code_challenge and form.get("code_verifier"):
        return "code_verifier sent but the authorization request had no code_challenge"
    return None


async def handle(rt: Psc, client: Client, form: Mapping[str, str], now: datetime) -> dict[str, Any]:
    code = form.get("code")
    if not code:
        raise InvalidRequest("code is required")
    refresh = new_refresh_token() if "refresh_token" in client.grant_types else None
    outcome, grant, session, problem = await exchange_code(
        rt.ctx.db, code, client.client_id, now, refresh, timedelta(seconds=rt.config.refresh_token_ttl),
        lambda g: _problem(form, g))
    if outcome is not Outcome.OK:
        raise InvalidGrant(_OUTCOME_TEXT[outcome])
    if problem is not None:
        raise InvalidGrant(problem)
    assert grant is not None and session is not None  # Outcome.OK
    return await token_set(rt, client, sub=subject(session.persona_id), scope=grant.scope, now=now,
                           session=session, nonce=grant.nonce, refresh_token=refresh)
