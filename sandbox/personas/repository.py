"""Reading personas of a workspace (domain dicts as the API serves them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from sandbox.db import Database
from sandbox.models import PersonaRow


@dataclass(frozen=True)
class PersonaPage:
    total: int
    items: list[dict[str, Any]]


class PersonaRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def list(self, workspace: str, kind: str | None = None, *, q: str | None = None,
                   limit: int | None = None, offset: int = 0) -> PersonaPage:
        where = [PersonaRow.workspace == workspace]
        if kind:
            where.append(PersonaRow.kind == kind)
        if q:
            where.append(func.upper(PersonaRow.label).contains(q.upper()) | (PersonaRow.id == q))
        async with self.db.session() as s:
            total = await s.scalar(select(func.count()).select_from(PersonaRow).where(*where))
            query = (select(PersonaRow.data).where(*where)
                     .order_by(PersonaRow.kind, PersonaRow.ordinal).offset(offset))
            if limit is not None:
                query = query.limit(limit)
            return PersonaPage(total or 0, list((await s.scalars(query)).all()))

    async def get(self, workspace: str, kind: str, persona_id: str) -> dict[str, Any] | None:
        async with self.db.session() as s:
            row = await s.get(PersonaRow, (workspace, kind, persona_id))
            return row.data if row else None
