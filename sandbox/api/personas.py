"""``/sandbox/api/personas``: the seeded world of a workspace, filterable by kind."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from sandbox.api.deps import get_ctx, header_workspace
from sandbox.context import SandboxContext
from sandbox.errors import ProblemError
from sandbox.personas.model import PersonaKind
from sandbox.user_language import Text

router = APIRouter(prefix="/sandbox/api/personas", tags=["sandbox: personas"])


def _kind(kind: str | None) -> str | None:
    if kind is not None and kind not in PersonaKind.__members__.values():
        raise ProblemError(422, "unknown-persona-kind", Text("type de persona inconnu {kind!r}",
                                                             "unknown persona kind {kind!r}", kind=kind),
                           valid_kinds=[k.value for k in PersonaKind])
    return kind


@router.get("")
async def list_personas(
    kind: str | None = Query(None, description="patient | professional | organisation | mailbox"),
    q: str | None = Query(None, description="Text contained in the label, or an exact id"),
    limit: int | None = Query(None, ge=1, le=10000),
    offset: int = Query(0, ge=0, le=1_000_000_000),
    workspace: str = Depends(header_workspace),
    ctx: SandboxContext = Depends(get_ctx),
) -> dict[str, Any]:
    page = await ctx.personas.list(workspace, _kind(kind), q=q, limit=limit, offset=offset)
    return {"workspace": workspace, "kind": kind, "total": page.total, "offset": offset,
            "count": len(page.items), "personas": page.items}


@router.get("/{kind}/{persona_id}")
async def get_persona(kind: str, persona_id: str, workspace: str = Depends(header_workspace),
                      ctx: SandboxContext = Depends(get_ctx)) -> dict[str, Any]:
    found = await ctx.personas.get(workspace, _kind(kind) or "", persona_id)
    if found is None:
        raise ProblemError(404, "unknown-persona", Text("aucun persona {kind} {id!r} dans {ws!r}",
                                                        "no {kind} persona {id!r} in {ws!r}",
                                                        kind=kind, id=persona_id, ws=workspace))
    return found
