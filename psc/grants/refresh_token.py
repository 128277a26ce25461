"""``refresh_token`` grant with rotation (RFC 6749 §6; RFC 9700 §4.14.2): each use returns a new
refresh token; presenting a used one again revokes the whole session."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from psc.claims import subject
from psc.clients import Client
from psc.errors import InvalidGrant, InvalidRequest, InvalidScope
from psc.runtime import Psc
from psc.scopes import parse_scope
from psc.store import Outcome, RefreshGrant, add_refresh, consume_refresh
from psc.tokens import new_refresh_token, refresh_expiry, token_set

GRANT_TYPE = "refresh_token"

_OUTCOME_TEXT = {
    Outcome.UNKNOWN: "refresh token unknown",
    Outcome.WRONG_CLIENT: "refresh token was issued to another client",
    Outcome.EXPIRED: "refresh token expired",
    Outcome.REUSED: "refresh token already used (rotation); the session is revoked",
    Outcome.REVOKED: "the session of this refresh token was revoked",
}


async def handle(rt: Psc, client: Client, form: Mapping[str, str], now: datetime) -> dict[str, Any]:
    token = form.get("refresh_token")
    if not token:
        raise InvalidRequest("refresh_token is required")
    asked = parse_scope(form.get("scope"))
    refresh = new_refresh_token()

    def rotate(conn: Connection) -> tuple[Outcome, RefreshGrant | None, list[str]]:
        outcome, grant = consume_refresh(conn, token, client.client_id, now)
        if outcome is not Outcome.OK:
            return outcome, grant, []
        assert grant is not None
        granted = grant.scope.split()
        narrowed = asked or granted
        if any(x not in granted for x in narrowed):
            # raised inside the transaction: the refresh token stays unused
            raise InvalidScope("scope may only narrow the originally granted scope (RFC 6749 §6)")
        add_refresh(conn, refresh, grant.session, " ".join(narrowed), now, refresh_expiry(rt, now, grant.session))
        return outcome, grant, narrowed

    outcome, grant, narrowed = await rt.ctx.db.run(rotate)
    if outcome is not Outcome.OK:
        raise InvalidGrant(_OUTCOME_TEXT[outcome])
    return await token_set(rt, client, sub=subject(grant.session.persona_id), scope=" ".join(narrowed),
                           now=now, session=grant.session, refresh_token=refresh)
