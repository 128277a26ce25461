"""``serve``'s start-up checks: a broken installation or a missing PostgreSQL database stops it
with one line before any banner; the banner lists only what is served."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from sandbox import install_check
from sandbox.cli import endpoint_table
from sandbox.db_bootstrap import DatabaseMissing, ensure_database
from sandbox.settings import Settings
from sandbox.testing import TEST_DB_ENV


def test_this_installation_is_sound() -> None:
    assert install_check.problems() == []
    assert {"sandbox", "psc", "ins", "dmp", "profiles"} <= set(install_check.registered_packages())


def test_a_module_that_cannot_be_imported_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / f"brokenpkg_{uuid.uuid4().hex[:8]}"
    (pkg / "migrations").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "fine.py").write_text("VALUE = 1\n")
    (pkg / "gone.py").write_text("import a_module_deleted_by_a_reinstall  # noqa\n")
    (pkg / "migrations" / "__init__.py").write_text("raise RuntimeError('only inside Alembic')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = install_check.unimportable([pkg.name])
    assert found == [f"{pkg.name}.gone: ModuleNotFoundError: No module named 'a_module_deleted_by_a_reinstall'"]
    assert install_check.unimportable(["no_such_top_package_xyz"])[0].startswith("no_such_top_package_xyz:")


def test_missing_installed_files_are_reported() -> None:
    assert install_check.missing_files("no-such-distribution-xyz") == [
        "no-such-distribution-xyz is not installed in this Python environment"]


def test_serve_refuses_a_broken_installation(tmp_path: Path) -> None:
    import subprocess

    # a registered package whose module vanished: the same check, through the command
    code = ("import sandbox.install_check as c; c.registered_packages = lambda: ['sandbox', 'no_such_pkg_xyz']\n"
            "import sys; sys.argv = ['mes-sandbox', 'serve']\nfrom sandbox.cli import main; main()")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "MES_SANDBOX_DATA_DIR": str(tmp_path), "MES_SANDBOX_PORT": "0"})
    assert p.returncode == 1
    assert p.stderr.startswith("installation incomplète de mes-sandbox : no_such_pkg_xyz: ModuleNotFoundError")
    assert p.stdout == ""  # no banner


def test_banner_lists_https_endpoints_only_when_https_is_served(tmp_path: Path) -> None:
    from rich.console import Console

    def rendered(**kw: object) -> str:
        console = Console(width=300, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
        console.print(endpoint_table(Settings(data_dir=tmp_path, **kw)))
        return console.export_text()

    assert "https://" in rendered(https_enabled=True)
    off = rendered(https_enabled=False)
    assert "https://" not in off and "/ins/insi" in off


def test_sqlite_needs_no_database_creation(tmp_path: Path) -> None:
    assert ensure_database(f"sqlite+aiosqlite:///{tmp_path}/x.db") is False


def test_a_missing_postgresql_database_is_created_once() -> None:
    server = os.environ.get(TEST_DB_ENV, "")
    if not server.startswith("postgresql"):
        pytest.skip(f"{TEST_DB_ENV} names no PostgreSQL server")
    name = f"messb_boot_{uuid.uuid4().hex[:10]}"
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        assert ensure_database(url) is True
        assert ensure_database(url) is False
    finally:
        async def drop() -> None:
            import asyncpg

            admin = make_url(server)
            conn = await asyncpg.connect(host=admin.host, port=admin.port or 5432, user=admin.username,
                                         password=admin.password, database=admin.database or "postgres")
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await conn.close()

        asyncio.run(drop())


def test_an_unreachable_postgresql_server_is_one_clear_error() -> None:
    from sandbox.testing import free_port

    with pytest.raises(DatabaseMissing) as exc:
        ensure_database(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/sandbox")
    assert exc.value.name == "sandbox" and exc.value.reason
