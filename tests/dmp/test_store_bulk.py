"""One-round-trip inserts (sandbox.db_bulk) keep every value exact, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from dmp.models import DmpAuditRow, DmpBinaryRow, DmpListRow
from sandbox.db import as_utc
from sandbox.db_bulk import insert_rows
from sandbox.testing import RunningSandbox


def test_insert_rows_round_trip(sandbox: RunningSandbox) -> None:
    ws = f"bulk-{uuid.uuid4().hex[:8]}"
    data = bytes(range(256)) * 3 + b"\x00\\x"
    when = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=UTC)
    bin_id, list_id, audit_id = uuid.uuid4().hex, uuid.uuid4().hex, str(uuid.uuid4())
    resource = {"resourceType": "List", "title": "Compte rendu « biologie » – été", "n": [1, 2.5, None, True]}

    def write(conn: Connection) -> None:
        insert_rows(conn, [
            (DmpBinaryRow.__table__, [{"id": bin_id, "workspace": ws, "content_type": "application/pdf",
                                       "data": data}]),
            (DmpListRow.__table__, [{"id": list_id, "workspace": ws, "patient_ins": "248000000000000",
                                     "kind": "folder", "status": "current", "date": when,
                                     "last_updated": when, "resource": resource}]),
            (DmpAuditRow.__table__, []),
        ])
        insert_rows(conn, [(DmpAuditRow.__table__, [{
            "id": audit_id, "workspace": ws, "patient_ins": "248000000000000", "recorded": when,
            "operation": "iti-65", "action": "C", "outcome": "0", "actor_kind": "professional",
            "actor_id": "899700218896"}])])

    async def write_and_read() -> tuple:
        await sandbox.ctx.db.run(write)
        async with sandbox.ctx.db.session() as s:
            b = (await s.execute(select(DmpBinaryRow.data).where(DmpBinaryRow.id == bin_id))).scalar_one()
            lst = (await s.execute(select(DmpListRow).where(DmpListRow.id == list_id))).scalar_one()
            aud = (await s.execute(select(DmpAuditRow).where(DmpAuditRow.id == audit_id))).scalar_one()
            return b, (lst.date, lst.resource, lst.identifier, lst.source_id), (aud.detail, aud.mode, aud.emergency)

    b, lst, aud = sandbox.call(write_and_read)
    assert b == data
    assert (as_utc(lst[0]), lst[1], lst[2], lst[3]) == (when, resource, "", "")
    assert aud == ({}, "normal", False)  # column defaults, scalar and callable
