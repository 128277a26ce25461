"""Authorization state: sessions (``sid``), authorization codes (RFC 6749 §4.1.2, single use,
short-lived) and refresh tokens (RFC 6749 §6, rotated on every use; RFC 9700 §4.14.2).

Codes and refresh tokens are stored by SHA-256 only. A reused code or a replayed refresh token
revokes the session, so every token issued under it is refused afterwards (RFC 6749 §4.1.2,
RFC 9700 §4.14.2). Functions take the caller's connection so one grant is one transaction; outcomes
are returned, not raised, so a revocation commits before the caller reports the error.

Functions are synchronous SQLAlchemy Core on the caller's connection, run through
``Database.run``: the token endpoint is the hot path, the ORM's unit of work buys nothing here, and
on SQLite a whole grant then runs in one go on a synchronous connection instead of paying
aiosqlite's thread trip per statement. On PostgreSQL a code exchange is one statement
(:func:`exchange_code_at_once`): there each statement, BEGIN and COMMIT is a round trip.

Session states are cached per process (:mod:`psc.runtime`): ``psc_sessions`` is watched for
updates and deletes (a revocation is recorded in its own transaction, :mod:`sandbox.changes`); a
new session needs no invalidation, nothing refers to it yet.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Connection,
    DateTime,
    Select,
    String,
    Table,
    Update,
    bindparam,
    func,
    insert,
    literal_column,
    null,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from psc.models import PscAssertionJtiRow, PscCodeRow, PscRefreshRow, PscSessionRow
from sandbox.changes import watch
from sandbox.db import Database, as_utc
from sandbox.db_prepared import Prepared


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(prefix: str) -> str:
    return f"{prefix}.{secrets.token_urlsafe(32)}"


@dataclass(frozen=True)
class Session:
    sid: str
    workspace: str
    client_id: str
    persona_id: str
    auth_mode: str
    acr: str
    auth_time: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_reason: str

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


SESSIONS = watch(PscSessionRow.__table__, on=("update", "delete"))
CODES = PscCodeRow.__table__
REFRESH = PscRefreshRow.__table__
JTIS = PscAssertionJtiRow.__table__
_ADD_JTI = Prepared(insert(JTIS))


def _with_session(table: Table) -> list[Any]:
    """``table``'s columns and, as ``s_<name>``, those of the session its ``sid`` names (scalar
    subqueries, NULL when there is none): a claim returns its session in the same statement, one
    round trip less per grant (SQLite and PostgreSQL both take subqueries in RETURNING)."""
    # spelled out: SQLAlchemy's SQLite dialect writes RETURNING columns unqualified, and
    # ``sid = sid`` inside the subquery would compare the session's sid with itself
    match = literal_column(f"{SESSIONS.name}.sid") == literal_column(f"{table.name}.sid")
    return [*table.c, *(select(col).where(match).scalar_subquery().label(f"s_{col.name}")
                        for col in SESSIONS.c)]


def _claim(table: Table, key: Any) -> Update:
    """Mark the row whose ``key`` is ``:h`` used at ``:now``, if it is ``:cid``'s and unused yet: the
    single-use claim of a code or refresh token (add what it returns)."""
    return (update(table).where(key == bindparam("h"), table.c.used_at.is_(None),
                                table.c.client_id == bindparam("cid"))
            .values(used_at=bindparam("now")))


# The token endpoint's statements, built and compiled once, run on the driver's cursor
# (sandbox.db_prepared: SQLAlchemy's execution path cost more than SQLite's work).
_CLAIM_CODE = Prepared(_claim(CODES, CODES.c.code_hash).returning(*_with_session(CODES)))
_CODE_OWNER = Prepared(select(CODES.c.client_id, CODES.c.sid).where(CODES.c.code_hash == bindparam("h")))
_CLAIM_REFRESH = Prepared(_claim(REFRESH, REFRESH.c.token_hash).returning(*_with_session(REFRESH)))
_REFRESH_OWNER = Prepared(select(REFRESH.c.client_id, REFRESH.c.sid).where(REFRESH.c.token_hash == bindparam("h")))
_SESSION = Prepared(select(SESSIONS).where(SESSIONS.c.sid == bindparam("sid")))
_ADD_REFRESH = Prepared(insert(REFRESH))


def _session(row: Any, prefix: str = "") -> Session | None:
    """The session in ``row``: its own columns, or those named ``<prefix><column>`` (a claim's,
    :func:`_with_session`); None when they are NULL (a claim whose session is gone)."""
    def col(name: str) -> Any:
        return getattr(row, prefix + name)

    if col("sid") is None:
        return None
    revoked_at = col("revoked_at")
    return Session(col("sid"), col("workspace"), col("client_id"), col("persona_id"), col("auth_mode"), col("acr"),
                   as_utc(col("auth_time")), as_utc(col("expires_at")), as_utc(revoked_at) if revoked_at else None,
                   col("revoked_reason"))


@dataclass(frozen=True)
class CodeGrant:
    workspace: str
    sid: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    expires_at: datetime


class Outcome(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"
    WRONG_CLIENT = "wrong_client"
    EXPIRED = "expired"
    REUSED = "reused"
    REVOKED = "revoked"


def create_authorization(c: Connection, session: Session, code: str, grant: CodeGrant) -> None:
    c.execute(insert(SESSIONS).values(
        sid=session.sid, workspace=session.workspace, client_id=session.client_id,
        persona_id=session.persona_id, auth_mode=session.auth_mode, acr=session.acr,
        auth_time=session.auth_time, expires_at=session.expires_at, revoked_at=None, revoked_reason=""))
    c.execute(insert(CODES).values(
        code_hash=digest(code), workspace=grant.workspace, sid=grant.sid, client_id=grant.client_id,
        redirect_uri=grant.redirect_uri, scope=grant.scope, nonce=grant.nonce,
        code_challenge=grant.code_challenge, expires_at=grant.expires_at, used_at=None))


def revoke_session(c: Connection, sid: str, reason: str, now: datetime) -> bool:
    result = c.execute(update(SESSIONS)
                       .where(SESSIONS.c.sid == sid, SESSIONS.c.revoked_at.is_(None))
                       .values(revoked_at=now, revoked_reason=reason[:120]))
    return bool(result.rowcount)


def get_session(c: Connection, sid: str) -> Session | None:
    row = _SESSION.first(c, {"sid": sid})
    return _session(row) if row else None


def consume_code(c: Connection, code: str, client_id: str,
                 now: datetime) -> tuple[Outcome, CodeGrant | None, Session | None]:
    """Mark the code used. A second use revokes its session (and so the tokens it issued)."""
    h = digest(code)
    claimed = _CLAIM_CODE.first(c, {"h": h, "cid": client_id, "now": now})
    if claimed is None:
        return _unclaimed_code(c, h, client_id, now), None, None
    return _judge_code(claimed, now)


def _unclaimed_code(c: Connection, h: str, client_id: str, now: datetime) -> Outcome:
    """Why the code with hash ``h`` could not be claimed: unknown, another client's, or used before
    (possibly by a racing request) — then its session is revoked."""
    row = _CODE_OWNER.first(c, {"h": h})
    if row is None:
        return Outcome.UNKNOWN
    if row.client_id != client_id:
        return Outcome.WRONG_CLIENT
    revoke_session(c, row.sid, "authorization code reused", now)
    return Outcome.REUSED


def _judge_code(claimed: Any, now: datetime) -> tuple[Outcome, CodeGrant | None, Session | None]:
    """The outcome of a claimed code (a row of :data:`_CLAIM_CODE` or :data:`_EXCHANGE_CODE`)."""
    if as_utc(claimed.expires_at) <= now:
        return Outcome.EXPIRED, None, None
    session = _session(claimed, "s_")
    if session is None or session.revoked:
        return Outcome.REVOKED, None, None
    grant = CodeGrant(claimed.workspace, claimed.sid, claimed.client_id, claimed.redirect_uri, claimed.scope,
                      claimed.nonce, claimed.code_challenge, as_utc(claimed.expires_at))
    return Outcome.OK, grant, session


def _exchange_code_statement() -> Select[Any]:
    """:func:`consume_code` and :func:`add_refresh` as one PostgreSQL statement: the claimed code
    (``UPDATE … RETURNING`` in a ``WITH``), its session as ``s_<name>`` columns and, in
    ``refreshed``, whether a refresh token was inserted — only when the claim is good (code not
    expired, session there and not revoked: the conditions :func:`_judge_code` checks) and a
    token hash is given. Its expiry is ``rt_until``, capped by the session's, as
    :func:`psc.tokens.refresh_expiry` does."""
    claimed = _claim(CODES, CODES.c.code_hash).returning(*CODES.c).cte("claimed")
    stamp = DateTime(timezone=True)
    rows = (select(bindparam("rt_hash", type_=String()), SESSIONS.c.workspace, SESSIONS.c.sid,
                   SESSIONS.c.client_id, claimed.c.scope, bindparam("now", type_=stamp),
                   func.least(bindparam("rt_until", type_=stamp), SESSIONS.c.expires_at), null())
            .select_from(claimed.join(SESSIONS, SESSIONS.c.sid == claimed.c.sid))
            .where(claimed.c.expires_at > bindparam("now", type_=stamp), SESSIONS.c.revoked_at.is_(None),
                   bindparam("rt_hash", type_=String()).is_not(None)))
    issued = (insert(REFRESH).from_select(["token_hash", "workspace", "sid", "client_id", "scope", "issued_at",
                                           "expires_at", "used_at"], rows)
              .returning(REFRESH.c.token_hash).cte("issued"))
    return (select(*claimed.c, *(col.label(f"s_{col.name}") for col in SESSIONS.c),
                   select(func.count()).select_from(issued).scalar_subquery().label("refreshed"))
            .select_from(claimed.outerjoin(SESSIONS, SESSIONS.c.sid == claimed.c.sid)))


_EXCHANGE_CODE = Prepared(_exchange_code_statement())


async def exchange_code_at_once(db: Database, code: str, client_id: str, now: datetime, refresh: str | None,
                                refresh_until: datetime) -> tuple[Outcome, CodeGrant | None, Session | None, bool]:
    """PostgreSQL: :func:`consume_code`, then :func:`add_refresh` of ``refresh`` (if given) when the
    claim is good, in one statement and one round trip (:meth:`Database.autocommit_first`). The
    last item tells whether the refresh token was stored: the caller's own checks (redirect URI,
    PKCE) come after, and it :func:`forget_refresh` if they fail. A code that cannot be claimed
    takes the slow path: one transaction finds out why, and revokes on reuse."""
    h = digest(code)
    row = await db.autocommit_first(_EXCHANGE_CODE, {"h": h, "cid": client_id, "now": now, "rt_until": refresh_until,
                                                      "rt_hash": digest(refresh) if refresh else None})
    if row is None:
        return await db.run(lambda c: _unclaimed_code(c, h, client_id, now)), None, None, False
    outcome, grant, session = _judge_code(row, now)
    return outcome, grant, session, bool(row.refreshed)


async def exchange_code(db: Database, code: str, client_id: str, now: datetime, refresh: str | None,
                        refresh_ttl: timedelta, check: Callable[[CodeGrant], str | None],
                        ) -> tuple[Outcome, CodeGrant | None, Session | None, str | None]:
    """Claim ``code`` for ``client_id``, run the grant's own ``check`` (redirect URI, PKCE: a text
    when it fails) and store ``refresh`` for a good exchange, as one atomic step; returns (outcome,
    grant, session, problem). The store picks the way: on PostgreSQL :func:`exchange_code_at_once`
    (one statement; the refresh token is forgotten if the check fails after it), elsewhere one
    short transaction (:meth:`Database.run`). The refresh token never outlives the session."""
    if db.is_postgresql:
        outcome, grant, session, issued = await exchange_code_at_once(db, code, client_id, now, refresh,
                                                                      now + refresh_ttl)
        problem = check(grant) if grant is not None else None
        if issued and refresh is not None and (problem is not None or outcome is not Outcome.OK):
            await db.run(lambda c: forget_refresh(c, refresh))
        return outcome, grant, session, problem

    def exchange(conn: Connection) -> tuple[Outcome, CodeGrant | None, Session | None, str | None]:
        outcome, grant, session = consume_code(conn, code, client_id, now)
        if outcome is not Outcome.OK or grant is None or session is None:
            return outcome, grant, session, None
        problem = check(grant)
        if problem is None and refresh is not None:
            add_refresh(conn, refresh, session, grant.scope, now, min(now + refresh_ttl, session.expires_at))
        return outcome, grant, session, problem

    return await db.run(exchange)


def forget_refresh(c: Connection, token: str) -> None:
    """Delete a refresh token that was stored but never handed out (a refused exchange)."""
    c.execute(REFRESH.delete().where(REFRESH.c.token_hash == digest(token)))


def add_refresh(c: Connection, token: str, session: Session, scope: str, now: datetime,
                expires_at: datetime) -> None:
    _ADD_REFRESH.execute(c, {
        "token_hash": digest(token), "workspace": session.workspace, "sid": session.sid,
        "client_id": session.client_id, "scope": scope, "issued_at": now, "expires_at": expires_at, "used_at": None})


@dataclass(frozen=True)
class RefreshGrant:
    scope: str
    session: Session
    expires_at: datetime


def consume_refresh(c: Connection, token: str, client_id: str,
                    now: datetime) -> tuple[Outcome, RefreshGrant | None]:
    h = digest(token)
    claimed = _CLAIM_REFRESH.first(c, {"h": h, "cid": client_id, "now": now})
    if claimed is None:
        row = _REFRESH_OWNER.first(c, {"h": h})
        if row is None:
            return Outcome.UNKNOWN, None
        if row.client_id != client_id:
            return Outcome.WRONG_CLIENT, None
        revoke_session(c, row.sid, "refresh token replayed after rotation", now)
        return Outcome.REUSED, None
    if as_utc(claimed.expires_at) <= now:
        return Outcome.EXPIRED, None
    session = _session(claimed, "s_")
    if session is None or session.revoked:
        return Outcome.REVOKED, None
    if session.expires_at <= now:  # rotation never outlives the login (Keycloak's "SSO session max")
        return Outcome.EXPIRED, None
    return Outcome.OK, RefreshGrant(claimed.scope, session, as_utc(claimed.expires_at))


def purge_expired(c: Connection, before: datetime) -> None:
    """Forget codes, refresh tokens and sessions that expired before ``before``."""
    c.execute(CODES.delete().where(CODES.c.expires_at < before))
    c.execute(REFRESH.delete().where(REFRESH.c.expires_at < before))
    c.execute(SESSIONS.delete().where(SESSIONS.c.expires_at < before))
    c.execute(JTIS.delete().where(JTIS.c.expires_at < before))


async def first_use_of_assertion(db: Database, workspace: str, client_id: str, jti: str, until: datetime) -> bool:
    """Record that ``client_id`` used the assertion ``jti``; False when it was used before, by any
    worker or node (the database's primary key decides: no per-process memory). An expired record
    is replaced: the assertion it names is refused anyway by its own ``exp``."""
    h = digest(f"{client_id}:{jti}")
    now = datetime.now(until.tzinfo)

    def remember(c: Connection) -> bool:
        stale = c.execute(JTIS.delete().where(JTIS.c.key_hash == h, JTIS.c.expires_at < now)).rowcount
        if not stale and c.execute(select(JTIS.c.key_hash).where(JTIS.c.key_hash == h)).first() is not None:
            return False
        _ADD_JTI.execute(c, {"key_hash": h, "workspace": workspace, "expires_at": until})
        return True

    try:
        return await db.run(remember)
    except IntegrityError:  # the same jti at the same moment on another worker: it got there first
        return False


@dataclass(frozen=True)
class RefreshInfo:
    workspace: str
    sid: str
    client_id: str
    scope: str
    expires_at: datetime
    used: bool


def peek_refresh(c: Connection, token: str) -> tuple[RefreshInfo | None, Session | None]:
    """A refresh token and its session without using it (introspection)."""
    row = c.execute(select(REFRESH).where(REFRESH.c.token_hash == digest(token))).first()
    if row is None:
        return None, None
    info = RefreshInfo(row.workspace, row.sid, row.client_id, row.scope, as_utc(row.expires_at),
                       row.used_at is not None)
    return info, get_session(c, row.sid)
