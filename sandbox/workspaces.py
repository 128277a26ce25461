"""Workspaces: isolated worlds for different vendors and integrators on one sandbox (DESIGN
"Workspaces"). Every per-workspace table has a ``workspace`` column; reset and delete work over
:func:`sandbox.db.workspace_tables`, so a service's new table is covered without new code here.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from sandbox.changes import watch
from sandbox.credentials import hash_key, new_workspace_key
from sandbox.db import as_utc, workspace_tables
from sandbox.errors import ProblemError
from sandbox.http_evidence import ANONYMOUS_WORKSPACE
from sandbox.models import WorkspaceRow
from sandbox.seeding import seed_workspace
from sandbox.workspace_certificates import revoke_workspace

if TYPE_CHECKING:
    from sandbox.context import SandboxContext

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
#: copies of workspaces are cached (options, existence): every change is recorded (sandbox.changes)
watch(WorkspaceRow.__table__)


@dataclass(frozen=True)
class Workspace:
    name: str
    title: str
    created_at: datetime
    seeded_at: datetime | None
    options: dict[str, Any]
    #: the workspace's API key in clear: set only in the answer that created or rotated it
    api_key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {"name": self.name, "title": self.title, "created_at": self.created_at.isoformat(),
             "seeded_at": self.seeded_at.isoformat() if self.seeded_at else None,
             "options": self.options}
        if self.api_key:
            d["api_key"] = self.api_key
        return d


def _domain(row: WorkspaceRow) -> Workspace:
    return Workspace(row.name, row.title, as_utc(row.created_at),
                     as_utc(row.seeded_at) if row.seeded_at else None, row.options or {})


class WorkspaceService:
    """Create, list, reset and delete workspaces."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx

    @staticmethod
    def check_name(name: str) -> None:
        if name == ANONYMOUS_WORKSPACE:
            raise ProblemError(422, "reserved-workspace-name",
                               f"{name!r} is reserved: it holds the evidence of unauthenticated calls", name=name)
        if not NAME_RE.match(name):
            raise ProblemError(422, "invalid-workspace-name",
                               "a workspace name is 1–64 characters: lower-case letters, digits, '-' "
                               "or '_', starting with a letter or digit", name=name)

    async def list(self) -> list[Workspace]:
        async with self.ctx.db.session() as s:
            return [_domain(r) for r in await s.scalars(select(WorkspaceRow).order_by(WorkspaceRow.name))]

    async def get(self, name: str) -> Workspace | None:
        async with self.ctx.db.session() as s:
            row = await s.get(WorkspaceRow, name)
            return _domain(row) if row else None

    async def require(self, name: str) -> Workspace:
        ws = await self.get(name)
        if ws is None:
            raise ProblemError(404, "unknown-workspace", f"no workspace named {name!r}", name=name)
        return ws

    async def create(self, name: str, title: str = "", options: dict[str, Any] | None = None) -> Workspace:
        self.check_name(name)
        now = datetime.now(UTC)
        async with self.ctx.db.session() as s:
            exists = ProblemError(409, "workspace-exists", f"a workspace named {name!r} already exists", name=name)
            if await s.get(WorkspaceRow, name) is not None:
                raise exists
            key = new_workspace_key(name)
            row = WorkspaceRow(name=name, title=title or name, created_at=now, seeded_at=now,
                               options=options or {}, api_key_hash=hash_key(key))
            s.add(row)
            try:
                await s.flush()
            except IntegrityError:  # a concurrent creation (any process or node) won the insert
                raise exists from None
            await seed_workspace(self.ctx, s, name)
            ws = replace(_domain(row), api_key=key)
        return ws

    async def key_matches(self, name: str, key: str) -> bool:
        """Whether ``key`` is the current API key of workspace ``name``."""
        async with self.ctx.db.session() as s:
            stored = await s.scalar(select(WorkspaceRow.api_key_hash).where(WorkspaceRow.name == name))
        return bool(stored) and hmac.compare_digest(stored, hash_key(key))

    async def rotate_key(self, name: str) -> Workspace:
        """Give the workspace a new API key (the old one stops working); the answer shows it once."""
        key = new_workspace_key(name)
        async with self.ctx.db.session() as s:
            row = await s.get(WorkspaceRow, name)
            if row is None:
                raise ProblemError(404, "unknown-workspace", f"no workspace named {name!r}", name=name)
            row.api_key_hash = hash_key(key)
            ws = replace(_domain(row), api_key=key)
        return ws

    async def ensure(self, name: str) -> Workspace:
        """Create ``name`` if missing (the default workspace at first start)."""
        existing = await self.get(name)
        if existing is not None:
            return existing
        try:
            return await self.create(name)
        except ProblemError as exc:  # another node created it meanwhile
            if exc.status != 409:
                raise
            return await self.require(name)

    async def _purge(self, s, name: str) -> None:  # noqa: ANN001 - AsyncSession
        for table in workspace_tables():
            if table.name != WorkspaceRow.__tablename__:
                await s.execute(delete(table).where(table.c.workspace == name))

    async def reset(self, name: str) -> Workspace:
        """Remove everything the workspace holds and restore the seeded world."""
        await self.ctx.recorder.flush()
        async with self.ctx.db.session() as s:
            row = await s.get(WorkspaceRow, name)
            if row is None:
                raise ProblemError(404, "unknown-workspace", f"no workspace named {name!r}", name=name)
            await self._purge(s, name)
            row.seeded_at = datetime.now(UTC)
            await seed_workspace(self.ctx, s, name)
            ws = _domain(row)
        await self.ctx.evidence.purge(workspace=name)
        return ws

    async def delete(self, name: str) -> None:
        if name == self.ctx.settings.default_workspace:
            raise ProblemError(409, "default-workspace", "the default workspace can be reset, not deleted")
        await self.ctx.recorder.flush()
        async with self.ctx.db.session() as s:
            row = await s.get(WorkspaceRow, name)
            if row is None:
                raise ProblemError(404, "unknown-workspace", f"no workspace named {name!r}", name=name)
            await self._purge(s, name)
            await revoke_workspace(s, name)  # its certificates stay refused (sandbox.workspace_certificates)
            await s.delete(row)
        await self.ctx.evidence.purge(workspace=name)
