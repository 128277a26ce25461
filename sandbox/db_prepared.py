"""Statements compiled once and run on the driver's cursor, for the hot paths (DESIGN "Persistence";
STYLE §13).

SQLAlchemy Core's execution of a statement (cache key, execution context, parameter and result
processing, the ``Result``) costs more CPU here than SQLite takes to run a claim or an insert on a
local file: a code exchange (claim the code, insert the refresh token) took 0.20–0.24 ms through
``Connection.execute`` and 0.09 ms on the DB-API cursor, BEGIN and COMMIT included.

A :class:`Prepared` statement is compiled by SQLAlchemy, once per dialect: its SQL, the order of its
parameters, and its types' bind and result processors, so values are written and read back exactly
as SQLAlchemy writes and reads them (SQLite keeps datetimes as text). It then runs on the cursor of
the caller's connection, in the caller's transaction (:meth:`sandbox.db.Database.run`). Every
parameter must be given by name: no column default is filled in, and a missing one raises
``KeyError``, on every database. On PostgreSQL it runs through SQLAlchemy (there a statement's
round trip dwarfs this); :meth:`sandbox.db.Database.autocommit_first` hands its SQL and processed
parameters to asyncpg.

Writes to watched tables (:mod:`sandbox.changes`), data-modifying CTEs included, are found once
(:attr:`Prepared.touched`) and noted on the caller's connection wherever the statement runs, so the
commit records them as it does for any other statement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, Dialect, Executable, Table, bindparam, insert, inspect

from sandbox.changes import touched_anywhere
from sandbox.db_changes import note

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class Compiled:
    sql: str
    order: tuple[str, ...]
    binds: tuple[Processor, ...]
    results: tuple[Processor, ...]
    fixed: Mapping[str, Any]  # the statement's own values (literals SQLAlchemy made parameters)
    required: frozenset[str]

    def check(self, values: Mapping[str, Any]) -> None:
        missing = self.required.difference(values)
        if missing:
            raise KeyError(f"no value for parameter(s) {', '.join(sorted(missing))}")

    def params(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        if self.fixed:
            values = {**self.fixed, **values}
        return tuple(values[name] if p is None else p(values[name])
                     for name, p in zip(self.order, self.binds, strict=True))


def _cursor(conn: Connection) -> closing[Any]:
    """A cursor of the DB-API connection under ``conn`` (in its transaction), closed after use."""
    return closing(conn.connection.dbapi_connection.cursor())  # type: ignore[union-attr]


class Prepared:
    """One Core statement, built once (at import), compiled once per dialect."""

    def __init__(self, stmt: Executable) -> None:
        self.stmt = stmt
        self._compiled: dict[str, Compiled] = {}
        #: the watched tables it writes (sandbox.changes); computed at first use, when every
        #: module has declared its watched tables
        self._touched: frozenset[str] | None = None

    @property
    def touched(self) -> frozenset[str]:
        if self._touched is None:
            self._touched = touched_anywhere(self.stmt)
        return self._touched

    def compiled(self, dialect: Dialect) -> Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            c = self.stmt.compile(dialect=dialect)
            order = tuple(c.positiontup or ())
            binds = tuple(c.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in order)
            fixed = {name: c.binds[name].effective_value for name in order if not c.binds[name].required}
            required = frozenset(name for name, b in c.binds.items() if b.required)
            columns = getattr(self.stmt, "exported_columns", ())
            results = tuple(col.type.dialect_impl(dialect).result_processor(dialect, None) for col in columns)
            found = self._compiled[dialect.name] = Compiled(c.string, order, binds, results, fixed, required)
        return found

    def first(self, conn: Connection, values: Mapping[str, Any]) -> Any:
        """The first row (columns as attributes), or None."""
        if self.touched:
            note(conn.info, self.touched)
        if conn.dialect.name != "sqlite":
            self.compiled(conn.dialect).check(values)
            return conn.execute(self.stmt, values).first()
        c = self.compiled(conn.dialect)
        with _cursor(conn) as cursor:
            row = cursor.execute(c.sql, c.params(values)).fetchone()
            if row is None:
                return None
            names = [d[0] for d in cursor.description]
        results = c.results or (None,) * len(row)
        if len(results) != len(row):
            raise RuntimeError(f"{len(row)} columns returned, {len(results)} expected: {c.sql[:100]}")
        return SimpleNamespace(**{name: v if p is None or v is None else p(v)
                                  for name, v, p in zip(names, row, results, strict=True)})

    def execute(self, conn: Connection, values: Mapping[str, Any]) -> int:
        """Run it; the number of rows it changed."""
        if self.touched:
            note(conn.info, self.touched)
        if conn.dialect.name != "sqlite":
            self.compiled(conn.dialect).check(values)
            return conn.execute(self.stmt, values).rowcount
        c = self.compiled(conn.dialect)
        with _cursor(conn) as cursor:
            return cursor.execute(c.sql, c.params(values)).rowcount

    def execute_many(self, conn: Connection, rows: list[Mapping[str, Any]]) -> None:
        """Run it once per row (DB-API ``executemany``)."""
        if not rows:
            return
        if self.touched:
            note(conn.info, self.touched)
        c = self.compiled(conn.dialect)
        for values in rows:
            c.check(values)
        if conn.dialect.name != "sqlite":
            conn.execute(self.stmt, rows)
            return
        with _cursor(conn) as cursor:
            cursor.executemany(c.sql, [c.params(values) for values in rows])


class PreparedInsert:
    """``INSERT … RETURNING <generated key>`` of many rows, the keys in the rows' order. On SQLite,
    one :class:`Prepared` insert per row on the driver's cursor (a statement on a local file costs
    microseconds; SQLAlchemy's execution of a multi-row insert cost more than the rest of a mail
    delivery); elsewhere one multi-row statement (SQLAlchemy's "insertmanyvalues"), so that one
    round trip serves the batch. The ``key`` column is left out of the values: the database
    generates it."""

    def __init__(self, model: type[Any], key: str) -> None:
        """``model``: a mapped class."""
        self._key = key
        table: Table = inspect(model).local_table
        column = table.c[key]
        self._one = Prepared(insert(table).values(
            {c.name: bindparam(c.name) for c in table.columns if c.name != key}).returning(column))
        self._many = insert(table).returning(column, sort_by_parameter_order=True)

    def keys(self, conn: Connection, rows: list[dict[str, Any]]) -> list[Any]:
        if not rows:
            return []
        if conn.dialect.name == "sqlite":
            return [getattr(self._one.first(conn, row), self._key) for row in rows]
        return list(conn.execute(self._many, rows).scalars().all())
