"""The test PKI in the database: one CA for every node of one database (issue 19; DESIGN "Test PKI").

The CAs' and server certificates' material lives in table ``pki_material``; each node writes it
to its data folder as an exported cache (:meth:`sandbox.pki.TestPKI.install`, keys 0600) for its
TLS contexts and for users (``mes-sandbox pki show`` prints those paths).

**Private keys are sealed at rest** with AES-256-GCM (the row's name as associated data) under a
key derived (HKDF-SHA256) from the deployment's *PKI secret file* (setting ``pki_secret_file``,
default ``<data_dir>/pki-secret``, generated 0600 by the node that creates the CA). Not the
operator key: that one is a bearer credential sent on every ``/sandbox/api`` call and rotated
with ``mes-sandbox operator-key --rotate`` (a rotation would have to re-seal every key, in step
with every node); the PKI secret never leaves the nodes and never changes. A dump or backup of
the database alone does not give the CA's keys. Every node of one database needs the same file.

**First start on an empty database by N nodes at once**: each builds a candidate (the CA its data
folder already has, so a single-node sandbox keeps the CA its users trust, or a new one) and
inserts it in one transaction; the primary key makes exactly one insert win, the others roll back
and read the winner's.

**Other keys the deployment shares** (the conformance report-signing key) sit in the same table,
sealed the same way, through :func:`shared_key`: one row each, the public half's PEM in
``cert_pem`` (they have no certificate), created by the same insert-if-absent-then-read-back.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import DateTime, LargeBinary, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.db import Base, Database
from sandbox.files import write_atomically
from sandbox.pki import MATERIAL, TestPKI
from sandbox.settings import Settings

SEAL_VERSION = b"v1"
_INFO = b"mes-sandbox test PKI key sealing v1"


class PkiMaterialRow(Base):
    __tablename__ = "pki_material"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    cert_pem: Mapped[str] = mapped_column(Text)
    key_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PkiSecretError(RuntimeError):
    """The node cannot open the database's CA: its PKI secret file is missing or another one."""


def read_or_create_secret(path: Path, *, create: bool) -> bytes:
    """The secret in ``path``; created (0600, 32 random bytes) when absent and ``create``. Several
    processes of one data folder may race here: the file is linked into place, so one wins."""
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        if not create:
            raise PkiSecretError(
                f"the database holds the test PKI, but this node has no PKI secret file ({path}): copy the "
                "file of the node that created it, or point MES_SANDBOX_PKI_SECRET_FILE at it "
                "(docs/scale.md)") from None
        # linked into place: if another process put its own there first, use theirs
        write_atomically(path, base64.urlsafe_b64encode(secrets.token_bytes(32)) + b"\n", replace=False)
        text = path.read_text().strip()
    if len(text) < 32:
        raise PkiSecretError(f"PKI secret file {path} holds fewer than 32 characters")
    return text.encode()


class Sealer:
    """AES-256-GCM under a key derived from the PKI secret; the row name is bound as associated data
    (a sealed key moved to another row does not open)."""

    def __init__(self, secret: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)
        self._aead = AESGCM(key)

    def seal(self, name: str, data: bytes) -> bytes:
        nonce = secrets.token_bytes(12)
        return SEAL_VERSION + nonce + self._aead.encrypt(nonce, data, name.encode())

    def open(self, name: str, blob: bytes) -> bytes:
        if not blob.startswith(SEAL_VERSION):
            raise PkiSecretError(f"sealed key {name!r}: unknown format")
        nonce, sealed = blob[2:14], blob[14:]
        try:
            return self._aead.decrypt(nonce, sealed, name.encode())
        except Exception:  # InvalidTag: another secret file than the one that sealed it
            raise PkiSecretError(
                f"this node's PKI secret file does not open the database's test PKI (key {name!r}): every node "
                "of one database needs the same MES_SANDBOX_PKI_SECRET_FILE (docs/scale.md)") from None


async def _read(db: Database) -> dict[str, PkiMaterialRow]:
    """The CAs' and server certificates' rows (not the other shared keys, see :func:`shared_key`)."""
    async with db.session() as s:
        rows = (await s.scalars(select(PkiMaterialRow).where(PkiMaterialRow.name.in_(list(MATERIAL))))).all()
        return {r.name: r for r in rows}


async def _insert_once(db: Database, rows: list[PkiMaterialRow]) -> None:
    """Insert ``rows`` in one transaction, unless another node inserted theirs first (the primary
    key lets exactly one insert win): the caller reads the winner's back."""
    try:
        async with db.session() as s:
            s.add_all(rows)
    except IntegrityError:
        pass


def _candidate(pki: TestPKI) -> dict[str, tuple[bytes, bytes]]:
    """This node's proposal for a database without a CA: the folder's own, created if needed."""
    pki.ensure()
    return pki.material()


async def sync(pki: TestPKI, db: Database, secret_path: Path) -> None:
    """Make ``pki``'s folder hold the database's CA and server material, creating it in the
    database first if this is the first node (race-safe). Raises :class:`PkiSecretError` when the
    node's secret cannot open it."""
    rows = await _read(db)
    if not rows:
        sealer = Sealer(read_or_create_secret(secret_path, create=True))
        now = datetime.now(UTC)
        candidate = _candidate(pki)
        await _insert_once(db, [PkiMaterialRow(name=name, cert_pem=cert.decode(), key_sealed=sealer.seal(name, key),
                                               created_at=now) for name, (cert, key) in candidate.items()])
        rows = await _read(db)
    sealer = Sealer(read_or_create_secret(secret_path, create=False))
    missing = set(MATERIAL) - set(rows)
    if missing:
        raise PkiSecretError(f"the database's test PKI lacks {sorted(missing)}")
    pki.install({name: (row.cert_pem.encode(), sealer.open(name, row.key_sealed)) for name, row in rows.items()
                 if name in MATERIAL})


async def shared_key(db: Database, secret_path: Path, name: str,
                     propose: Callable[[], tuple[bytes, bytes]]) -> tuple[bytes, bytes]:
    """The key pair ``name`` (public PEM, private PEM) that every node of ``db`` shares. When the
    database has none yet, ``propose()`` gives this node's candidate (a key to keep, or a new one);
    of several nodes starting at once, exactly one candidate is stored and all read it back.
    Raises :class:`PkiSecretError` when the node's PKI secret does not open it."""
    if name in MATERIAL:
        raise ValueError(f"{name!r} is test PKI material, kept by sync()")

    async def read() -> PkiMaterialRow | None:
        async with db.session() as s:
            return await s.get(PkiMaterialRow, name)

    row = await read()
    if row is None:
        sealer = Sealer(read_or_create_secret(secret_path, create=True))
        public, private = propose()
        await _insert_once(db, [PkiMaterialRow(name=name, cert_pem=public.decode(),
                                               key_sealed=sealer.seal(name, private), created_at=datetime.now(UTC))])
        row = await read()
        if row is None:
            raise RuntimeError(f"key {name!r} neither inserted nor found")
    sealer = Sealer(read_or_create_secret(secret_path, create=False))
    return row.cert_pem.encode(), sealer.open(name, row.key_sealed)


def synced(settings: Settings) -> TestPKI:
    """For commands (``mes-sandbox pki ...``): the settings' PKI folder aligned with their database
    (migrated first, as ``serve`` would), so a command on any node shows the deployment's CA."""
    import asyncio

    from sandbox import migrate
    from sandbox.services import discover

    pki = TestPKI(settings.pki_dir)

    async def _run() -> None:
        db = Database(settings.database_url)
        try:
            await migrate.upgrade(db, discover())
            await sync(pki, db, settings.pki_secret_path)
        finally:
            await db.dispose()

    asyncio.run(_run())
    return pki
