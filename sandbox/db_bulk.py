"""Inserting rows into several tables in one database round trip (DESIGN "Persistence").

A DMP submission writes a binary, a document, a submission set and an audit trace together. Built
as SQLAlchemy statements, those inserts cost more to compile than to run (≈ 5 ms of CPU per
submission with multi-row ``VALUES`` in CTEs, whose compiled form is not reused). Here:

- **PostgreSQL**: one statement per list of tables, fixed text, so asyncpg reuses its prepared
  statement: data-modifying CTEs, each ``INSERT INTO t SELECT * FROM jsonb_populate_recordset(NULL::t,
  $n)`` fed one JSON array per table (an empty array inserts nothing). Column defaults are applied
  here since ``jsonb_populate_recordset`` turns a missing key into ``NULL``; ``bytes`` travel as
  ``\\x`` hex, which is ``bytea``'s input format.
- **Other databases** (SQLite): one ``INSERT`` executemany per non-empty table, on the driver's
  cursor (:class:`sandbox.db_prepared.Prepared`), every column given (NULL when missing, as above).

``skip_existing`` names tables whose rows are kept as they are when the key is already there
(``ON CONFLICT DO NOTHING``: evidence bodies, stored once by hash). :meth:`sandbox.db.Database.insert_rows`
runs the same statement outside any transaction of the caller: on PostgreSQL one round trip in
all (no ``BEGIN``/``COMMIT``), which is what a durable evidence write costs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import orjson
from sqlalchemy import Connection, Table, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import TextClause

from sandbox.db_prepared import Prepared


def _encode(value: object) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    raise TypeError(f"cannot store {type(value).__name__} through jsonb_populate_recordset")


@cache
def _defaults(table: Table) -> tuple[dict[str, Any], dict[str, Callable[[], Any]]]:
    """Scalar and callable Python-side column defaults of ``table``."""
    scalars: dict[str, Any] = {}
    calls: dict[str, Callable[[], Any]] = {}
    for col in table.columns:
        default = col.default
        if default is None:
            continue
        if default.is_callable:
            calls[col.name] = lambda fn=default.arg: fn(None)
        elif default.is_scalar:
            scalars[col.name] = default.arg
    return scalars, calls


@cache
def statement_sql(tables: tuple[Table, ...], skip_existing: frozenset[str] = frozenset(), *,
                  positional: bool = False, wait_for_flush: bool = True) -> str:
    """PostgreSQL text of the one statement inserting into ``tables``: parameter ``n`` (``:p<n>``,
    or ``$<n+1>`` when ``positional``, for asyncpg) is the JSON array of ``tables[n]``'s rows.
    ``wait_for_flush=False``, for a statement that is a transaction by itself: its commit does not
    wait for the WAL to reach the disk (``set_config('synchronous_commit', 'off', true)`` is
    ``SET LOCAL``, evaluated with the last table's rows; measured here: 0.14 instead of 0.3 ms a
    commit). It survives the node being killed, not a crash of the database server in the next
    few hundred milliseconds (docs/scale.md)."""
    def insert(n: int, t: Table) -> str:
        param = f"${n + 1}" if positional else f":p{n}"
        conflict = " ON CONFLICT DO NOTHING" if t.name in skip_existing else ""
        local = "" if wait_for_flush or n < len(tables) - 1 else \
            " CROSS JOIN (SELECT set_config('synchronous_commit', 'off', true)) AS cfg"
        return f"INSERT INTO {t.name} SELECT r.* FROM jsonb_populate_recordset(NULL::{t.name}, " \
               f"CAST({param} AS jsonb)) AS r{local}{conflict}"

    *ctes, last = tables
    sql = insert(len(ctes), last)
    if ctes:
        sql = "WITH " + ", ".join(f"i{n} AS ({insert(n, t)})" for n, t in enumerate(ctes)) + " " + sql
    return sql


@cache
def _statement(tables: tuple[Table, ...], skip_existing: frozenset[str]) -> TextClause:
    return text(statement_sql(tables, skip_existing))


def _full(table: Table, rows: list[dict[str, Any]], every_column: bool = False) -> list[dict[str, Any]]:
    """``rows`` with the columns' Python-side defaults (and NULL for any other missing column when
    ``every_column``: what ``jsonb_populate_recordset`` does)."""
    scalars, calls = _defaults(table)
    if every_column:
        scalars = {**dict.fromkeys(table.columns.keys()), **scalars}
    full = []
    for row in rows:
        missing = {k: fn() for k, fn in calls.items() if k not in row}
        full.append({**scalars, **missing, **row})
    return full


def json_rows(table: Table, rows: list[dict[str, Any]]) -> str:
    """``rows`` as the JSON array :func:`statement_sql` takes for ``table``."""
    return orjson.dumps(_full(table, rows), default=_encode).decode()


@cache
def _sqlite_insert(table: Table, skip_existing: bool) -> Prepared:
    stmt = sqlite_insert(table)
    return Prepared(stmt.on_conflict_do_nothing() if skip_existing else stmt)


def insert_rows(conn: Connection, parts: Sequence[tuple[Table, list[dict[str, Any]]]],
                skip_existing: frozenset[str] = frozenset()) -> None:
    """Insert each ``(table, rows)`` of ``parts`` (in order) within ``conn``'s transaction.
    Synchronous: called inside a function run by :meth:`sandbox.db.Database.run` (an async session
    can reach it through ``run_sync``)."""
    if conn.dialect.name == "postgresql":
        tables = tuple(t for t, _ in parts)
        conn.execute(_statement(tables, skip_existing),
                     {f"p{n}": json_rows(t, rows) for n, (t, rows) in enumerate(parts)})
        return
    for table, rows in parts:  # on the driver's cursor (sandbox.db_prepared): no SQLAlchemy per row
        if rows:
            _sqlite_insert(table, table.name in skip_existing).execute_many(conn, _full(table, rows, True))
