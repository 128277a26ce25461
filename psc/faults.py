"""Fault kinds PSC supports (DESIGN "Fault injection"); each is acted on where it applies:
``authorize`` (:func:`psc.authorize.apply_faults`), ``token`` (:mod:`psc.token_endpoint`),
``userinfo``/``introspect``/``verify`` (:mod:`psc.verify`, :mod:`psc.userinfo`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from sandbox.faults import Fault
from sandbox.models import FaultRow
from sandbox.services import FaultKind

if TYPE_CHECKING:
    from sandbox.context import SandboxContext

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


def pending_query(workspace: str, operation: str, kinds: tuple[str, ...]) -> Select:
    """Ids of scripted PSC faults that could fire for this call (read-only look)."""
    return (select(FaultRow.id)
            .where(FaultRow.workspace == workspace, FaultRow.service == "psc", FaultRow.kind.in_(kinds),
                   or_(FaultRow.operation == "", FaultRow.operation == operation),
                   or_(FaultRow.times.is_(None), FaultRow.fired < FaultRow.times))
            .limit(1))


async def take(ctx: SandboxContext, workspace: str, operation: str, kinds: tuple[str, ...],
               conn: AsyncConnection | None = None) -> Fault | None:
    """The platform's :meth:`FaultRegistry.take`, preceded by a read-only look for a pending
    fault (one light query, or none more when ``conn`` is an open connection of the caller) so the
    hot path without scripted faults avoids the registry's read-modify-write transaction."""
    query = pending_query(workspace, operation, kinds)
    if conn is not None:
        pending = (await conn.execute(query)).first()
    else:
        async with ctx.db.engine.connect() as own:
            pending = (await own.execute(query)).first()
    if pending is None:
        return None
    return await ctx.faults.take(workspace, "psc", operation, kinds=kinds)
