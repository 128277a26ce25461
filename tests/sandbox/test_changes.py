"""Changes recorded by the database layer (sandbox.changes): writers call nothing, every door to
the database records a change to a watched table at commit, and only then (both databases)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from psc.models import PscSessionRow
from psc.store import SESSIONS, revoke_session
from sandbox import migrate
from sandbox.changes import Changes, ChangeScope, FreshCache
from sandbox.db import Database, connection_budget
from sandbox.db_prepared import Prepared
from sandbox.faults import FAULTS, FaultRegistry, FaultSpec
from sandbox.models import FaultRow, WorkspaceRow
from sandbox.services import discover
from sandbox.testing import fresh_database


@pytest.fixture()
def db_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database(tmp_path) as url:
        yield url


def run(db_url: str, tmp_path: Path, scenario) -> object:  # noqa: ANN001 - async callable
    async def go() -> object:
        db = Database(db_url, changes_file=tmp_path / "run" / "changes")
        try:
            await migrate.upgrade(db, discover())
            async with db.session() as s:  # the workspace the rows below belong to
                now = datetime.now(UTC)
                s.add(WorkspaceRow(name="default", title="default", created_at=now, seeded_at=now, options={},
                                   api_key_hash=""))
            return await scenario(db)
        finally:
            await db.dispose()

    return asyncio.run(go())


def _session_row(sid: str) -> dict:
    now = datetime.now(UTC)
    return {"sid": sid, "workspace": "default", "client_id": "c", "persona_id": "p", "auth_mode": "CPS",
            "acr": "eidas1", "auth_time": now, "expires_at": now + timedelta(hours=1), "revoked_at": None,
            "revoked_reason": ""}


def test_every_door_records_a_watched_write_at_commit_and_only_then(db_url: str, tmp_path: Path) -> None:
    async def scenario(db: Database) -> list[tuple[str, bool]]:
        seen = []

        async def step(name: str, coro) -> None:  # noqa: ANN001
            before = await db.changes.stamp((FAULTS.name,))
            await coro
            seen.append((name, await db.changes.stamp((FAULTS.name,)) != before))

        registry = FaultRegistry(db, discover())
        await step("orm session", registry.add("default", FaultSpec(service="dmp", kind="unavailable", times=2)))
        await step("run()", db.run(lambda c: c.execute(update(FaultRow).values(matched=FaultRow.matched + 1))))
        await step("read only", db.run(lambda c: c.execute(select(FaultRow)).all(), write=False))

        async def core() -> None:
            async with db.begin() as conn:
                await conn.execute(update(FaultRow).values(fired=0))
        await step("core begin()", core())

        async def rolled_back() -> None:
            with pytest.raises(RuntimeError):
                async with db.session() as s:
                    await s.execute(update(FaultRow).values(fired=1))
                    raise RuntimeError("no commit")
        await step("rolled back", rolled_back())
        await step("prepared", db.run(lambda c: Prepared(update(FaultRow).values(params={})).execute(c, {})))
        return seen

    assert run(db_url, tmp_path, scenario) == [("orm session", True), ("run()", True), ("read only", False),
                                               ("core begin()", True), ("rolled back", False), ("prepared", True)]


def test_a_new_session_is_no_change_its_revocation_is(db_url: str, tmp_path: Path) -> None:
    async def scenario(db: Database) -> tuple[bool, bool]:
        start = await db.changes.stamp((SESSIONS.name,))
        await db.run(lambda c: c.execute(insert(PscSessionRow), [_session_row("s1")]))
        after_insert = await db.changes.stamp((SESSIONS.name,))
        await db.run(lambda c: revoke_session(c, "s1", "logout", datetime.now(UTC)))
        return after_insert != start, await db.changes.stamp((SESSIONS.name,)) != after_insert

    assert run(db_url, tmp_path, scenario) == (False, True)


def test_a_cache_refills_after_a_change_made_through_another_database_object(db_url: str, tmp_path: Path) -> None:
    """Another ``Database`` on the same database and data folder: another worker, or another node."""
    async def scenario(db: Database) -> list[int]:
        other = Database(db_url, changes_file=tmp_path / "run" / "changes")
        cache = FreshCache(3600, db.changes, tables=[FAULTS])
        loads: list[int] = []

        async def load() -> int:
            loads.append(1)
            async with db.session() as s:
                return len((await s.scalars(select(FaultRow))).all())

        try:
            first = await cache.get("n", load)
            again = await cache.get("n", load)
            await FaultRegistry(other, discover()).add("default", FaultSpec(service="dmp", kind="unavailable"))
            return [first, again, await cache.get("n", load), len(loads)]
        finally:
            await other.dispose()

    assert run(db_url, tmp_path, scenario) == [0, 0, 1, 2]


def test_requests_share_one_read_started_after_they_arrived() -> None:
    """PostgreSQL's check, without a server: concurrent callers share a read, later ones never
    reuse a read that started before them, and one request reads once whatever it consults,
    unless this process committed a watched write meanwhile."""
    fetched: list[int] = []

    async def fetch() -> dict[str, int]:
        fetched.append(1)
        await asyncio.sleep(0)
        return {"faults": len(fetched)}

    async def scenario() -> tuple[list[int], int, list[int]]:
        changes = Changes(fetch=fetch)
        concurrent = await asyncio.gather(*(changes.stamp(("faults",)) for _ in range(10)))
        reads = len(fetched)
        seen: list[int] = []

        async def app(scope, receive, send) -> None:  # noqa: ANN001 - ASGI
            for n in range(5):
                if n == 3:
                    changes.wrote()  # this process wrote: the request must see it
                seen.append(await changes.stamp(("faults",)))

        await ChangeScope(app, changes)({"type": "http"}, None, None)
        return concurrent, reads, seen

    concurrent, reads, seen = asyncio.run(scenario())
    assert reads == 1 and set(concurrent) == {1}
    assert seen == [2, 2, 2, 3, 3] and len(fetched) == 3


def test_the_connection_budget_counts_every_connection() -> None:
    assert connection_budget(20) == (15, 4, 1)
    assert sum(connection_budget(4)) == 4
    with pytest.raises(ValueError, match="at least 4"):
        connection_budget(3)


def test_autocommit_first_refuses_a_watched_write(db_url: str, tmp_path: Path) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("autocommit_first is PostgreSQL's door (SQLite refuses it for another reason)")

    async def scenario(db: Database) -> None:
        with pytest.raises(ValueError, match="watched"):
            await db.autocommit_first(Prepared(update(FaultRow).values(fired=0).returning(FaultRow.id)), {})

    run(db_url, tmp_path, scenario)


def test_writes_to_the_identities_the_dmp_caches_are_changes() -> None:
    """The DMP's copies of RNIV statuses (dmp/identity.py) follow ins_identities: any write to it
    is a change every process and node honours (declared by ins/models.py)."""
    from ins.models import IdentityRow
    from sandbox.changes import touched

    table = IdentityRow.__table__
    for stmt in (insert(table), update(table).values(identity_status="QUAL"), table.delete()):
        assert touched(stmt) == frozenset({"ins_identities"})
