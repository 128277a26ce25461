"""``/sandbox/api/workspaces``: create, list, read, reset, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from sandbox.api.deps import caller, get_ctx, require_operator
from sandbox.context import SandboxContext
from sandbox.http_evidence import annotate

router = APIRouter(prefix="/sandbox/api/workspaces", tags=["sandbox: workspaces"])


class WorkspaceIn(BaseModel):
    name: str = Field(description="1–64 characters: a-z, 0-9, '-', '_'")
    title: str = ""
    options: dict[str, Any] = Field(default_factory=dict,
                                    description="Per-workspace options (e.g. validation policy)")


@router.get("")
async def list_workspaces(request: Request, ctx: SandboxContext = Depends(get_ctx)) -> dict[str, Any]:
    """Every workspace for the operator key; its own for a workspace key."""
    who = caller(request)
    return {"workspaces": [w.to_dict() for w in await ctx.workspaces.list() if who.may(w.name)]}


@router.post("", status_code=201)
async def create_workspace(body: WorkspaceIn, request: Request, response: Response,
                           ctx: SandboxContext = Depends(get_ctx)) -> dict[str, Any]:
    """Operator key only. The answer carries the workspace's ``api_key``, shown this once."""
    require_operator(request)
    ws = await ctx.workspaces.create(body.name, body.title, body.options)
    annotate(request, workspace=ws.name)
    response.headers["Location"] = f"/sandbox/api/workspaces/{ws.name}"
    return ws.to_dict()


@router.get("/{name}")
async def get_workspace(name: str, request: Request, ctx: SandboxContext = Depends(get_ctx)) -> dict[str, Any]:
    annotate(request, workspace=name)
    return (await ctx.workspaces.require(name)).to_dict()


@router.post("/{name}/reset")
async def reset_workspace(name: str, ctx: SandboxContext = Depends(get_ctx)) -> dict[str, Any]:
    return (await ctx.workspaces.reset(name)).to_dict()


@router.post("/{name}/api-key")
async def rotate_workspace_key(name: str, ctx: SandboxContext = Depends(get_ctx)) -> dict[str, Any]:
    """A new API key for the workspace (the old one stops working); the answer shows it once."""
    return (await ctx.workspaces.rotate_key(name)).to_dict()


@router.delete("/{name}", status_code=204)
async def delete_workspace(name: str, ctx: SandboxContext = Depends(get_ctx)) -> Response:
    await ctx.workspaces.delete(name)
    return Response(status_code=204)
