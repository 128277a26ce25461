"""Evidence: every exchange a service handles, recorded with its bodies (DESIGN "Evidence";
STYLE §6).

One recorder API for every protocol: HTTP is recorded by :mod:`sandbox.http_evidence` (a
middleware), and a service handling SOAP on HTTP only *annotates* that record
(:func:`annotate`); SMTP/IMAP handlers call :meth:`EvidenceRecorder.record`. Bodies are stored
once, by the SHA-256 of their full bytes, cut at ``evidence_body_limit``. Writes are batched by a
background task so recording costs a request almost nothing; :meth:`flush` makes them visible.

Durability (issue 19): :meth:`EvidenceRecorder.record_durable` waits until the exchange is committed
(group commit: one transaction for whatever is queued, without the batching pause). The HTTP
middleware uses it for requests that change state (every method but GET/HEAD/OPTIONS: ITI-65, PDSm
PATCH, token issuance, INSi SOAP, ...) before the response's last bytes leave, so an exchange a
client saw answered is in the evidence even after a SIGKILL of the node. Reads stay batched: what a
killed node had answered in its last batching window (about :data:`BATCH_WINDOW` plus one write)
can be lost (docs/scale.md). :meth:`EvidenceRecorder.barrier` is the flush barrier for the
conformance runner: everything recorded on this node before the call is committed when it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import secrets
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from sandbox.db import Database, as_utc
from sandbox.db_prepared import Prepared
from sandbox.models import BodyRow, DeploymentSecretRow, ExchangeRow
from sandbox.redaction import Redactor

log = logging.getLogger(__name__)


class Protocol(StrEnum):
    HTTP = "http"
    SOAP = "soap"
    SMTP = "smtp"
    IMAP = "imap"


class Direction(StrEnum):
    INBOUND = "inbound"  # a client called the sandbox
    OUTBOUND = "outbound"  # the sandbox called out or delivered (e.g. an MDN)


def time_ordered_uuid() -> str:
    """A UUID version 7 (RFC 9562 §5.7): Unix time in milliseconds, then 74 random bits. Exchanges
    and generated correlation ids are indexed by it: new keys land at the end of the index instead
    of on a random page of it, which SQLite would write again at each commit (random ids cost
    ≈ 0.03 ms more per recorded exchange, more as the table grows)."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # variant 10
    return str(uuid.UUID(int=value))


@dataclass
class Exchange:
    """One recorded exchange (domain object returned by :class:`EvidenceRepository`)."""

    workspace: str
    protocol: Protocol
    service: str
    direction: Direction
    started_at: datetime
    ended_at: datetime
    operation: str = ""
    actor: str = ""
    correlation_id: str = ""
    status: str = ""
    summary: dict[str, Any] = field(default_factory=dict)
    request_body: bytes | None = None
    request_content_type: str = ""
    response_body: bytes | None = None
    response_content_type: str = ""
    id: str = field(default_factory=time_ordered_uuid)
    request_sha256: str | None = None
    response_sha256: str | None = None

    def to_dict(self, base_url: str = "") -> dict[str, Any]:
        link = f"{base_url}/sandbox/api/exchanges/{self.id}"
        return {
            "id": self.id,
            "workspace": self.workspace,
            "protocol": str(self.protocol),
            "service": self.service,
            "operation": self.operation,
            "direction": str(self.direction),
            "actor": self.actor,
            "correlation_id": self.correlation_id,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
            "duration_ms": round((self.ended_at - self.started_at).total_seconds() * 1000, 3),
            "status": self.status,
            "summary": self.summary,
            "request_body": {"sha256": self.request_sha256, "href": f"{link}/request-body"}
            if self.request_sha256 else None,
            "response_body": {"sha256": self.response_sha256, "href": f"{link}/response-body"}
            if self.response_sha256 else None,
        }


@dataclass(frozen=True)
class StoredBody:
    sha256: str
    size: int
    truncated: bool
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ExchangeFilter:
    workspace: str | None = None
    protocol: str | None = None
    service: str | None = None
    correlation_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    offset: int = 0
    #: exact matches on the recorded label, actor, status ("200", "500"…) and direction
    operation: str | None = None
    actor: str | None = None
    status: str | None = None
    direction: str | None = None


def _to_domain(row: ExchangeRow) -> Exchange:
    return Exchange(
        id=row.id, workspace=row.workspace, protocol=Protocol(row.protocol), service=row.service,
        direction=Direction(row.direction), started_at=as_utc(row.started_at),
        ended_at=as_utc(row.ended_at), operation=row.operation, actor=row.actor,
        correlation_id=row.correlation_id, status=row.status, summary=row.summary or {},
        request_sha256=row.request_sha256, response_sha256=row.response_sha256,
    )


# the writer's statements, compiled once (sandbox.db_prepared); a body already stored is kept as is
_INSERT_BODY = {name: Prepared(dialect.insert(BodyRow).on_conflict_do_nothing(index_elements=["sha256"]))
                for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))}
_INSERT_EXCHANGE = Prepared(ExchangeRow.__table__.insert())


class EvidenceRepository:
    """Reads and writes exchanges and bodies."""

    def __init__(self, db: Database, body_limit: int) -> None:
        self.db = db
        self.body_limit = body_limit
        self._redactor: Redactor | None = None

    async def redactor(self) -> Redactor:
        """The deployment's redactor; its salt is created once, shared by every node and worker."""
        if self._redactor is None:
            salt = await self._salt()
            self._redactor = Redactor(bytes.fromhex(salt))
        return self._redactor

    async def _salt(self) -> str:
        async with self.db.session() as s:
            row = await s.get(DeploymentSecretRow, SALT_NAME)
            if row is not None:
                return row.value
        try:
            async with self.db.session() as s:
                s.add(DeploymentSecretRow(name=SALT_NAME, value=secrets.token_hex(32)))
        except IntegrityError:  # another process created it first: use theirs
            pass
        async with self.db.session() as s:
            row = await s.get(DeploymentSecretRow, SALT_NAME)
            assert row is not None
            return row.value

    def _body_values(self, data: bytes, content_type: str) -> dict[str, Any]:
        return {
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "truncated": len(data) > self.body_limit,
            "content_type": content_type[:200],
            "data": data[: self.body_limit],
        }

    async def write(self, exchanges: list[Exchange]) -> None:
        bodies: dict[str, dict[str, Any]] = {}
        rows = []
        redactor = await self.redactor()
        for ex in exchanges:
            # secrets are replaced before anything is hashed or written (sandbox.redaction)
            ex.summary = redactor.summary(ex.summary)
            for attr, ctype in (("request", ex.request_content_type), ("response", ex.response_content_type)):
                data = getattr(ex, f"{attr}_body")
                if data:
                    data = redactor.body(data, ctype)
                    values = self._body_values(data, ctype)
                    bodies.setdefault(values["sha256"], values)
                    setattr(ex, f"{attr}_sha256", values["sha256"])
            rows.append({
                "id": ex.id, "workspace": ex.workspace, "protocol": str(ex.protocol),
                "service": ex.service, "operation": ex.operation[:120], "direction": str(ex.direction),
                "actor": ex.actor[:300], "correlation_id": ex.correlation_id[:120],
                "started_at": ex.started_at, "ended_at": ex.ended_at, "status": str(ex.status)[:40],
                "summary": ex.summary, "request_sha256": ex.request_sha256,
                "response_sha256": ex.response_sha256,
            })

        # identical bodies are kept once; a response may be waiting for this commit
        # (EvidenceRecorder.record_durable): on PostgreSQL it need not wait for the WAL's fsync,
        # a node's SIGKILL cannot undo a commit the server has (docs/scale.md)
        await self.db.execute_many([(_INSERT_BODY[self.db.engine.dialect.name], list(bodies.values())),
                                    (_INSERT_EXCHANGE, rows)], wait_for_flush=False)

    async def list(self, f: ExchangeFilter) -> list[Exchange]:
        q = select(ExchangeRow)
        for value, column in ((f.workspace, ExchangeRow.workspace), (f.protocol, ExchangeRow.protocol),
                              (f.service, ExchangeRow.service), (f.correlation_id, ExchangeRow.correlation_id),
                              (f.operation, ExchangeRow.operation), (f.actor, ExchangeRow.actor),
                              (f.status, ExchangeRow.status), (f.direction, ExchangeRow.direction)):
            if value:  # every equality filter the exchanges API accepts, applied the same way
                q = q.where(column == value)
        if f.since:
            q = q.where(ExchangeRow.started_at >= f.since)
        if f.until:
            q = q.where(ExchangeRow.started_at <= f.until)
        q = q.order_by(ExchangeRow.started_at, ExchangeRow.id).offset(f.offset).limit(f.limit)
        async with self.db.session() as s:
            return [_to_domain(r) for r in (await s.scalars(q)).all()]

    async def get(self, exchange_id: str) -> Exchange | None:
        async with self.db.session() as s:
            row = await s.get(ExchangeRow, exchange_id)
            return _to_domain(row) if row else None

    async def body(self, sha256: str) -> StoredBody | None:
        async with self.db.session() as s:
            row = await s.get(BodyRow, sha256)
            if row is None:
                return None
            return StoredBody(row.sha256, row.size, row.truncated, row.content_type, row.data)

    async def usage(self) -> dict[str, int]:
        """Bytes of stored bodies each workspace's exchanges refer to (a body shared by two exchanges
        counts for each)."""
        sizes: dict[str, int] = {}
        async with self.db.session() as s:
            for column in (ExchangeRow.request_sha256, ExchangeRow.response_sha256):
                q = (select(ExchangeRow.workspace, func.sum(func.length(BodyRow.data)))
                     .join(BodyRow, BodyRow.sha256 == column).group_by(ExchangeRow.workspace))
                for ws, total in (await s.execute(q)).all():
                    sizes[ws] = sizes.get(ws, 0) + int(total or 0)
        return sizes

    async def enforce_quota(self, quota_bytes: int) -> int:
        """Delete each workspace's oldest exchanges (a tenth of them per round) until its bodies fit
        ``quota_bytes``; how many were deleted."""
        removed = 0
        for _ in range(200):
            over = [ws for ws, size in (await self.usage()).items() if size > quota_bytes]
            if not over:
                break
            for ws in over:
                async with self.db.session() as s:
                    count = await s.scalar(select(func.count()).where(ExchangeRow.workspace == ws)) or 0
                    step = max(1, count // 10)
                    oldest = select(ExchangeRow.id).where(ExchangeRow.workspace == ws).order_by(
                        ExchangeRow.started_at, ExchangeRow.id).limit(step)
                    ids = list((await s.scalars(oldest)).all())
                    removed += (await s.execute(delete(ExchangeRow).where(ExchangeRow.id.in_(ids)))).rowcount or 0
            await self.purge(older_than=datetime(1970, 1, 1, tzinfo=UTC))  # only drops orphan bodies
        return removed

    async def purge(self, *, older_than: datetime | None = None, workspace: str | None = None) -> int:
        """Delete exchanges (by age and/or workspace), then bodies nobody refers to any more."""
        async with self.db.session() as s:
            q = delete(ExchangeRow)
            if older_than is not None:
                q = q.where(ExchangeRow.started_at < older_than)
            if workspace is not None:
                q = q.where(ExchangeRow.workspace == workspace)
            n = (await s.execute(q)).rowcount or 0
            used = select(ExchangeRow.request_sha256).where(ExchangeRow.request_sha256.is_not(None)).union(
                select(ExchangeRow.response_sha256).where(ExchangeRow.response_sha256.is_not(None))
            )
            await s.execute(delete(BodyRow).where(BodyRow.sha256.not_in(used)))
            return n


BATCH_WINDOW = 0.02  # seconds
SALT_NAME = "evidence_salt"


class EvidenceRecorder:
    """Queue in front of :class:`EvidenceRepository`; one background writer per app."""

    def __init__(self, repo: EvidenceRepository) -> None:
        self.repo = repo
        self._queue: asyncio.Queue[Exchange] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._durable_init()  # dur (issue 19)
        # -- wake-up of waiters (conformance runner, issue 18): see :meth:`changed` -------------
        self._watchers: dict[str, list[tuple[weakref.ref[asyncio.Event], Callable[[Exchange], bool] | None]]] = {}
        self._hurry = asyncio.Event()  # set by flush(): end the batch window now
        self._in_window = False

    def record(self, exchange: Exchange) -> None:
        """Record an exchange (non-blocking)."""
        self._queue.put_nowait(exchange)
        if self._watchers:
            self._wake(exchange)

    def changed(self, workspace: str, match: Callable[[Exchange], bool] | None = None) -> asyncio.Event:
        """An event set when this process next records an exchange of ``workspace`` (that
        ``match`` accepts), before it is written: :meth:`flush` then writes it at once. Take it
        *before* reading the store, then wait on it, and no exchange is missed. In-process only:
        exchanges recorded by another worker or node wake nobody here (waiters keep a bounded
        poll for those). A waiter that drops the event is forgotten."""
        event = asyncio.Event()
        waiting = [w for w in self._watchers.get(workspace, ()) if w[0]() is not None]  # forget dropped ones
        self._watchers[workspace] = [*waiting, (weakref.ref(event), match)]
        return event

    def _wake(self, exchange: Exchange) -> None:
        waiting = self._watchers.pop(exchange.workspace, None)
        keep = []
        for ref, match in waiting or ():
            event = ref()
            if event is None:
                continue
            try:
                hit = match is None or match(exchange)
            except Exception:  # a waiter's predicate must not cost the exchange: wake it, it reads the store
                hit = True
            if hit:
                event.set()
            else:
                keep.append((ref, match))
        if keep:
            self._watchers[exchange.workspace] = keep

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="evidence-writer")

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            # let a burst accumulate: one transaction for many exchanges costs far less than many;
            # a flush() waiting for this batch, or a response held back until its exchange is
            # written (record_durable), ends the window early: nothing more to gain by waiting
            if not self._durable and not self._hurry.is_set():
                self._in_window = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._hurry.wait(), BATCH_WINDOW)
                self._in_window = False
            self._hurry.clear()
            while not self._queue.empty() and len(batch) < 500:
                batch.append(self._queue.get_nowait())
            self._taken += len(batch)
            written = False
            try:
                await self.repo.write(batch)
                written = True
            except Exception:  # evidence must never take a service down
                log.exception("could not record %d exchange(s)", len(batch))
            finally:
                for _ in batch:
                    self._queue.task_done()
                self._settle(batch, written)

    # --- dur (issue 19): durable recording and the flush barrier ---------------------------
    def _durable_init(self) -> None:
        self._durable: dict[str, asyncio.Future[bool]] = {}
        self._taken = 0  # exchanges the writer has taken from the queue
        self._written = 0  # ... and finished writing (committed or failed)
        self._progress = asyncio.Event()

    def _settle(self, batch: list[Exchange], written: bool) -> None:
        self._written += len(batch)
        for ex in batch:
            waiter = self._durable.pop(ex.id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(written)
        self._progress.set()
        self._progress = asyncio.Event()

    async def record_durable(self, exchange: Exchange, timeout: float = 10.0) -> bool:
        """Record ``exchange`` and wait until it is committed; True when it is. Group commit: it
        shares a transaction with whatever else is queued. After ``timeout`` seconds (database
        stuck) it stops waiting and answers False; the exchange stays queued."""
        if self._task is None or self._task.done():  # no writer (a command): write it now
            try:
                await self.repo.write([exchange])
                return True
            except Exception:
                log.exception("could not record exchange %s", exchange.id)
                return False
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._durable[exchange.id] = waiter
        if self._in_window:  # this response waits for the batch: end its window now
            self._hurry.set()
        self.record(exchange)
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), timeout)
        except TimeoutError:
            return False

    async def barrier(self, timeout: float = 30.0) -> bool:
        """Flush barrier: wait until every exchange recorded on this node *before the call* is
        written (unlike :meth:`flush`, exchanges recorded meanwhile do not keep it waiting under a
        steady load). True when reached within ``timeout`` seconds."""
        if self._task is None or self._task.done():
            return True
        target = self._taken + self._queue.qsize()
        deadline = asyncio.get_running_loop().time() + timeout
        while self._written < target:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return False
            try:
                await asyncio.wait_for(self._progress.wait(), left)
            except TimeoutError:
                return False
        return True
    # --- end dur

    async def flush(self) -> None:
        """Wait until every exchange recorded so far is in the database."""
        if self._task is not None and not self._task.done():
            if self._in_window or not self._queue.empty():
                self._hurry.set()
            await self._queue.join()

    async def stop(self) -> None:
        housekeeping = getattr(self, "_housekeeping", None)
        if housekeeping is not None:
            housekeeping.cancel()
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def start_housekeeping(self, retention_days: int, quota_bytes: int, interval: float = 60.0) -> None:
        """While running: every ``interval`` seconds, drop exchanges past retention and enforce the
        per-workspace quota (not only at start-up: a busy week fills a disk too)."""
        self._housekeeping = asyncio.create_task(self._keep(retention_days, quota_bytes, interval),
                                                 name="evidence-housekeeping")

    async def _keep(self, retention_days: int, quota_bytes: int, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.flush()
                await self.purge_older_than(retention_days)
                if quota_bytes > 0:
                    await self.repo.enforce_quota(quota_bytes)
            except Exception:  # housekeeping must never take a service down
                log.exception("evidence housekeeping failed")

    async def purge_older_than(self, days: int) -> int:
        if days <= 0:
            return 0
        return await self.repo.purge(older_than=datetime.now(UTC) - timedelta(days=days))
