"""``Database.run``: one synchronous Core function, one transaction, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, Connection, DateTime, Integer, MetaData, String, Table, bindparam, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from sandbox import db as dbmod
from sandbox.db_prepared import Prepared
from sandbox.testing import RunningSandbox

# a table of this test's own, so that no service's constraints are involved
PROBE = Table("test_db_run_probe", MetaData(), Column("id", String(40), primary_key=True),
              Column("ws", String(40)), Column("kind", String(40)), Column("at", DateTime(timezone=True)))


@pytest.fixture(autouse=True)
def probe_table(sandbox: RunningSandbox) -> None:
    sandbox.call(lambda: sandbox.ctx.db.run(lambda c: PROBE.create(c, checkfirst=True)))


def _row(ws: str, kind: str) -> dict:
    return {"id": uuid.uuid4().hex, "ws": ws, "kind": kind, "at": datetime.now(UTC)}


def _count(sandbox: RunningSandbox, ws: str) -> int:
    return sandbox.call(lambda: sandbox.ctx.db.run(
        lambda c: c.execute(select(func.count()).select_from(PROBE).where(PROBE.c.ws == ws)).scalar_one(),
        write=False))


def test_commits_what_it_returns_and_rolls_back_what_raises(sandbox: RunningSandbox) -> None:
    ws = f"run-{uuid.uuid4().hex[:8]}"

    def add(kind: str, fail: bool):  # noqa: ANN202
        def fn(c: Connection) -> str:
            c.execute(PROBE.insert(), [_row(ws, kind)])
            if fail:
                raise ValueError("the caller's check failed")
            return kind
        return fn

    assert sandbox.call(lambda: sandbox.ctx.db.run(add("kept", False))) == "kept"
    with pytest.raises(ValueError):
        sandbox.call(lambda: sandbox.ctx.db.run(add("dropped", True)))
    assert _count(sandbox, ws) == 1
    # the connection is usable after a failure
    assert sandbox.call(lambda: sandbox.ctx.db.run(add("again", False))) == "again"
    assert _count(sandbox, ws) == 2


def test_concurrent_calls_take_turns(sandbox: RunningSandbox) -> None:
    ws = f"run-{uuid.uuid4().hex[:8]}"

    async def many() -> list[str]:
        return await asyncio.gather(*(sandbox.ctx.db.run(
            lambda c, i=i: (c.execute(PROBE.insert(), [_row(ws, f"k{i}")]), f"k{i}")[1]) for i in range(40)))

    assert sandbox.call(many) == [f"k{i}" for i in range(40)]
    assert _count(sandbox, ws) == 40


def _hold_lock(sandbox: RunningSandbox, seconds: float) -> threading.Thread:
    """Another process in its writing transaction for ``seconds``: SQLite's write lock, or an
    exclusive lock on the probe table in PostgreSQL."""
    url = sandbox.ctx.db.url
    taken = threading.Event()

    def sqlite_holder() -> None:
        other = sqlite3.connect(sandbox.ctx.db.engine.url.database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        taken.set()
        time.sleep(seconds)
        other.execute("COMMIT")
        other.close()

    async def pg_holder() -> None:
        engine = create_async_engine(url)
        async with engine.connect() as other:
            await other.execute(text(f"LOCK TABLE {PROBE.name} IN EXCLUSIVE MODE"))
            taken.set()
            time.sleep(seconds)  # this thread's own loop: blocking it is the point
            await other.commit()
        await engine.dispose()

    sqlite = sandbox.ctx.db.gate is not None
    holder = threading.Thread(target=sqlite_holder if sqlite else lambda: asyncio.run(pg_holder()))
    holder.start()
    assert taken.wait(10)
    return holder


def test_waits_while_another_process_holds_the_write_lock(sandbox: RunningSandbox, monkeypatch) -> None:
    ws = f"run-{uuid.uuid4().hex[:8]}"
    holder = _hold_lock(sandbox, 0.4)
    start = time.monotonic()
    assert _count(sandbox, ws) == 0  # a reading function takes no lock: it does not wait
    assert time.monotonic() - start < 0.3
    start = time.monotonic()
    sandbox.call(lambda: sandbox.ctx.db.run(lambda c: c.execute(PROBE.insert(), [_row(ws, "after")])))
    waited = time.monotonic() - start
    holder.join()
    assert waited >= 0.3
    assert _count(sandbox, ws) == 1
    if sandbox.ctx.db.gate is not None:
        # SQLite: gives up with SQLite's own error after the wait limit, having written nothing
        monkeypatch.setattr(dbmod, "LOCK_WAIT_SECONDS", 0.1)
        holder = _hold_lock(sandbox, 0.5)
        with pytest.raises(OperationalError, match="locked"):
            sandbox.call(lambda: sandbox.ctx.db.run(lambda c: c.execute(PROBE.insert(), [_row(ws, "never")])))
        holder.join()
        assert _count(sandbox, ws) == 1


def _autocommit_probe() -> tuple[dict, Prepared]:
    row = _row("autocommit", "a")
    stmt = Prepared(PROBE.insert().values(id=bindparam("id"), ws=bindparam("ws"), kind=bindparam("ws"),
                                          at=bindparam("at")).returning(PROBE.c.id, PROBE.c.kind, PROBE.c.at))
    return row, stmt


def test_autocommit_first_is_refused_on_sqlite(sandbox: RunningSandbox) -> None:
    """SQLite has no data-modifying WITH: the call is refused, not run without its transaction."""
    db = sandbox.ctx.db
    if db.is_postgresql:
        pytest.skip("SQLite only: PostgreSQL runs autocommit_first (test below)")
    row, stmt = _autocommit_probe()
    with pytest.raises(NotImplementedError):
        sandbox.call(lambda: db.autocommit_first(stmt, row))
    assert _count(sandbox, "autocommit") == 0


def test_autocommit_first_runs_one_statement_outside_a_transaction(sandbox: RunningSandbox) -> None:
    """PostgreSQL: the row comes back with its columns as attributes, repeated and typed bind values
    go to the right places, and the write is committed at once (seen by another connection)."""
    db = sandbox.ctx.db
    if not db.is_postgresql:
        pytest.skip("PostgreSQL only: SQLite refuses autocommit_first (test above)")
    row, stmt = _autocommit_probe()
    got = sandbox.call(lambda: db.autocommit_first(stmt, row))
    assert (got.id, got.kind, got.at) == (row["id"], "autocommit", row["at"])
    assert _count(sandbox, "autocommit") == 1
    missing = Prepared(PROBE.select().where(PROBE.c.id == bindparam("id")))
    assert sandbox.call(lambda: db.autocommit_first(missing, {"id": "none"})) is None


def test_autocommit_first_leaves_no_transaction_open_on_its_connections(sandbox: RunningSandbox) -> None:
    """PostgreSQL: its connections go back to their pool without a reset round trip, so a statement
    must not leave one in a transaction; a failing statement does not either."""
    db = sandbox.ctx.db
    if not db.is_postgresql:
        pytest.skip("PostgreSQL only: SQLite refuses autocommit_first")
    boom = Prepared(select(func.cast(bindparam("x", type_=String()), Integer)))
    for _ in range(3):
        with pytest.raises(Exception):  # noqa: B017 - asyncpg's invalid-text error
            sandbox.call(lambda: db.autocommit_first(boom, {"x": "not a number"}))
    row = _row("autocommit-after-error", "a")
    stmt = Prepared(PROBE.insert().values(id=bindparam("id"), ws=bindparam("ws"), kind=bindparam("kind"),
                                          at=bindparam("at")).returning(PROBE.c.id))
    assert sandbox.call(lambda: db.autocommit_first(stmt, row)).id == row["id"]
    assert _count(sandbox, "autocommit-after-error") == 1  # committed at once, seen elsewhere
    idle_in_transaction = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                               "AND state LIKE 'idle in transaction%'")
    assert sandbox.call(lambda: db.run(lambda c: c.execute(idle_in_transaction).scalar_one(), write=False)) == 0
