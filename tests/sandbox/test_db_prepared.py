"""``Prepared``: a Core statement compiled once, run on the driver's cursor inside ``Database.run``,
reads and writes values exactly as SQLAlchemy does, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Column, Connection, DateTime, Integer, MetaData, String, Table, bindparam, insert, select, update

from sandbox.db import as_utc
from sandbox.db_prepared import Prepared
from sandbox.models import JSONType
from sandbox.testing import RunningSandbox

ROWS = Table("test_db_prepared_rows", MetaData(), Column("id", String(40), primary_key=True),
             Column("n", Integer), Column("at", DateTime(timezone=True)), Column("doc", JSONType),
             Column("note", String(40), nullable=True))

ADD = Prepared(insert(ROWS))
BUMP = Prepared(update(ROWS).where(ROWS.c.id == bindparam("key")).values(n=ROWS.c.n + bindparam("by"))
                .returning(ROWS.c.id, ROWS.c.n, ROWS.c.at, ROWS.c.doc, (ROWS.c.n * 2).label("twice")))
FIND = Prepared(select(ROWS.c.id, ROWS.c.at, ROWS.c.note).where(ROWS.c.id == bindparam("key")))


@pytest.fixture(autouse=True)
def rows_table(sandbox: RunningSandbox) -> None:
    sandbox.call(lambda: sandbox.ctx.db.run(lambda c: ROWS.create(c, checkfirst=True)))


def _run(sandbox: RunningSandbox, fn):  # noqa: ANN001, ANN202
    return sandbox.call(lambda: sandbox.ctx.db.run(fn))


def test_values_go_in_and_come_back_as_through_sqlalchemy(sandbox: RunningSandbox) -> None:
    key, at = uuid.uuid4().hex, datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    row = {"id": key, "n": 1, "at": at, "doc": {"a": [1, "é"]}, "note": None}
    assert _run(sandbox, lambda c: ADD.execute(c, row)) == 1
    # what SQLAlchemy itself reads back from the prepared insert
    seen = _run(sandbox, lambda c: c.execute(select(ROWS).where(ROWS.c.id == key)).one())
    assert (seen.n, as_utc(seen.at), seen.doc, seen.note) == (1, at, {"a": [1, "é"]}, None)

    bumped = _run(sandbox, lambda c: BUMP.first(c, {"key": key, "by": 41}))
    assert (bumped.id, bumped.n, as_utc(bumped.at), bumped.doc, bumped.twice) == (key, 42, at, {"a": [1, "é"]}, 84)

    # written by SQLAlchemy, read by the prepared statement
    other = uuid.uuid4().hex
    _run(sandbox, lambda c: c.execute(insert(ROWS), [{**row, "id": other, "at": at + timedelta(days=1), "note": "x"}]))
    found = _run(sandbox, lambda c: FIND.first(c, {"key": other}))
    assert (found.id, as_utc(found.at), found.note) == (other, at + timedelta(days=1), "x")


def test_no_row_and_no_change(sandbox: RunningSandbox) -> None:
    assert _run(sandbox, lambda c: FIND.first(c, {"key": "none"})) is None
    assert _run(sandbox, lambda c: BUMP.first(c, {"key": "none", "by": 1})) is None


def test_a_missing_parameter_is_refused_not_defaulted(sandbox: RunningSandbox) -> None:
    with pytest.raises(KeyError):
        _run(sandbox, lambda c: ADD.execute(c, {"id": uuid.uuid4().hex, "n": 1}))


def test_it_runs_in_the_callers_transaction(sandbox: RunningSandbox) -> None:
    key = uuid.uuid4().hex

    def add_then_fail(c: Connection) -> None:
        ADD.execute(c, {"id": key, "n": 1, "at": datetime.now(UTC), "doc": {}, "note": None})
        raise ValueError("the caller's check failed")

    with pytest.raises(ValueError):
        _run(sandbox, add_then_fail)
    assert _run(sandbox, lambda c: FIND.first(c, {"key": key})) is None


def test_execute_many_writes_every_row_in_one_transaction(sandbox: RunningSandbox) -> None:
    """``Database.execute_many``: on PostgreSQL on asyncpg's own pool, with the same values as
    through SQLAlchemy; a failing row leaves none of the batch behind."""
    db = sandbox.ctx.db
    at = datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    keys = [uuid.uuid4().hex for _ in range(3)]
    rows = [{"id": k, "n": i, "at": at, "doc": {"i": i, "s": "é"}, "note": None} for i, k in enumerate(keys)]
    sandbox.call(lambda: db.execute_many([(ADD, rows[:2]), (ADD, rows[2:]), (FIND, [])]))
    got = _run(sandbox, lambda c: c.execute(select(ROWS).where(ROWS.c.id.in_(keys)).order_by(ROWS.c.n)).all())
    assert [(r.id, r.n, as_utc(r.at), r.doc, r.note) for r in got] == \
        [(k, i, at, {"i": i, "s": "é"}, None) for i, k in enumerate(keys)]

    fresh = uuid.uuid4().hex
    with pytest.raises(Exception):  # noqa: B017 - the driver's unique-violation error
        sandbox.call(lambda: db.execute_many([(ADD, [{**rows[0], "id": fresh}]), (ADD, [rows[1]])]))
    assert _run(sandbox, lambda c: FIND.first(c, {"key": fresh})) is None
    with pytest.raises(KeyError):
        sandbox.call(lambda: db.execute_many([(ADD, [{"id": fresh}])]))
