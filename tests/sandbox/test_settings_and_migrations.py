"""Settings come from MES_SANDBOX_* variables; migrations are idempotent."""

import asyncio
import sys
from pathlib import Path

from sqlalchemy import inspect

from sandbox import migrate
from sandbox.db import Database
from sandbox.services import discover
from sandbox.settings import Settings, user_data_dir
from sandbox.testing import fresh_database


def test_defaults_and_env(monkeypatch, tmp_path):
    monkeypatch.delenv("MES_SANDBOX_DATA_DIR")  # set by conftest for the whole run
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    s = Settings()
    assert s.port == 8080 and s.host == "127.0.0.1" and s.language == "fr"
    assert (s.smtp_port, s.smtps_port, s.imap_port, s.imaps_port) == (2525, 2465, 2143, 2993)
    if sys.platform not in ("win32", "darwin"):  # the user data folder, whatever the current directory
        assert s.data_dir == tmp_path / "xdg" / "mes-sandbox"
    assert s.data_dir == user_data_dir() and s.data_dir.is_absolute()
    assert s.database_url == f"sqlite+aiosqlite:///{(s.data_dir / 'sandbox.db').as_posix()}"
    assert s.base_url == "http://127.0.0.1:8080"
    monkeypatch.setenv("MES_SANDBOX_PORT", "9999")
    monkeypatch.setenv("MES_SANDBOX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MES_SANDBOX_PUBLIC_BASE_URL", "https://sandbox.example.test/")
    s = Settings()
    assert s.port == 9999 and s.database_url.endswith(f"{tmp_path.as_posix()}/sandbox.db")
    assert s.base_url == "https://sandbox.example.test"
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} is undocumented"


def test_migrations_apply_twice(tmp_path):
    async def go(url: str) -> set[str]:
        db = Database(url)
        try:
            await migrate.upgrade(db, discover())
            await migrate.upgrade(db, discover())
            async with db.engine.connect() as conn:
                return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        finally:
            await db.dispose()

    with fresh_database(Path(tmp_path)) as url:
        tables = asyncio.run(go(url))
    assert {"workspaces", "personas", "exchanges", "evidence_bodies", "faults", "alembic_version"} <= tables
