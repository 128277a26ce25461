"""Changes that per-process caches must see, recorded by the database layer itself (DESIGN
"Persistence"; issue 13 §3, issue 19 "change propagation").

Hot paths keep per-process copies of rarely changing rows (scripted faults, PSC clients, session
revocations, signing keys, workspaces, personas, RNIV statuses). A change made through any worker
or any node must be honoured by every process **before its next request that depends on it**.

**Which writes count** — the module owning a cache declares the table it caches with
:func:`watch` (and which statements matter: a new session needs no invalidation, its revocation
does). The database layer then sees every ``INSERT``/``UPDATE``/``DELETE`` on a watched table
(SQLAlchemy's ``before_execute`` event, and :class:`sandbox.db_prepared.Prepared` for statements
run on the driver's cursor) and records the change when the transaction commits. No writer calls
anything: there is nothing to forget.

**How the change travels**

- PostgreSQL (several nodes): in the writer's own transaction, just before its COMMIT, the
  ``generation`` of each touched table in ``sandbox_changes`` goes up by one and ``pg_notify``
  announces it, so the change and its record commit together (a crash cannot keep one without the
  other). A cache entry is valid while the generations of its tables are those read when it was
  filled. The check that guarantees ordering is one read of ``sandbox_changes`` per request
  (:class:`ChangeScope`), started after the request arrived, shared by every cache the request
  consults and by every concurrent request that arrived before it started (:meth:`Changes.stamp`):
  a change committed before a request reached any node is seen by that request. The notification
  only makes refreshes eager (a node reloads its signing keys before a request needs them): it can
  arrive after the next request, so correctness never depends on it.
- SQLite (one machine): the counter is 8 bytes of a memory-mapped file in the data folder
  (:class:`ChangeCounter`, shared by ``serve --workers N``), bumped just after the commit; reading
  it costs no system call, so every check reads it.

A cache's ``ttl`` only bounds how long a change made outside the sandbox (SQL by hand) goes unseen.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import mmap
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, Column, FromClause, MetaData, String, Table
from sqlalchemy.sql.dml import Delete, Insert, Update

log = logging.getLogger(__name__)

SIZE = 8
#: ``Table.info`` key holding the statement kinds (insert, update, delete) that invalidate copies
WATCH_KEY = "mes_sandbox_changes"
#: PostgreSQL channel of the notifications (payload: the touched tables, comma-separated)
CHANNEL = "mes_sandbox_changes"
ALL_KINDS = ("insert", "update", "delete")
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

#: the generations (PostgreSQL); created by the ``changes`` Alembic branch
CHANGES = Table("sandbox_changes", MetaData(),
                Column("topic", String(64), primary_key=True),
                Column("generation", BigInteger, nullable=False))


def watch(table: FromClause, *, on: Iterable[str] = ALL_KINDS) -> Table:
    """Declare that per-process copies of ``table``'s rows exist: every ``on`` statement on it is a
    change all processes must see. Called at import by the module that owns the cache (with a
    mapped class's ``__table__``)."""
    if not isinstance(table, Table):
        raise TypeError(f"watch() takes a Table, not {type(table).__name__}")
    kinds = frozenset(on)
    if not kinds <= set(ALL_KINDS) or not _NAME.match(table.name):
        raise ValueError(f"cannot watch {table.name!r} on {sorted(kinds)}")
    table.info[WATCH_KEY] = kinds
    return table


def touched(stmt: Any) -> frozenset[str]:
    """Watched tables that ``stmt`` writes at its top level (an ``INSERT``/``UPDATE``/``DELETE``)."""
    kind = "insert" if isinstance(stmt, Insert) else "update" if isinstance(stmt, Update) \
        else "delete" if isinstance(stmt, Delete) else None
    if kind is None:
        return frozenset()
    table = stmt.table
    kinds = getattr(table, "info", {}).get(WATCH_KEY)
    return frozenset((table.name,)) if kinds and kind in kinds else frozenset()


def touched_anywhere(stmt: Any) -> frozenset[str]:
    """:func:`touched` for ``stmt`` and every statement inside it (data-modifying CTEs): for
    statements compiled once (:class:`sandbox.db_prepared.Prepared`), walked once."""
    from sqlalchemy.sql.visitors import iterate

    found: set[str] = set()
    for element in iterate(stmt):
        found |= touched(element)
    return frozenset(found)


def bump_sql(topics: Iterable[str]) -> str:
    """The statement that records ``topics`` in the writer's transaction (PostgreSQL): each
    generation up by one, then one notification. Topics are table names (checked by :func:`watch`),
    written in sorted order so two writers lock the rows in the same order."""
    names = sorted(topics)
    if not names or not all(_NAME.match(t) for t in names):
        raise ValueError(f"bad topics {names}")
    listed = ",".join(names)
    return (f"WITH bumped AS (INSERT INTO {CHANGES.name} (topic, generation) "
            f"SELECT t, 1 FROM unnest(string_to_array('{listed}', ',')) AS t "
            f"ON CONFLICT (topic) DO UPDATE SET generation = {CHANGES.name}.generation + 1 RETURNING topic) "
            f"SELECT pg_notify('{CHANNEL}', '{listed}') FROM (SELECT count(*) FROM bumped) AS done")


# an exclusive lock on the counter file around a bump: flock on POSIX, the C runtime's byte-range
# lock on Windows (the data folder is local to the machine in both cases)
if sys.platform == "win32":
    import msvcrt

    def _lock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_LOCK, SIZE)

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, SIZE)
else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class ChangeCounter:
    """SQLite's single-host generation: 8 bytes of a memory-mapped file in the data folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._map: mmap.mmap | None = None
        self._fd = -1

    def _open(self) -> mmap.mmap:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        _lock(fd)
        try:
            if os.fstat(fd).st_size < SIZE:
                os.ftruncate(fd, SIZE)
        finally:
            _unlock(fd)
        self._fd = fd
        self._map = mmap.mmap(fd, SIZE)
        return self._map

    def value(self) -> int:
        """The current generation (changes whenever any process bumps it)."""
        m = self._map or self._open()
        return int.from_bytes(m[:SIZE], "little")

    def bump(self) -> None:
        """Record a change: every process's cached copies become stale."""
        m = self._map or self._open()
        _lock(self._fd)
        try:
            m[:SIZE] = ((int.from_bytes(m[:SIZE], "little") + 1) % 2**63).to_bytes(SIZE, "little")
        finally:
            _unlock(self._fd)

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            os.close(self._fd)
            self._map, self._fd = None, -1


class _MemoryCounter:
    """A process's own counter, for a :class:`Changes` given no file (tools, benchmarks)."""

    def __init__(self) -> None:
        self._value = 0

    def value(self) -> int:
        return self._value

    def bump(self) -> None:
        self._value += 1

    def close(self) -> None:
        pass


class _Scope:
    """One request's view of the generations (read once, on first need)."""

    __slots__ = ("changes", "generations", "open", "writes")

    def __init__(self, changes: Changes) -> None:
        self.changes = changes
        self.generations: dict[str, int] | None = None
        self.open = True
        self.writes = -1  # this process's watched writes when the generations were read


_SCOPE: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("mes_sandbox_change_scope", default=None)
Fetch = Callable[[], Awaitable[dict[str, int]]]


class Changes:
    """Where a process reads the generations and records its changes (one per :class:`Database`).

    ``fetch`` reads ``sandbox_changes`` (PostgreSQL); without it, ``counter`` (SQLite) is used."""

    def __init__(self, counter: ChangeCounter | _MemoryCounter | None = None, fetch: Fetch | None = None) -> None:
        self.counter = counter or _MemoryCounter()
        self._fetch = fetch
        self._next: asyncio.Future[dict[str, int]] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._listeners: dict[str, list[Callable[[], None]]] = {}
        #: reads of ``sandbox_changes`` made (tests and benchmarks look at it)
        self.reads = 0
        #: watched writes this process committed: a request's read older than one of them is
        #: read again, so a request sees what it (or another request of this process) just wrote
        self.writes = 0

    def use_fetch(self, fetch: Fetch) -> None:
        self._fetch = fetch

    @property
    def shared(self) -> bool:
        """True when changes travel through the database (several nodes possible)."""
        return self._fetch is not None

    def committed(self, topics: Iterable[str]) -> None:
        """After a commit that touched ``topics`` (SQLite): bump the file counter."""
        if topics:
            self.counter.bump()

    def wrote(self) -> None:
        """This process is committing a watched write (PostgreSQL; recorded in the transaction)."""
        self.writes += 1

    async def stamp(self, topics: tuple[str, ...] = ()) -> int:
        """A number that changes whenever a table of ``topics`` (every watched table if empty)
        changed: the sum of their generations, which only go up."""
        if self._fetch is None:
            return self.counter.value()
        scope = _SCOPE.get()
        if scope is not None and scope.open and scope.changes is self:
            if scope.generations is None or scope.writes != self.writes:
                scope.writes = self.writes
                scope.generations = await self._read()
            generations = scope.generations
        else:
            generations = await self._read()
        if not topics:
            return sum(generations.values())
        return sum(generations.get(t, 0) for t in topics)

    async def _read(self) -> dict[str, int]:
        """The generations from a read that *started after this call*: concurrent callers share
        one (at most one read in flight, the callers arriving meanwhile wait for the next)."""
        loop = asyncio.get_running_loop()
        if self._reader is not None and (self._reader.done() or self._reader.get_loop() is not loop):
            self._reader = self._next = None  # left by a loop that ended mid-read (tools, tests)
        if self._next is None:
            self._next = loop.create_future()
        waiter = self._next
        if self._reader is None:
            self._reader = loop.create_task(self._read_in_turn())
        return await asyncio.shield(waiter)

    async def _read_in_turn(self) -> None:
        assert self._fetch is not None
        try:
            while self._next is not None:
                waiter, self._next = self._next, None
                try:
                    found = await self._fetch()
                    self.reads += 1
                except Exception as exc:  # noqa: BLE001 - handed to every waiting caller
                    waiter.set_exception(exc)
                else:
                    waiter.set_result(found)
        finally:
            self._reader = None

    def on_change(self, topic: str, callback: Callable[[], None]) -> None:
        """Call ``callback`` (on the event loop) when another node or process announces a change of
        ``topic``: an eager refresh, never the guarantee (PostgreSQL only; see the module)."""
        self._listeners.setdefault(topic, []).append(callback)

    def notified(self, payload: str) -> None:
        for topic in payload.split(","):
            for callback in self._listeners.get(topic, ()):
                try:
                    callback()
                except Exception:  # noqa: BLE001 - an eager refresh failing only costs a later reload
                    log.exception("refresh after a change of %s failed", topic)

    def close(self) -> None:
        self.counter.close()


class ChangeScope:
    """ASGI middleware: each HTTP request reads the generations at most once, on first need, after
    it arrived (:meth:`Changes.stamp`). Work a request leaves running reads afresh once it ended."""

    def __init__(self, app: Any, changes: Changes) -> None:
        self.app, self.changes = app, changes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.changes.shared:
            await self.app(scope, receive, send)
            return
        mine = _Scope(self.changes)
        token = _SCOPE.set(mine)
        try:
            await self.app(scope, receive, send)
        finally:
            mine.open = False
            _SCOPE.reset(token)


class FreshCache:
    """Values loaded on demand and kept per process until a change of ``tables`` is recorded by
    any process or node (every watched table when empty), and ``ttl`` seconds at most."""

    def __init__(self, ttl: float, changes: Changes, size: int = 10_000, *, tables: Iterable[Table | str] = ()) -> None:
        self.ttl, self.changes, self.size = ttl, changes, size
        self.topics = tuple(sorted(t if isinstance(t, str) else t.name for t in tables))
        self._data: dict[Any, tuple[float, int, Any]] = {}

    def _fresh(self, key: Any, now: float, generation: int) -> tuple[float, int, Any] | None:
        hit = self._data.get(key)
        return hit if hit is not None and now - hit[0] < self.ttl and hit[1] == generation else None

    def _keep(self, now: float, generation: int, values: dict[Any, Any]) -> None:
        if len(self._data) + len(values) > self.size:
            self._data.clear()
        for key, value in values.items():
            self._data[key] = (now, generation, value)

    async def get(self, key: Any, load: Callable[[], Awaitable[Any]]) -> Any:
        generation = await self.changes.stamp(self.topics)
        now = time.monotonic()
        hit = self._fresh(key, now, generation)
        if hit is not None:
            return hit[2]
        value = await load()
        self._keep(now, generation, {key: value})
        return value

    async def get_many(self, keys: list[Any],
                       load: Callable[[list[Any]], Awaitable[dict[Any, Any]]]) -> dict[Any, Any]:
        """Values of ``keys`` (None for a key ``load`` does not find, remembered too): one
        ``load(missing_keys)`` for those not fresh here."""
        generation = await self.changes.stamp(self.topics)
        now = time.monotonic()
        out: dict[Any, Any] = {}
        missing = []
        for key in keys:
            hit = self._fresh(key, now, generation)
            if hit is None:
                missing.append(key)
            else:
                out[key] = hit[2]
        if missing:
            found = await load(missing)
            loaded = {key: found.get(key) for key in missing}
            self._keep(now, generation, loaded)
            out.update(loaded)
        return out

    def drop(self, key: Any | None = None) -> None:
        """Forget this process's copy of ``key``, or of everything if None (other processes see
        the change through the database layer)."""
        if key is None:
            self._data.clear()
        else:
            self._data.pop(key, None)
