"""Seeding a workspace from the synthetic world (first start, ``seed``, ``reset``).

The platform writes the personas; then every service's ``on_seed`` hook fills its own tables for
the workspace from the same world (e.g. ``ins`` indexes identities, ``dmp`` opens DMPs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from sandbox.models import PersonaRow
from sandbox.personas.model import PersonaKind, World

if TYPE_CHECKING:
    from sandbox.context import SandboxContext


@dataclass
class SeedContext:
    """What a service's ``on_seed`` hook receives; write through ``session`` (one transaction)."""

    workspace: str
    world: World
    session: AsyncSession
    ctx: SandboxContext


def persona_rows(workspace: str, world: World) -> list[dict]:
    rows = []
    for kind in PersonaKind:
        for ordinal, persona in enumerate(world.of_kind(kind)):
            rows.append({"workspace": workspace, "kind": kind.value, "id": persona.id,
                         "ordinal": ordinal, "label": persona.label[:200], "data": persona.to_dict()})
    return rows


async def seed_workspace(ctx: SandboxContext, session: AsyncSession, workspace: str) -> None:
    """Write the world's personas for ``workspace`` and let each service seed its tables."""
    rows = persona_rows(workspace, ctx.world)
    for i in range(0, len(rows), 500):
        await session.execute(insert(PersonaRow), rows[i : i + 500])
    seed = SeedContext(workspace=workspace, world=ctx.world, session=session, ctx=ctx)
    for service in ctx.services:
        if service.on_seed is not None:
            await service.on_seed(seed)
