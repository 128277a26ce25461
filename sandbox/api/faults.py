"""``/sandbox/api/workspaces/{ws}/faults``: script, list and clear injected faults."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from sandbox.api.deps import get_ctx
from sandbox.context import SandboxContext
from sandbox.faults import FaultSpec
from sandbox.http_evidence import annotate

router = APIRouter(prefix="/sandbox/api", tags=["sandbox: faults"])


class FaultIn(BaseModel):
    service: str
    kind: str
    operation: str = ""
    times: int | None = Field(None, description="Fire on the next N matching calls (default 1)")
    ratio: float | None = Field(None, description="Fire on this share of matching calls, in (0, 1]")
    params: dict[str, Any] = Field(default_factory=dict)


@router.get("/faults/kinds")
async def fault_kinds(ctx: SandboxContext = Depends(get_ctx)) -> dict[str, Any]:
    """Every fault kind each service supports."""
    return {"services": ctx.faults.catalogue()}


@router.post("/workspaces/{ws}/faults", status_code=201)
async def add_fault(ws: str, body: FaultIn, request: Request,
                    ctx: SandboxContext = Depends(get_ctx)) -> dict[str, Any]:
    annotate(request, workspace=ws)
    await ctx.workspaces.require(ws)
    fault = await ctx.faults.add(ws, FaultSpec(body.service, body.kind, body.operation, body.times,
                                               body.ratio, body.params))
    return fault.to_dict()


@router.get("/workspaces/{ws}/faults")
async def list_faults(ws: str, request: Request, ctx: SandboxContext = Depends(get_ctx)) -> dict[str, Any]:
    annotate(request, workspace=ws)
    await ctx.workspaces.require(ws)
    return {"faults": [f.to_dict() for f in await ctx.faults.list(ws)]}


@router.delete("/workspaces/{ws}/faults")
async def clear_faults(ws: str, request: Request, service: str | None = Query(None),
                       ctx: SandboxContext = Depends(get_ctx)) -> dict[str, Any]:
    annotate(request, workspace=ws)
    await ctx.workspaces.require(ws)
    return {"cleared": await ctx.faults.clear(ws, service)}
