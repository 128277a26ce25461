"""``GET /health``: is this node serving and can it reach its database? Needs no credentials (a
load balancer or a container health check has none) and says nothing about any workspace."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text

from sandbox import __version__
from sandbox.api.deps import get_ctx
from sandbox.context import SandboxContext

router = APIRouter(tags=["sandbox: health"])


@router.get("/health", responses={503: {"description": "the database does not answer"}})
async def health(ctx: SandboxContext = Depends(get_ctx)) -> Any:
    """200 ``{"status": "ok"}`` when the node serves and its database answers, else 503."""
    try:
        async with ctx.db.session() as s:
            await s.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure is "not healthy", said without details
        return JSONResponse({"status": "unavailable", "version": __version__}, status_code=503)
    return {"status": "ok", "version": __version__}
