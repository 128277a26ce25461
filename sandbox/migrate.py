"""Apply Alembic migrations programmatically (``mes-sandbox serve`` and the test kit call this).

The platform's revisions live in ``sandbox/migrations/versions``; each service may add its own
folder (``Service.migrations``), a separate Alembic branch labelled with the service name whose
first revision ``depends_on`` the platform's base. ``upgrade heads`` applies them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from sandbox.db import Database
from sandbox.services import Service

HERE = Path(__file__).parent / "migrations"


def alembic_config(services: Sequence[Service]) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    locations = [str(HERE / "versions")] + [str(s.migrations) for s in services if s.migrations]
    cfg.set_main_option("version_locations", " ".join(locations))
    cfg.set_main_option("path_separator", "space")
    return cfg


async def upgrade(db: Database, services: Sequence[Service]) -> None:
    """Bring the database schema up to date (idempotent)."""
    cfg = alembic_config(services)

    def _run(conn: Connection) -> None:
        # several nodes (or processes) may start at once on one empty database: the first to take
        # the lock migrates, the others wait and then find the schema current
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727274)")
        else:  # SQLite: take the file's write lock up front (waits up to its busy timeout)
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")

    async with db.engine.begin() as conn:
        await conn.run_sync(_run)
