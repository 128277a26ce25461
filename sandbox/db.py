"""Persistence plumbing: the declarative base every service's tables use, the async engine and
sessions (DESIGN "Persistence"; STYLE §13).

SQLite gets WAL, a busy timeout and foreign keys in a connect event; PostgreSQL is reached through
the same URL setting. Tables that hold per-workspace data carry a ``workspace`` column: that is how
workspace reset and delete find them (:func:`workspace_tables`), with no per-service code.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, Table, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base shared by the platform and the services."""

    metadata = MetaData(naming_convention=NAMING)


WORKSPACE_COLUMN = "workspace"


def workspace_tables() -> list[Table]:
    """Tables holding per-workspace rows, children before parents (safe delete order)."""
    return [t for t in reversed(Base.metadata.sorted_tables) if WORKSPACE_COLUMN in t.c]


def as_utc(dt: datetime) -> datetime:
    """SQLite hands datetimes back naive; everything is stored in UTC."""
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DB-API connection
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str) -> AsyncEngine:
    """Create the async engine for ``url`` (SQLite file folders are created on the way)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 10})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # no pre-ping: it costs a round trip per checkout (~15 % of a DMP call); stale connections are
    # recycled instead
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800)


class TransactionGate:
    """SQLite allows one writing transaction at a time. Two pooled connections of one process that
    both write make the second wait in SQLite's busy handler, which sleeps 1, 2, 5, 10… ms between
    tries: under concurrent requests most of the time goes to those sleeps. The gate makes this
    process's transactions take turns on the event loop instead. It is re-entrant per task, so a
    transaction that calls code opening its own (reading) transaction does not wait for itself."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            yield
            return
        async with self._lock:
            self._owner = task
            try:
                yield
            finally:
                self._owner = None


class Database:
    """The engine plus a session factory; one per app. Transactions go through :meth:`session`
    (ORM) or :meth:`begin` (Core connection); on SQLite they take turns (:class:`TransactionGate`)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.gate = TransactionGate() if self.engine.dialect.name == "sqlite" else None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed on success, rolled back on error."""
        if self.gate is None:
            async with self.sessions() as s, s.begin():
                yield s
            return
        async with self.gate.turn(), self.sessions() as s, s.begin():
            yield s

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection in a transaction: committed on success, rolled back on error."""
        if self.gate is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self.gate.turn(), self.engine.begin() as conn:
            yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()
