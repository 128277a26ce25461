"""The mail store: messages per workspace, mailbox and folder (INBOX, Sent), raw bytes kept once
by hash, UIDs that only grow (RFC 3501 §2.3.1.1), flags, and the checks' result per message.

Everything a delivery writes — the raw message, one row per (mailbox, folder) and the UIDs —
is one transaction: the SMTP listener answers 250 only after it committed (nothing accepted is
ever lost). Any worker process reads what any other wrote: there is no per-process state.
"""

from __future__ import annotations

import asyncio
import builtins
import functools
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Integer, String, bindparam, cast, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from mss.models import BlobRow, FolderRow, MailboxOptionRow, MessageRow
from sandbox.db import Database, as_utc
from sandbox.db_prepared import Prepared, PreparedInsert
from sandbox.evidence import Exchange
from sandbox.evidence_recorder import EvidenceRecorder

INBOX = "INBOX"
SENT = "Sent"
FOLDERS = (INBOX, SENT)
_INSERT: dict[str, Any] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
# the delivery's statements, built once (bound parameters; see MailStore._deliver_batch_sync) and
# compiled once per dialect (sandbox.db_prepared: on SQLite they run on the driver's cursor)
_BLOB_INSERT = {name: Prepared(ins(BlobRow).on_conflict_do_nothing(index_elements=["workspace", "sha256"]))
                for name, ins in _INSERT.items()}
# one statement per folder and transaction: create it with next_uid n + 1 (its n new messages take
# UIDs 1..n), or move the existing row's next_uid on by n; the upsert takes the row's lock
# (PostgreSQL) or the database's (SQLite), so UIDs never repeat
_NEXT_UIDS = {name: Prepared(ins(FolderRow).on_conflict_do_update(
    index_elements=["workspace", "mailbox", "folder"],
    set_={"next_uid": FolderRow.next_uid + bindparam("n", type_=Integer)}).returning(FolderRow.next_uid))
    for name, ins in _INSERT.items()}
# every message row of a transaction, ids in order (one round trip to PostgreSQL per batch)
_MESSAGE_INSERT = PreparedInsert(MessageRow, "id")
MAX_BATCH = 64  # deliveries written in one transaction at most


@dataclass(frozen=True)
class Delivery:
    """What is stored for one accepted message: where it goes and what is known about it."""

    raw: bytes
    targets: Sequence[tuple[str, str]]  # (mailbox address, folder)
    sender: str
    recipients: Sequence[str]
    subject: str = ""
    message_id: str = ""
    patient_ins: str | None = None
    checks: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, Any] = field(default_factory=dict)
    #: flags per folder, e.g. Sent copies are already \\Seen
    flags: dict[str, list[str]] = field(default_factory=dict)
    #: the exchange that records this delivery, built from the stored messages' ids: written in the
    #: delivery's own transaction (one commit, and never a stored message without its evidence)
    evidence: Callable[[builtins.list[int]], Exchange] | None = None


@dataclass(frozen=True)
class StoredMessage:
    id: int
    workspace: str
    mailbox: str
    folder: str
    uid: int
    sha256: str
    size: int
    received_at: datetime
    sender: str
    recipients: list[str]
    subject: str
    message_id: str
    flags: list[str]
    patient_ins: str | None
    checks: dict[str, Any]
    origin: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        findings = self.checks.get("findings", [])
        return {
            "id": self.id, "mailbox": self.mailbox, "folder": self.folder, "uid": self.uid,
            "received_at": self.received_at.isoformat(), "from": self.sender, "to": self.recipients,
            "subject": self.subject, "message_id": self.message_id, "flags": self.flags,
            "size": self.size, "sha256": self.sha256, "patient_ins": self.patient_ins,
            "errors": sum(1 for f in findings if f.get("severity") == "error"),
            "warnings": sum(1 for f in findings if f.get("severity") == "warning"),
        }


@dataclass(frozen=True)
class FolderState:
    uidvalidity: int
    next_uid: int


@dataclass(frozen=True)
class FolderEntry:
    """One message of :meth:`MailStore.folder_index`. ``flags_json`` is the column's text as
    stored: IMAP compares it with what it already knows and decodes it only when it changed
    (decoding a thousand flag lists at every command was a tenth of a ``FETCH``)."""

    id: int
    uid: int
    sha256: str
    flags_json: str
    stored_at: datetime

    @property
    def flags(self) -> list[str]:
        return list(orjson.loads(self.flags_json) or []) if self.flags_json else []

    @property
    def received_at(self) -> datetime:
        return as_utc(self.stored_at)


def _domain(row: MessageRow) -> StoredMessage:
    return StoredMessage(row.id, row.workspace, row.mailbox, row.folder, row.uid, row.sha256, row.size,
                         as_utc(row.received_at), row.sender, list(row.recipients or []), row.subject,
                         row.message_id, list(row.flags or []), row.patient_ins, row.checks or {},
                         row.origin or {})


@dataclass
class _Pending:
    """A delivery waiting for its commit (:meth:`MailStore.deliver`)."""

    workspace: str
    delivery: Delivery
    sha: str
    now: datetime
    done: asyncio.Future[builtins.list[dict[str, Any]]]


def _settle(p: _Pending, *, rows: builtins.list[dict[str, Any]] | None = None,
            exc: BaseException | None = None) -> None:
    if p.done.done():
        return
    if exc is not None:
        p.done.set_exception(exc)
    else:
        p.done.set_result(rows or [])


class MailStore:
    def __init__(self, db: Database, recorder: EvidenceRecorder | None = None) -> None:
        self.db = db
        self.recorder = recorder  # writes Delivery.evidence (required when a delivery carries one)
        self._queue: builtins.list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None

    def _deliver_batch_sync(self, conn: Connection,
                            batch: builtins.list[_Pending]) -> tuple[builtins.list[Any], builtins.list[Exchange]]:
        """The statements of a transaction's deliveries, synchronous Core on one connection
        (:meth:`Database.run`: on SQLite no thread trip per statement), set-based so that a round
        trip to PostgreSQL serves the whole batch: the raw messages in one ``executemany``, one
        UID upsert per folder (in a fixed order: two processes never wait for each other's rows
        crosswise), every message row in one insert (on SQLite, one cheap insert per row on the
        driver's cursor: :mod:`sandbox.db_prepared`). Statements are built once with bound
        parameters: SQLAlchemy's cache key of a statement with inline values covers the values,
        and hashing the raw message for it cost more than the whole transaction."""
        dialect = conn.dialect.name
        blobs = {(p.workspace, p.sha): p for p in batch}
        _BLOB_INSERT[dialect].execute_many(conn, [{"workspace": w, "sha256": sha, "size": len(p.delivery.raw),
                                                   "data": p.delivery.raw} for (w, sha), p in blobs.items()])
        wanted: dict[tuple[str, str, str], int] = {}
        for p in batch:
            for mailbox, folder in p.delivery.targets:
                key = (p.workspace, mailbox, folder)
                wanted[key] = wanted.get(key, 0) + 1
        next_uid: dict[tuple[str, str, str], int] = {}
        for key in sorted(wanted):
            n = wanted[key]
            row = _NEXT_UIDS[dialect].first(conn, {"workspace": key[0], "mailbox": key[1], "folder": key[2],
                                                   "uidvalidity": int(time.time()) & 0x7FFFFFFF,
                                                   "next_uid": n + 1, "n": n})
            next_uid[key] = row.next_uid - n
        per_delivery: builtins.list[builtins.list[dict[str, Any]]] = []
        for p in batch:
            d, rows = p.delivery, []
            for mailbox, folder in d.targets:
                key = (p.workspace, mailbox, folder)
                uid, next_uid[key] = next_uid[key], next_uid[key] + 1
                rows.append({"workspace": p.workspace, "mailbox": mailbox, "folder": folder, "uid": uid,
                             "sha256": p.sha, "size": len(d.raw), "received_at": p.now, "sender": d.sender[:254],
                             "recipients": list(d.recipients), "subject": d.subject[:400],
                             "message_id": d.message_id[:300], "flags": list(d.flags.get(folder, [])),
                             "patient_ins": d.patient_ins, "checks": d.checks, "origin": d.origin})
            per_delivery.append(rows)
        flat = [row for rows in per_delivery for row in rows]
        for row, new_id in zip(flat, _MESSAGE_INSERT.keys(conn, flat), strict=True):
            row["id"] = new_id
        exchanges = [p.delivery.evidence([r["id"] for r in rows])
                     for p, rows in zip(batch, per_delivery, strict=True) if p.delivery.evidence is not None]
        if exchanges:
            if self.recorder is None:
                raise RuntimeError("a delivery with evidence needs a MailStore with a recorder")
            self.recorder.repo.write_in(conn, exchanges)
        return per_delivery, exchanges

    async def deliver(self, workspace: str, d: Delivery) -> list[StoredMessage]:
        """Store ``d`` in every target folder; returns once it is committed.

        Group commit: deliveries that arrive while a transaction is running are written together
        in the next one (at most :data:`MAX_BATCH`), each still answered only after its commit.
        Why: concurrent deliveries to one folder queue on its row lock for the whole transaction,
        and on PostgreSQL the commit (a WAL flush) is most of it, so one commit per message made
        the senders take turns. If a shared transaction fails, its deliveries are retried one by
        one, so one bad delivery fails alone."""
        pending = _Pending(workspace, d, hashlib.sha256(d.raw).hexdigest(), datetime.now(UTC),
                           asyncio.get_running_loop().create_future())
        self._queue.append(pending)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_queued())
        rows = await asyncio.shield(pending.done)
        return [StoredMessage(r["id"], workspace, r["mailbox"], r["folder"], r["uid"], pending.sha, r["size"],
                              pending.now, r["sender"], r["recipients"], r["subject"], r["message_id"], r["flags"],
                              r["patient_ins"], r["checks"], r["origin"]) for r in rows]

    async def _write_queued(self) -> None:
        batch: builtins.list[_Pending] = []
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                await self._write(batch)
        except BaseException as exc:  # cancelled (shutdown): no caller waits forever for its commit
            for p in batch + self._queue:
                _settle(p, exc=exc if isinstance(exc, Exception) else RuntimeError("mail store stopped"))
            self._queue = []
            raise

    async def _write(self, batch: builtins.list[_Pending]) -> None:
        try:
            results, exchanges = await self.db.run(functools.partial(self._deliver_batch_sync, batch=batch))
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0], exc=exc)
                return
            for p in batch:  # one at a time: a bad delivery fails alone
                try:
                    rows, exchanges = await self.db.run(functools.partial(self._deliver_batch_sync, batch=[p]))
                except Exception as one:
                    _settle(p, exc=one)
                else:
                    self._committed(exchanges)
                    _settle(p, rows=rows[0])
            return
        self._committed(exchanges)
        for p, rows in zip(batch, results, strict=True):
            _settle(p, rows=rows)

    def _committed(self, exchanges: builtins.list[Exchange]) -> None:
        if exchanges and self.recorder is not None:
            self.recorder.committed(exchanges)

    async def append(self, workspace: str, mailbox: str, folder: str, raw: bytes, flags: list[str],
                     meta: dict[str, Any]) -> StoredMessage:
        """IMAP APPEND: one message into one folder."""
        stored = await self.deliver(workspace, Delivery(
            raw=raw, targets=[(mailbox, folder)], sender=meta.get("sender", ""), recipients=meta.get("to", []),
            subject=meta.get("subject", ""), message_id=meta.get("message_id", ""), flags={folder: flags},
            origin={"via": "imap-append"}))
        return stored[0]

    async def list(self, workspace: str, *, mailbox: str | None = None, folder: str | None = None,
                   after_id: int = 0, limit: int = 100, offset: int = 0,
                   patient_ins: str | None = None) -> builtins.list[StoredMessage]:
        q = select(MessageRow).where(MessageRow.workspace == workspace, MessageRow.id > after_id)
        if mailbox:
            q = q.where(MessageRow.mailbox == mailbox)
        if folder:
            q = q.where(MessageRow.folder == folder)
        if patient_ins:
            q = q.where(MessageRow.patient_ins == patient_ins)
        q = q.order_by(MessageRow.id).offset(offset).limit(limit)
        async with self.db.session() as s:
            return [_domain(r) for r in (await s.scalars(q)).all()]

    async def folder(self, workspace: str, mailbox: str,
                     folder: str) -> tuple[FolderState, builtins.list[StoredMessage]]:
        """A folder's UID state and its messages in UID order (IMAP SELECT)."""
        async with self.db.session() as s:
            state = await s.get(FolderRow, (workspace, mailbox, folder))
            rows = (await s.scalars(select(MessageRow).where(
                MessageRow.workspace == workspace, MessageRow.mailbox == mailbox, MessageRow.folder == folder)
                .order_by(MessageRow.uid))).all()
            fs = FolderState(state.uidvalidity, state.next_uid) if state else FolderState(1, 1)
            return fs, [_domain(r) for r in rows]

    async def folder_index(self, workspace: str, mailbox: str,
                           folder: str) -> tuple[FolderState, builtins.list[FolderEntry]]:
        """What IMAP keeps of a folder between commands: UIDs, flags, dates, hashes (no content,
        no checks), in UID order."""
        async with self.db.session() as s:
            state = await s.get(FolderRow, (workspace, mailbox, folder))
            rows = await s.execute(select(MessageRow.id, MessageRow.uid, MessageRow.sha256,
                                          cast(MessageRow.flags, String), MessageRow.received_at).where(
                MessageRow.workspace == workspace, MessageRow.mailbox == mailbox, MessageRow.folder == folder)
                .order_by(MessageRow.uid))
            fs = FolderState(state.uidvalidity, state.next_uid) if state else FolderState(1, 1)
            return fs, [FolderEntry(*row) for row in rows]

    async def counts(self, workspace: str) -> dict[tuple[str, str], int]:
        async with self.db.session() as s:
            rows = await s.execute(select(MessageRow.mailbox, MessageRow.folder, func.count())
                                   .where(MessageRow.workspace == workspace)
                                   .group_by(MessageRow.mailbox, MessageRow.folder))
            return {(m, f): n for m, f, n in rows}

    async def get(self, workspace: str, message_id: int) -> StoredMessage | None:
        async with self.db.session() as s:
            row = await s.get(MessageRow, message_id)
            return _domain(row) if row is not None and row.workspace == workspace else None

    async def raw(self, workspace: str, sha256: str) -> bytes | None:
        async with self.db.session() as s:
            row = await s.get(BlobRow, (workspace, sha256))
            return row.data if row is not None else None

    async def raws(self, workspace: str, sha256s: builtins.list[str]) -> dict[str, bytes]:
        """Several raw messages in one query, by hash."""
        async with self.db.session() as s:
            rows = await s.execute(select(BlobRow.sha256, BlobRow.data).where(
                BlobRow.workspace == workspace, BlobRow.sha256.in_(sorted(set(sha256s)))))
            return {sha: data for sha, data in rows}

    async def set_flags(self, workspace: str, message_id: int, flags: builtins.list[str]) -> None:
        async with self.db.session() as s:
            row = await s.get(MessageRow, message_id)
            if row is not None and row.workspace == workspace:
                row.flags = sorted(set(flags))

    async def delete(self, workspace: str, message_ids: Sequence[int]) -> int:
        """Delete messages, then raw bytes no message of the workspace refers to any more."""
        if not message_ids:
            return 0
        async with self.db.session() as s:
            n = (await s.execute(delete(MessageRow).where(MessageRow.workspace == workspace,
                                                          MessageRow.id.in_(builtins.list(message_ids))))
                 ).rowcount or 0  # type: ignore[attr-defined]
            used = select(MessageRow.sha256).where(MessageRow.workspace == workspace)
            await s.execute(delete(BlobRow).where(BlobRow.workspace == workspace, BlobRow.sha256.not_in(used)))
            return n

    async def wait_for(self, workspace: str, *, mailbox: str | None, folder: str | None, after_id: int,
                       timeout: float, poll: float = 0.1) -> builtins.list[StoredMessage]:
        """Messages newer than ``after_id``, waiting up to ``timeout`` seconds for the first one.
        The database is polled, so a message stored by any worker process is seen."""
        deadline = time.monotonic() + timeout
        while True:
            found = await self.list(workspace, mailbox=mailbox, folder=folder, after_id=after_id)
            if found or time.monotonic() >= deadline:
                return found
            await asyncio.sleep(min(poll, max(0.0, deadline - time.monotonic())))

    async def is_integrating(self, workspace: str, mailbox: str, default: bool) -> bool:
        async with self.db.session() as s:
            row = await s.get(MailboxOptionRow, (workspace, mailbox))
            return row.integrating if row is not None else default

    async def set_integrating(self, workspace: str, mailbox: str, integrating: bool) -> None:
        async with self.db.session() as s:
            row = await s.get(MailboxOptionRow, (workspace, mailbox))
            if row is None:
                s.add(MailboxOptionRow(workspace=workspace, mailbox=mailbox, integrating=integrating))
            else:
                row.integrating = integrating
