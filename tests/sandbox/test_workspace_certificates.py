"""One registry of workspace certificates (sandbox/workspace_certificates.py): a database at the
previous heads, with certificates in INSi's and MSSanté's old tables, keeps every binding after
the upgrade; the old tables are gone. Runs on SQLite and, with MES_SANDBOX_TEST_DATABASE_URL, on
PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlalchemy import inspect

from sandbox import migrate
from sandbox.db import Database
from sandbox.services import discover
from sandbox.testing import fresh_database
from sandbox.workspace_certificates import Usage, WorkspaceCertificates

PREVIOUS_HEADS = ("0004_pki", "0002_ins_certificates", "0002_mss_certificates")
T0 = datetime(2026, 12, 6, 10, 0, 0, 1, tzinfo=UTC)
LATER = datetime(2027, 12, 6, tzinfo=UTC)


async def _upgrade_to(db: Database, *targets: str) -> None:
    cfg = migrate.alembic_config(discover())

    def run(conn: sa.Connection) -> None:
        cfg.attributes["connection"] = conn
        for target in targets:
            command.upgrade(cfg, target)

    async with db.engine.begin() as conn:
        await conn.run_sync(run)


async def _scenario(url: str) -> tuple[set[str], list, list, list]:
    db = Database(url)
    try:
        await _upgrade_to(db, *PREVIOUS_HEADS)
        async with db.engine.begin() as conn:
            await conn.execute(sa.text(
                "INSERT INTO workspaces (name, title, created_at, options) VALUES ('acme', '', :t, '{}')"), {"t": T0})
            await conn.execute(sa.text(
                "INSERT INTO ins_client_certificates (fingerprint, bound_workspace, subject, serial, not_after, "
                "created_at) VALUES (:fp, 'acme', :subject, '1f', :na, :ca)"),
                {"fp": "a" * 64, "subject": "CN=INSI-AUTO,OU=0B0193488,O=TEST ORGANISATION", "na": LATER.isoformat(),
                 "ca": T0.isoformat(timespec="microseconds")})
            mss = sa.table("mss_certificates", *(sa.column(c) for c in (
                "fingerprint", "bound_workspace", "kind", "persona_id", "subject")),
                *(sa.column(c, sa.DateTime(timezone=True)) for c in ("issued_at", "not_after")))
            await conn.execute(sa.insert(mss).values(
                fingerprint="b" * 64, bound_workspace="acme", kind="professional", persona_id="899700218896",
                subject="CN=899700218896", issued_at=T0, not_after=LATER))
            await conn.execute(sa.insert(mss).values(  # of a workspace deleted before the upgrade
                fingerprint="c" * 64, bound_workspace="gone", kind="professional", persona_id="899700218896",
                subject="CN=899700218896", issued_at=T0, not_after=LATER))
        await migrate.upgrade(db, discover())
        async with db.engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        registry = WorkspaceCertificates(db)
        insi = await registry.list("acme", Usage.INSI)
        mss_listed = await registry.list("acme", Usage.MSS)
        other = await registry.list("default", Usage.MSS)
        gone = await registry.list("gone", Usage.MSS)
        async with db.engine.connect() as conn:
            revoked = (await conn.execute(sa.text(
                "SELECT revoked_at FROM workspace_certificates WHERE fingerprint = :fp"), {"fp": "c" * 64})).scalar()
        return tables, insi, mss_listed, other + gone + ([] if revoked else ["not revoked"])
    finally:
        await db.dispose()


def test_upgrade_from_the_previous_heads_keeps_both_services_certificates(tmp_path) -> None:
    with fresh_database(Path(tmp_path)) as url:
        tables, insi, mss, other = asyncio.run(_scenario(url))
    assert "workspace_certificates" in tables
    assert not {"ins_client_certificates", "mss_certificates"} & tables
    [i] = insi
    assert (i.fingerprint, i.workspace, i.usage, i.kind, i.persona_id, i.serial) == (
        "a" * 64, "acme", Usage.INSI, "organisation", "0B0193488", "1f")
    assert (i.issued_at, i.not_after, i.revoked) == (T0, LATER, False)
    [m] = mss
    assert (m.fingerprint, m.workspace, m.usage, m.kind, m.persona_id, m.subject) == (
        "b" * 64, "acme", Usage.MSS, "professional", "899700218896", "CN=899700218896")
    assert (m.issued_at, m.not_after, m.revoked) == (T0, LATER, False)
    assert other == []  # nothing in another workspace; the deleted workspace's certificate is revoked
