"""The database layer's side of :mod:`sandbox.changes`: SQLAlchemy events that see writes to
watched tables and record them at commit, PostgreSQL's read of the generations and its one
``LISTEN`` connection (DESIGN "Persistence"; issue 13 §3, issue 19).

Events, on every engine a :class:`sandbox.db.Database` makes:

- ``before_execute``: a statement writing a watched table adds it to the connection's pending set
  (``Connection.info``, which belongs to the pooled DB-API connection);
- ``commit`` (runs just before the driver's COMMIT): PostgreSQL runs :func:`sandbox.changes.bump_sql`
  on the driver's cursor, inside the transaction; SQLite moves the set to "committed";
- ``rollback``: the pending set is dropped;
- the pool's ``checkin`` (SQLite): the connection is back, its transaction over: bump the file.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy import Connection, Engine, event

from sandbox.changes import CHANGES, CHANNEL, Changes, bump_sql, touched

log = logging.getLogger(__name__)

#: ``Connection.info`` keys: tables written in the open transaction / committed, not yet announced
PENDING = "mes_sandbox_pending_changes"
COMMITTED = "mes_sandbox_committed_changes"


def note(info: dict[str, Any], topics: frozenset[str]) -> None:
    """Record that the open transaction of the connection owning ``info`` wrote ``topics``."""
    if topics:
        info.setdefault(PENDING, set()).update(topics)


def take(info: dict[str, Any]) -> set[str]:
    """Everything pending or committed-not-announced on that connection (and forget it)."""
    return info.pop(PENDING, set()) | info.pop(COMMITTED, set())


def install(engine: Engine, changes: Changes, *, postgresql: bool, pooled: bool) -> None:
    """Attach the events of this module's docstring to ``engine`` (a synchronous engine, or an
    async engine's ``sync_engine``)."""

    def before_execute(conn: Connection, clause: Any, *_: Any) -> None:
        note(conn.info, touched(clause))

    def on_commit(conn: Connection) -> None:
        topics = conn.info.pop(PENDING, None)
        if not topics:
            return
        if postgresql:
            # the driver's cursor: the Connection is inside its own commit and takes no statement
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(bump_sql(topics))
            finally:
                cursor.close()
            changes.wrote()
        else:
            conn.info.setdefault(COMMITTED, set()).update(topics)

    def on_rollback(conn: Connection) -> None:
        conn.info.pop(PENDING, None)

    event.listen(engine, "before_execute", before_execute)
    event.listen(engine, "commit", on_commit)
    event.listen(engine, "rollback", on_rollback)
    if pooled and not postgresql:
        def on_checkin(_dbapi: Any, record: Any) -> None:
            if record is not None:
                changes.committed(record.info.pop(COMMITTED, ()))
                record.info.pop(PENDING, None)  # never committed

        event.listen(engine.pool, "checkin", on_checkin)


_GENERATIONS = f"SELECT topic, generation FROM {CHANGES.name}"
#: after a failed LISTEN, the next try waits this long (reads do not wait for it)
RETRY_SECONDS = 5.0


class Listener:
    """PostgreSQL: one connection that ``LISTEN``s for the notifications (eager refreshes,
    :meth:`Changes.on_change`) and serves the reads of the generations: :class:`Changes` makes at
    most one read at a time, so they need no pool (taking a pooled connection cost more than the
    read). While it is lost, reads go to asyncpg's statement pool and it is opened again on a
    later read."""

    def __init__(self, dsn: str, pool: Callable[[], Any], changes: Changes) -> None:
        self.dsn, self._pool, self.changes = dsn, pool, changes
        self._conn: asyncpg.Connection | None = None
        self._failed_at = -RETRY_SECONDS

    async def fetch(self) -> dict[str, int]:
        if self._conn is None and time.monotonic() - self._failed_at > RETRY_SECONDS:
            await self._listen()
        conn = self._conn
        if conn is not None:
            try:
                return {r[0]: r[1] for r in await conn.fetch(_GENERATIONS)}
            except (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError):
                self._conn = None
        pool = await self._pool()
        return {r[0]: r[1] for r in await pool.fetch(_GENERATIONS)}

    async def _listen(self) -> None:
        try:
            conn = await asyncpg.connect(self.dsn)
            await conn.add_listener(CHANNEL, lambda _c, _pid, _ch, payload: self.changes.notified(payload))
            conn.add_termination_listener(self._lost)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # eager refresh only: the reads still order every request
            log.warning("cannot LISTEN for changes (%s); caches refresh on the next request instead", exc)
            self._failed_at = time.monotonic()
            return
        self._conn = conn

    def _lost(self, _conn: Any) -> None:
        self._conn = None

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()
