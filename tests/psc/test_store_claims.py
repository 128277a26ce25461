"""A claimed code or refresh token comes back with its own session, in the same statement, on
SQLite and PostgreSQL (psc.store ``_with_session``)."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta

from psc.store import (
    CodeGrant,
    Outcome,
    Session,
    add_refresh,
    consume_code,
    consume_refresh,
    create_authorization,
    new_token,
    revoke_session,
)
from sandbox.testing import RunningSandbox


def _login(persona: str, now: datetime) -> tuple[Session, str, CodeGrant]:
    sid = secrets.token_hex(16)
    session = Session(sid, "default", "client-a", persona, "CARD", "eidas1", now.replace(microsecond=0),
                      now + timedelta(hours=1), None, "")
    code = new_token("psc-ac")
    grant = CodeGrant("default", sid, "client-a", "http://127.0.0.1/cb", "openid scope_all", None, None,
                      now + timedelta(minutes=1))
    return session, code, grant


def test_claims_return_their_own_session(sandbox: RunningSandbox) -> None:
    now = datetime.now(UTC)
    logins = [_login(f"8997{uuid.uuid4().int % 10**8:08d}", now) for _ in range(3)]
    db = sandbox.ctx.db

    def authorize(c) -> None:  # noqa: ANN001
        for session, code, grant in logins:
            create_authorization(c, session, code, grant)

    sandbox.call(lambda: db.run(authorize))
    later = now + timedelta(seconds=1)
    for session, code, _grant in reversed(logins):  # not in insertion order
        outcome, grant, got = sandbox.call(lambda code=code: db.run(lambda c: consume_code(c, code, "client-a", later)))
        assert outcome is Outcome.OK and grant is not None and got == session

    refresh = {s.sid: new_token("psc-rt") for s, _, _ in logins}
    sandbox.call(lambda: db.run(lambda c: [add_refresh(c, refresh[s.sid], s, "openid", now, now + timedelta(minutes=30))
                                           for s, _, _ in logins]))
    first, second = logins[0][0], logins[1][0]
    outcome, rg = sandbox.call(lambda: db.run(lambda c: consume_refresh(c, refresh[second.sid], "client-a", later)))
    assert outcome is Outcome.OK and rg is not None and rg.session == second
    # a revoked session is seen through the claim
    sandbox.call(lambda: db.run(lambda c: revoke_session(c, first.sid, "logout", later)))
    outcome, rg = sandbox.call(lambda: db.run(lambda c: consume_refresh(c, refresh[first.sid], "client-a", later)))
    assert outcome is Outcome.REVOKED and rg is None
