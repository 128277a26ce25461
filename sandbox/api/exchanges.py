"""``/sandbox/api/exchanges``: recorded evidence, filterable, with body download.

Every query parameter the list accepts filters for real; an unknown one is refused (400 problem
JSON naming it) rather than silently ignored, so a typo never returns "everything"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from sandbox.api.deps import caller, get_ctx
from sandbox.context import SandboxContext
from sandbox.errors import ProblemError
from sandbox.evidence import Direction, Exchange, ExchangeFilter, Protocol
from sandbox.user_language import Text

router = APIRouter(prefix="/sandbox/api/exchanges", tags=["sandbox: evidence"])

LIST_PARAMETERS = ("workspace", "protocol", "service", "operation", "actor", "status", "direction",
                   "correlation_id", "since", "until", "limit", "offset")


@router.get("")
async def list_exchanges(
    request: Request,
    workspace: str | None = Query(None),
    protocol: str | None = Query(None, description="http | soap | smtp | imap"),
    service: str | None = Query(None),
    operation: str | None = Query(None, description="exact operation label, e.g. dmp.iti-65, psc.token, "
                                                    "rechercherInsAvecTraitsIdentite"),
    actor: str | None = Query(None, description="exact recorded actor"),
    status: str | None = Query(None, description="exact status, e.g. 200, 503"),
    direction: str | None = Query(None, description="inbound | outbound"),
    correlation_id: str | None = Query(None),
    since: datetime | None = Query(None, description="ISO 8601 date-time (inclusive)"),
    until: datetime | None = Query(None, description="ISO 8601 date-time (inclusive)"),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=1_000_000_000),
    ctx: SandboxContext = Depends(get_ctx),
) -> dict[str, Any]:
    who = caller(request)
    if not who.operator:  # a workspace key reads its own evidence only
        if workspace is not None and workspace != who.workspace:
            raise ProblemError(403, "other-workspace", Text("cette clé n'ouvre que l'espace de travail {ws!r}",
                                                             "this key opens workspace {ws!r} only", ws=who.workspace))
        workspace = who.workspace
    unknown = sorted({k for k in request.query_params if k not in LIST_PARAMETERS})
    if unknown:
        raise ProblemError(400, "unknown-filter", Text(
            "filtre(s) inconnu(s) {unknown} ; acceptés : {accepted}",
            "unknown filter(s) {unknown}; accepted: {accepted}",
            unknown=", ".join(unknown), accepted=", ".join(LIST_PARAMETERS)))
    if protocol is not None and protocol not in {p.value for p in Protocol}:
        raise ProblemError(400, "invalid-filter", Text(
            "protocol {given!r} : un de {valid}", "protocol {given!r}: one of {valid}",
            given=protocol[:40], valid=", ".join(p.value for p in Protocol)))
    if direction is not None and direction not in {d.value for d in Direction}:
        raise ProblemError(400, "invalid-filter", Text(
            "direction {given!r} : une de {valid}", "direction {given!r}: one of {valid}",
            given=direction[:40], valid=", ".join(d.value for d in Direction)))
    await ctx.recorder.flush()
    found = await ctx.evidence.list(ExchangeFilter(
        workspace=workspace, protocol=protocol, service=service, correlation_id=correlation_id,
        since=since, until=until, limit=limit, offset=offset, operation=operation, actor=actor,
        status=status, direction=direction))
    base = ctx.settings.base_url
    return {"count": len(found), "offset": offset, "exchanges": [e.to_dict(base) for e in found]}


async def _visible(ctx: SandboxContext, request: Request, exchange_id: str) -> Exchange:
    """The exchange, if the caller may read it; another workspace's is as unknown as a missing one."""
    await ctx.recorder.flush()
    ex = await ctx.evidence.get(exchange_id)
    if ex is None or not caller(request).may(ex.workspace):
        raise ProblemError(404, "unknown-exchange", Text("aucun échange {id!r}", "no exchange {id!r}", id=exchange_id))
    return ex


@router.get("/{exchange_id}")
async def get_exchange(exchange_id: str, request: Request, ctx: SandboxContext = Depends(get_ctx)) -> dict[str, Any]:
    return (await _visible(ctx, request, exchange_id)).to_dict(ctx.settings.base_url)


@router.get("/{exchange_id}/{which}")
async def get_body(exchange_id: str, which: str, request: Request,
                   ctx: SandboxContext = Depends(get_ctx)) -> Response:
    if which not in ("request-body", "response-body"):
        raise ProblemError(404, "unknown-body", Text("les corps sont 'request-body' ou 'response-body'",
                                                     "bodies are 'request-body' or 'response-body'"))
    ex = await _visible(ctx, request, exchange_id)
    sha = ex.request_sha256 if which == "request-body" else ex.response_sha256
    body = await ctx.evidence.body(sha) if sha else None
    if body is None:
        raise ProblemError(404, "no-body", Text("l'échange {id!r} n'a pas de {which}", "exchange {id!r} has no {which}",
                                                id=exchange_id, which=which.replace("-", " ")))
    headers = {"X-Body-SHA256": body.sha256, "X-Body-Size": str(body.size),
               "X-Body-Truncated": "true" if body.truncated else "false"}
    return Response(body.data, media_type=body.content_type or "application/octet-stream", headers=headers)
