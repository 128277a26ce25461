"""``authorization_code`` grant (RFC 6749 §4.1.3–4.1.4, RFC 7636 §4.5–4.6, OIDC Core §3.1.3).

The code is single-use: a second presentation revokes the session it opened, so the tokens issued
from it stop working (RFC 6749 §4.1.2). ``redirect_uri`` must equal the one of the authorization
request; the PKCE verifier must hash to the challenge. On PostgreSQL the claim and the refresh
token's insert are one statement (:func:`psc.store.exchange_code_at_once`); on SQLite one short
transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from psc import rfc7636
from psc.claims import subject
from psc.clients import Client
from psc.errors import InvalidGrant, InvalidRequest
from psc.runtime import Psc
from psc.store import CodeGrant, Outcome, Session, add_refresh, consume_code, exchange_code_at_once, forget_refresh
from psc.tokens import new_refresh_token, refresh_expiry, token_set

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

    def exchange(conn: Connection) -> tuple[Outcome, CodeGrant | None, Session | None, str | None]:
        outcome, grant, session = consume_code(conn, code, client.client_id, now)
        if outcome is not Outcome.OK:
            return outcome, grant, session, None
        assert grant is not None and session is not None
        problem = _problem(form, grant)
        if problem is None and refresh is not None:
            add_refresh(conn, refresh, session, grant.scope, now, refresh_expiry(rt, now, session))
        return outcome, grant, session, problem

    if rt.ctx.db.is_postgresql:  # one round trip instead of BEGIN, claim, insert, COMMIT
        outcome, grant, session, issued = await exchange_code_at_once(
            rt.ctx.db, code, client.client_id, now, refresh, now + timedelta(seconds=rt.config.refresh_token_ttl))
        problem = _problem(form, grant) if grant is not None else None
        if issued and (problem is not None or outcome is not Outcome.OK):
            await rt.ctx.db.run(lambda c: forget_refresh(c, refresh))
    else:
        outcome, grant, session, problem = await rt.ctx.db.run(exchange)
    if outcome is Outcome.REUSED:
        rt.ctx.changes.bump()  # the session is revoked: cached session states must go
    if outcome is not Outcome.OK:
        raise InvalidGrant(_OUTCOME_TEXT[outcome])
    if problem is not None:
        raise InvalidGrant(problem)
    return await token_set(rt, client, sub=subject(session.persona_id), scope=grant.scope, now=now,
                           session=session, nonce=grant.nonce, refresh_token=refresh)
