"""Inserting rows into several tables in one database round trip (DESIGN "Persistence").

A DMP submission writes a binary, a document, a submission set and an audit trace together. Built
as SQLAlchemy statements, those inserts cost more to compile than to run (≈ 5 ms of CPU per
submission with multi-row ``VALUES`` in CTEs, whose compiled form is not reused). Here:

- **PostgreSQL**: one statement per list of tables, fixed text, so asyncpg reuses its prepared
  statement: data-modifying CTEs, each ``INSERT INTO t SELECT * FROM jsonb_populate_recordset(NULL::t,
  $n)`` fed one JSON array per table (an empty array inserts nothing). Column defaults are applied
  here since ``jsonb_populate_recordset`` turns a missing key into ``NULL``; ``bytes`` travel as
  ``\\x`` hex, which is ``bytea``'s input format.
- **Other databases** (SQLite): one Core ``INSERT`` executemany per non-empty table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import orjson
from sqlalchemy import Connection, Table, insert, text
from sqlalchemy.sql.elements import TextClause


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
def _statement(tables: tuple[Table, ...]) -> TextClause:
    *ctes, last = tables
    feed = "SELECT * FROM jsonb_populate_recordset(NULL::{t}, CAST(:p{n} AS jsonb))"
    sql = f"INSERT INTO {last.name} " + feed.format(t=last.name, n=len(ctes))
    if ctes:
        sql = "WITH " + ", ".join(f"i{n} AS (INSERT INTO {t.name} {feed.format(t=t.name, n=n)})"
                                  for n, t in enumerate(ctes)) + " " + sql
    return text(sql)


def _json_rows(table: Table, rows: list[dict[str, Any]]) -> str:
    scalars, calls = _defaults(table)
    full = []
    for row in rows:
        missing = {k: fn() for k, fn in calls.items() if k not in row}
        full.append({**scalars, **missing, **row})
    return orjson.dumps(full, default=_encode).decode()


def insert_rows(conn: Connection, parts: Sequence[tuple[Table, list[dict[str, Any]]]]) -> None:
    """Insert each ``(table, rows)`` of ``parts`` (in order) within ``conn``'s transaction.
    Synchronous: called inside a function run by :meth:`sandbox.db.Database.run` (an async session
    can reach it through ``run_sync``)."""
    if conn.dialect.name == "postgresql":
        tables = tuple(t for t, _ in parts)
        conn.execute(_statement(tables), {f"p{n}": _json_rows(t, rows) for n, (t, rows) in enumerate(parts)})
        return
    for table, rows in parts:
        if rows:
            conn.execute(insert(table), rows)
