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
OTHER = Table("test_db_prepared_other", MetaData(), Column("id", String(40), primary_key=True),
              Column("n", Integer), Column("at", DateTime(timezone=True)), Column("doc", JSONType),
              Column("note", String(40), nullable=True))


@pytest.fixture(autouse=True)
def rows_table(sandbox: RunningSandbox) -> None:
    sandbox.call(lambda: sandbox.ctx.db.run(lambda c: [t.create(c, checkfirst=True) for t in (ROWS, OTHER)]))


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


def test_insert_rows_writes_several_tables_as_one_transaction(sandbox: RunningSandbox) -> None:
    """``Database.insert_rows`` (one statement in autocommit on PostgreSQL, ``Database.run`` on
    SQLite): the same values as through SQLAlchemy, ``skip_existing`` keeps a row already there,
    a failing part leaves nothing of the others, a watched table is refused."""
    db = sandbox.ctx.db
    at = datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    keys = [uuid.uuid4().hex for _ in range(3)]
    rows = [{"id": k, "n": i, "at": at, "doc": {"i": i, "s": "é"}, "note": None} for i, k in enumerate(keys)]
    sandbox.call(lambda: db.insert_rows([(OTHER, rows[:1]), (ROWS, rows)]))
    got = _run(sandbox, lambda c: c.execute(select(ROWS).where(ROWS.c.id.in_(keys)).order_by(ROWS.c.n)).all())
    assert [(r.id, r.n, as_utc(r.at), r.doc, r.note) for r in got] == \
        [(k, i, at, {"i": i, "s": "é"}, None) for i, k in enumerate(keys)]
    assert _run(sandbox, lambda c: c.execute(select(OTHER.c.n).where(OTHER.c.id == keys[0])).scalar()) == 0

    # kept as it was: the second write of the same key changes nothing and raises nothing
    sandbox.call(lambda: db.insert_rows([(OTHER, [{**rows[0], "n": 99}]), (ROWS, [])],
                                        skip_existing=frozenset({OTHER.name}), wait_for_flush=False))
    assert _run(sandbox, lambda c: c.execute(select(OTHER.c.n).where(OTHER.c.id == keys[0])).scalar()) == 0

    fresh = uuid.uuid4().hex
    with pytest.raises(Exception):  # noqa: B017 - the driver's unique-violation error
        sandbox.call(lambda: db.insert_rows([(OTHER, [{**rows[0], "id": fresh}]), (ROWS, [rows[1]])]))
    assert _run(sandbox, lambda c: c.execute(select(OTHER).where(OTHER.c.id == fresh)).first()) is None

    from sandbox.workspaces import WorkspaceRow  # a watched table (sandbox.changes)
    with pytest.raises(ValueError, match="watched"):
        sandbox.call(lambda: db.insert_rows([(WorkspaceRow.__table__, [{"name": "x"}])]))
