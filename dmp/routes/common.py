"""Shared adapter helpers: FHIR JSON responses, body parsing, caller resolution with evidence notes."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response

from dmp.auth import ACCESS_MODE_HEADER, Caller, Unauthorized, authenticate
from dmp.fhir import FHIR_JSON
from sandbox.context import SandboxContext
from sandbox.errors import FhirError
from sandbox.http_evidence import annotate

FHIR_TYPES = ("application/fhir+json", "application/json")


def fhir(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=FHIR_JSON, headers=headers)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def json_body(request: Request, accepted: tuple[str, ...] = FHIR_TYPES) -> Any:
    ctype = media_type(request)
    if ctype not in accepted:
        raise FhirError(415, "not-supported", f"Content-Type {ctype or '(absent)'!r} non supporté : "
                                              f"{' ou '.join(accepted)} attendu")
    raw = await request.body()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise FhirError(400, "structure", "le corps de la requête n'est pas du JSON bien formé") from None


async def caller_of(ctx: SandboxContext, request: Request, operation: str, label: str | None = None) -> Caller:
    """Authenticate the caller. The evidence is labelled ``dmp.<label>`` (``label`` defaults to
    ``operation``, which also names the faults and traces that apply)."""
    ws_header = request.headers.get("x-sandbox-workspace")
    # the workspace is recorded once the token proved it: a bare header is not a credential
    annotate(request, service="dmp", operation=f"dmp.{label or operation}")
    try:
        caller = await authenticate(ctx, request.headers.get("authorization"),
                                    request.headers.get(ACCESS_MODE_HEADER), ws_header)
    except Unauthorized as exc:
        if exc.workspace:  # a genuine token of that workspace, refused (expired, revoked...)
            annotate(request, workspace=exc.workspace)
        raise
    annotate(request, workspace=caller.workspace, actor=caller.label,
             summary={"actor": caller.actor_id, "role": caller.role.value, "access_mode": caller.mode.value})
    return caller
