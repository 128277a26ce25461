"""Evidence: every exchange a service handles, recorded with its bodies (DESIGN "Evidence";
STYLE §6).

One recorder API for every protocol: HTTP is recorded by :mod:`sandbox.http_evidence` (a
middleware), and a service handling SOAP on HTTP only *annotates* that record
(:func:`annotate`); SMTP/IMAP handlers call ``ctx.recorder.record``. Bodies are stored once, by
the SHA-256 of their full bytes, cut at ``evidence_body_limit``. This module holds the exchange
model and :class:`EvidenceRepository`; the recorder in front of it (batching, durable records, the
flush barrier, wake-ups of waiting conformance steps) is :mod:`sandbox.evidence_recorder`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Table, delete, func, select
from sqlalchemy.exc import IntegrityError

from sandbox import db_bulk
from sandbox.db import Database, as_utc
from sandbox.models import BodyRow, DeploymentSecretRow, ExchangeRow
from sandbox.redaction import Redactor

log = logging.getLogger(__name__)
SALT_NAME = "evidence_salt"


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
    h = f"{value:032x}"  # str(uuid.UUID(int=value)) without the checks of a value built right here
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


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


# what the writer inserts (sandbox.db_bulk); a body already stored is kept as is
_BODIES: Table = BodyRow.__table__  # type: ignore[assignment]
_EXCHANGES: Table = ExchangeRow.__table__  # type: ignore[assignment]
_KEEP_BODIES = frozenset({_BODIES.name})
#: rows as :func:`sandbox.db_bulk.insert_rows` parts, and the tables whose rows already there are kept
Rows = tuple[list[tuple[Table, list[dict[str, Any]]]], frozenset[str]]


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

    def _rows(self, exchanges: list[Exchange], redactor: Redactor) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The body rows (each distinct body once) and exchange rows of ``exchanges``."""
        bodies: dict[str, dict[str, Any]] = {}
        rows = []
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
        return list(bodies.values()), rows

    async def write(self, exchanges: list[Exchange]) -> None:
        await self.redactor()  # loaded once; parts() needs it
        parts, keep = self.parts(exchanges)
        # identical bodies are kept once; a response may be waiting for this commit
        # (EvidenceRecorder.record_durable): one statement, one round trip on PostgreSQL, whose
        # commit need not wait for the WAL's fsync: a node's SIGKILL cannot undo a commit the
        # server has (docs/scale.md)
        await self.db.insert_rows(parts, skip_existing=keep, wait_for_flush=False)

    def write_in(self, conn: Connection, exchanges: list[Exchange]) -> None:
        """Write ``exchanges`` in the caller's open transaction (a function run by
        :meth:`Database.run`): the evidence of a domain change commits, or rolls back, with the change
        itself — one commit instead of two, and never a change without its exchange (issue 19
        "where there is one"). Tell the recorder once it committed
        (:meth:`sandbox.evidence_recorder.EvidenceRecorder.committed`). Needs the salt loaded
        (:meth:`redactor`, done when the recorder starts)."""
        parts, keep = self.parts(exchanges)
        db_bulk.insert_rows(conn, parts, skip_existing=keep)

    def parts(self, exchanges: list[Exchange]) -> Rows:
        """The rows writing ``exchanges``, as :func:`sandbox.db_bulk.insert_rows` parts, and the tables
        whose rows already there are kept: for a transaction that inserts its own rows with them, in
        the same statement (on PostgreSQL one round trip for the change and its evidence). Needs the
        salt loaded, as :meth:`write_in`."""
        if self._redactor is None:
            raise RuntimeError("evidence salt not loaded: await EvidenceRepository.redactor() first")
        bodies, rows = self._rows(exchanges, self._redactor)
        return [(_BODIES, bodies), (_EXCHANGES, rows)], _KEEP_BODIES

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
