"""API keys of a shared sandbox (DESIGN "Shared sandbox: who may do what").

- The **operator key** (whoever runs ``serve``) opens every ``/sandbox/api`` call on every
  workspace. It is generated on first start into ``<data_dir>/operator-key`` (mode 0600) so the CLI
  and the console can read it; ``MES_SANDBOX_OPERATOR_KEY`` replaces the file (several nodes on one
  PostgreSQL share it that way); ``mes-sandbox operator-key rotate`` writes a new one, which every
  running process picks up within a second.
- A **workspace key** opens that workspace only. It is shown once, when the workspace is created or
  its key rotated; the database keeps its SHA-256 (keys are 256 random bits: a plain hash is as
  good as a slow one and costs nothing per request).

Keys travel as ``Authorization: Bearer <key>`` (RFC 6750 §2.1). A workspace key names its workspace
(``msbw.<workspace>.<random>``) so a request costs one primary-key read, never a scan.

Which workspace a key opens is decided in one place, :func:`workspace_opened_by`, for every door
that takes these keys (``/sandbox/api`` and the other own APIs, the Annuaire Santé's
``ESANTE-API-KEY``, INS over plain HTTP); each door renders a :class:`KeyRefused` in its protocol.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from sandbox.files import write_atomically

OPERATOR_KEY_FILE = "operator-key"
OPERATOR_PREFIX = "msbo."
WORKSPACE_PREFIX = "msbw."


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_workspace_key(workspace: str) -> str:
    return f"{WORKSPACE_PREFIX}{workspace}.{secrets.token_urlsafe(32)}"


def workspace_of_key(key: str) -> str | None:
    """The workspace a workspace key names (not yet verified), or None for another shape."""
    if not key.startswith(WORKSPACE_PREFIX):
        return None
    name, dot, rest = key[len(WORKSPACE_PREFIX):].rpartition(".")
    return name if dot and name and rest else None


def bearer_token(authorization: str) -> str:
    """The credential of an ``Authorization: Bearer <key>`` header value ("" for another scheme)."""
    scheme, _, value = authorization.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by its owner only (0600 from the first byte)."""
    write_atomically(path, data, mode=0o600)


def operator_key_path(data_dir: Path) -> Path:
    return data_dir / OPERATOR_KEY_FILE


def read_operator_key(data_dir: Path, override: str = "") -> str | None:
    """The operator key the CLI sends (``override`` = ``MES_SANDBOX_OPERATOR_KEY``), None if absent."""
    if override:
        return override
    try:
        return operator_key_path(data_dir).read_text().strip() or None
    except OSError:
        return None


def ensure_operator_key(data_dir: Path, override: str = "") -> tuple[str, bool]:
    """The operator key, generated on first start; ``(key, created_now)``."""
    existing = read_operator_key(data_dir, override)
    if existing:
        return existing, False
    key = OPERATOR_PREFIX + secrets.token_urlsafe(32)
    # first writer wins: processes starting together on one data folder all end up with its key
    if write_atomically(operator_key_path(data_dir), key.encode() + b"\n", replace=False):
        return key, True
    return read_operator_key(data_dir) or key, False


def rotate_operator_key(data_dir: Path) -> str:
    key = OPERATOR_PREFIX + secrets.token_urlsafe(32)
    write_private(operator_key_path(data_dir), key.encode() + b"\n")
    return key


@dataclass
class OperatorKey:
    """The operator key as a running process checks it; re-reads the file at most once a second
    so a rotation reaches every worker without a restart."""

    data_dir: Path
    override: str = ""
    _digest: str = ""
    _checked: float = 0.0
    _mtime: float = -1.0

    def _refresh(self) -> None:
        now = time.monotonic()
        if self._digest and now - self._checked < 1.0:
            return
        self._checked = now
        if self.override:
            self._digest = hash_key(self.override)
            return
        path = operator_key_path(self.data_dir)
        try:
            mtime = path.stat().st_mtime
        except OSError:
            self._digest = ""
            return
        if mtime != self._mtime:
            key = read_operator_key(self.data_dir)
            self._digest = hash_key(key) if key else ""
            self._mtime = mtime

    def matches(self, key: str) -> bool:
        self._refresh()
        return bool(self._digest) and hmac.compare_digest(self._digest, hash_key(key))


def secure_data_files(data_dir: Path, database_url: str) -> None:
    """The embedded database is readable by its owner only (it holds PSC signing keys, the DMP token
    secret, the evidence salt): created 0600 before SQLite opens it — SQLite gives its -wal and -shm
    files the database file's mode — and set back to 0600 if an older start left it wider."""
    prefix = "sqlite+aiosqlite:///"
    if not database_url.startswith(prefix) or ":memory:" in database_url:
        return
    db = Path(database_url[len(prefix):])
    db.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(db, os.O_WRONLY | os.O_CREAT, 0o600))
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        if path.exists():
            os.chmod(path, 0o600)


class KeyStore(Protocol):
    """Where workspace keys are checked (:class:`sandbox.workspaces.WorkspaceService`)."""

    async def key_matches(self, name: str, key: str) -> bool: ...


@dataclass(frozen=True)
class Principal:
    """A verified key holder: the operator, or one workspace's key holder."""

    operator: bool
    workspace: str | None = None

    def may(self, workspace: str) -> bool:
        return self.operator or self.workspace == workspace


OPERATOR = Principal(operator=True)


class KeyRefusal(StrEnum):
    """Why a key opens nothing (the values are the problem types of the sandbox's own APIs)."""

    MISSING = "api-key-required"
    INVALID = "invalid-api-key"
    OTHER_WORKSPACE = "other-workspace"


class KeyRefused(Exception):
    """A key that opens nothing here; ``holder`` is the verified holder when the key was good but
    named another workspace (its own evidence records the attempt)."""

    def __init__(self, reason: KeyRefusal, holder: Principal | None = None, named: str = "") -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.holder = holder
        self.named = named


@dataclass(frozen=True)
class Opened:
    """What a verified key opens: ``workspace`` is the key's own workspace, or for the operator the
    first workspace the call named (None when it named none: the door picks its default)."""

    holder: Principal
    workspace: str | None


async def workspace_opened_by(key: str, *named: str | None, operator_key: OperatorKey,
                              workspaces: KeyStore) -> Opened:
    """Verify ``key`` and say which workspace the call runs in. ``named``: the workspaces the call
    names (a path segment, ``X-Sandbox-Workspace``; None where it names none). The operator key may
    name any; a workspace key opens its own only, and naming another raises
    :class:`KeyRefused` (``OTHER_WORKSPACE``). An empty key is ``MISSING``; an unknown, rotated or
    deleted one ``INVALID``."""
    if not key:
        raise KeyRefused(KeyRefusal.MISSING)
    if operator_key.matches(key):
        return Opened(OPERATOR, next((n for n in named if n), None))
    own = workspace_of_key(key)
    if own is None or not await workspaces.key_matches(own, key):
        raise KeyRefused(KeyRefusal.INVALID)
    holder = Principal(operator=False, workspace=own)
    for name in named:
        if name is not None and name != own:
            raise KeyRefused(KeyRefusal.OTHER_WORKSPACE, holder, name)
    return Opened(holder, own)
