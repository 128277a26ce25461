"""Token introspection (RFC 7662) for registered clients — resource servers included — with the
claims PSC adds (FACTS appendix A.6: ``active``, ``scope``, ``client_id``, ``azp``,
``session_state``, ``sid``, ``authMode``, ``otherIds``, ``preferred_username``, ``typ``).

A token of another workspace, an invalid, expired or revoked token answers ``{"active": false}``
(RFC 7662 §2.2: no reason is disclosed).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from psc.client_auth import authenticate_client
from psc.clients import Client
from psc.errors import InvalidRequest
from psc.runtime import Psc
from psc.store import peek_refresh
from psc.verify import TokenError, verify

INACTIVE: dict[str, Any] = {"active": False}


async def _refresh(rt: Psc, caller: Client, token: str) -> dict[str, Any]:
    row, session = await rt.ctx.db.run(lambda c: peek_refresh(c, token), write=False)
    if row is None or session is None or session.revoked or row.used:
        return INACTIVE
    exp = row.expires_at
    if exp <= datetime.now(UTC) or row.workspace != caller.workspace:
        return INACTIVE
    return {"active": True, "token_type": "Refresh", "typ": "Refresh", "scope": row.scope,
            "client_id": row.client_id, "azp": row.client_id, "sid": row.sid,
            "session_state": row.sid, "exp": int(exp.timestamp()), "iss": rt.issuer_for(caller.workspace)}


async def introspect(rt: Psc, form: Mapping[str, str], authorization: str | None,
                     realm: str | None = None) -> tuple[Client, dict[str, Any]]:
    """``realm``: the workspace whose issuer path was called (None: the default path)."""
    caller = await authenticate_client(rt, form, authorization,
                                       (rt.endpoint("token/introspect"), rt.endpoint("token"), rt.issuer),
                                       realm=realm)
    token = form.get("token")
    if not token:
        raise InvalidRequest("token is required")
    if token.startswith("psc-rt."):
        return caller, await _refresh(rt, caller, token)
    try:
        vt = await verify(rt, token, operation="introspect")
    except TokenError:
        return caller, INACTIVE
    if vt.workspace != caller.workspace:
        return caller, INACTIVE
    out: dict[str, Any] = {"active": True, **vt.claims, "client_id": vt.client_id, "token_type": "Bearer"}
    if vt.professional is not None:
        pro = vt.professional
        out["username"] = pro["id"]
        out["otherIds"] = [{"identifiant": pro.get("rpps") or pro["id"], "origine": pro.get("id_origin", "RPPS"),
                            "qualite": 1}]
        out["authMode"] = vt.auth_mode or out.get("authMode")
    return caller, out
