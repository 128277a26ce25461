"""Create the PostgreSQL database ``serve`` is pointed at when it does not exist yet.

Run by ``mes-sandbox serve`` before it prints its banner, so that a missing database is either
created (the role may create databases, as ``postgres`` can) or reported in one line saying how to
fix it, never a banner followed by tracebacks. SQLite files are created by the engine itself.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import make_url


class DatabaseMissing(Exception):
    """The database does not exist and could not be created."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name, self.reason = name, reason


def ensure_database(database_url: str) -> bool:
    """True when the database of ``database_url`` was just created; False when it existed (or is
    SQLite). Raises :class:`DatabaseMissing` when it is absent and cannot be created."""
    url = make_url(database_url)
    if not url.drivername.startswith("postgresql") or not url.database:
        return False
    return asyncio.run(_ensure(url.host or "127.0.0.1", url.port or 5432, url.username, url.password,
                               url.database))


async def _ensure(host: str, port: int, user: str | None, password: str | None, name: str) -> bool:
    import asyncpg

    try:
        conn = await asyncpg.connect(host=host, port=port, user=user, password=password, database=name)
    except asyncpg.InvalidCatalogNameError:
        pass
    except (OSError, asyncpg.PostgresError) as exc:
        raise DatabaseMissing(name, f"{type(exc).__name__}: {exc}") from None
    else:
        await conn.close()
        return False
    try:
        admin = await asyncpg.connect(host=host, port=port, user=user, password=password, database="postgres")
    except (OSError, asyncpg.PostgresError) as exc:
        raise DatabaseMissing(name, f"{type(exc).__name__}: {exc}") from None
    try:
        await admin.execute(f'CREATE DATABASE "{name.replace(chr(34), "")}"')
    except asyncpg.DuplicateDatabaseError:  # another node created it meanwhile
        return False
    except asyncpg.PostgresError as exc:
        raise DatabaseMissing(name, f"{type(exc).__name__}: {exc}") from None
    finally:
        await admin.close()
    return True
