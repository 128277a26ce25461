"""HTTP face: the FHIR R4 operation Resource-validate (``$validate``).

- ``POST /profiles/fhir/$validate``: body a resource, or a ``Parameters`` with ``resource`` and
  optional ``profile``;
- ``POST {base}/{type}/$validate`` from :func:`type_validate_router` (mounted here on
  ``/profiles/fhir``; other FHIR services mount it on their own base): the same, and the type in
  the path must be the body's ``resourceType`` (else 400 OperationOutcome).

The ``profile`` query parameter is also accepted, ``_lang`` (or ``Accept-Language``) picks the
language. The policy of the request's workspace (``X-Sandbox-Workspace``, default workspace
otherwise; workspace option ``profiles.policy``: message id → severity or ``suppress``) is applied,
and each suppression is listed as an information issue with its count. Answers an OperationOutcome:
200 once the body is readable, whatever the verdict; unreadable JSON → 400. Decimals are kept as
written (:func:`profiles.literals.parse_json`). Parsing and validation run in the sandbox's bounded
CPU pool (``ctx.cpu``), off the event loop. Thin adapter over :mod:`profiles.api` (STYLE §11).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from profiles.api import validate_with_suppressed
from profiles.issues import (
    Issue,
    IssueType,
    Severity,
    make_issue,
    policy_from_options,
    suppression_summary,
    to_operation_outcome,
)
from profiles.literals import parse_json
from profiles.messages import MsgId
from profiles.registry import default_registry
from sandbox.api.deps import request_workspace
from sandbox.errors import FhirError, ProblemError

FHIR_JSON = "application/fhir+json"
BASE = "/profiles/fhir"


@dataclass(frozen=True)
class WorkspacePolicy:
    """The request's workspace policy: usable entries and the warnings about ignored ones."""

    entries: dict[str, str] = field(default_factory=dict)
    problems: list[Issue] = field(default_factory=list)


async def workspace_policy(request: Request) -> WorkspacePolicy:
    """FastAPI dependency: the policy of the workspace named by ``X-Sandbox-Workspace``.

    Outside the sandbox app (a bare FastAPI app with no sandbox context) there is no workspace
    and no policy. An unknown workspace is a 404 OperationOutcome."""
    ctx = getattr(request.app.state, "ctx", None)
    if ctx is None:
        return WorkspacePolicy()
    try:
        ws = await request_workspace(request)
    except ProblemError as exc:  # FHIR endpoints answer OperationOutcomes, not problem JSON
        raise FhirError(exc.status, "not-found" if exc.status == 404 else "processing", exc.detail) from None
    entries, problems = policy_from_options(ws.options)
    return WorkspacePolicy(entries, problems)


def _lang(request: Request) -> str:
    q = request.query_params.get("_lang")
    if q in ("fr", "en"):
        return q
    accept = request.headers.get("accept-language")
    if accept:
        return "en" if accept.lower().startswith("en") else "fr"
    ctx = getattr(request.app.state, "ctx", None)
    return ctx.settings.language if ctx is not None else "fr"  # MES_SANDBOX_LANGUAGE


def _unwrap(body: Any, profile: str | None) -> tuple[Any, str | None]:
    if isinstance(body, dict) and body.get("resourceType") == "Parameters" and isinstance(body.get("parameter"), list):
        resource = None
        for p in body["parameter"]:
            if not isinstance(p, dict):
                continue
            if p.get("name") == "resource":
                resource = p.get("resource")
            elif p.get("name") == "profile":
                profile = p.get("valueCanonical") or p.get("valueUri") or p.get("valueString") or profile
        if resource is not None:
            return resource, profile
    return body, profile


def _answer(body: dict[str, Any], status: int) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=FHIR_JSON)


def _refusal(lang: str, itype: IssueType, msg: MsgId, **args: object) -> dict[str, Any]:
    return to_operation_outcome([make_issue(Severity.ERROR, itype, "", msg, **args)], lang)


def _validate_body(body: bytes, lang: str, profile: str | None, policy: WorkspacePolicy,
                   path_type: str | None) -> tuple[dict[str, Any], int]:
    """Parse, validate and render: the CPU-heavy part, synchronous, run off the event loop."""
    doc, parse_issues = parse_json(body)
    if parse_issues:
        return to_operation_outcome(parse_issues, lang), 400
    resource, profile = _unwrap(doc, profile)
    if path_type is not None:
        if path_type not in default_registry().model.resource_types:
            return _refusal(lang, IssueType.NOT_SUPPORTED, MsgId.OPERATION_UNKNOWN_TYPE, name=path_type), 404
        found = resource.get("resourceType") if isinstance(resource, dict) else None
        if found != path_type:
            return _refusal(lang, IssueType.INVALID, MsgId.OPERATION_TYPE_MISMATCH, expected=path_type,
                            found=found if isinstance(found, str) else "-"), 400
    kept, suppressed = validate_with_suppressed(resource, profile, policy=policy.entries)
    notes = policy.problems + suppression_summary(suppressed, policy.entries)
    return to_operation_outcome(kept, lang, notes), 200


async def _validate(request: Request, policy: WorkspacePolicy, path_type: str | None) -> Response:
    """A large resource is validated in the sandbox's bounded CPU pool (:mod:`sandbox.cpu`), so it
    does not hold every other caller of the process; a bare FastAPI app (no context) runs it inline."""
    body = await request.body()
    args = (body, _lang(request), request.query_params.get("profile"), policy, path_type)
    ctx = getattr(request.app.state, "ctx", None)
    outcome, status = (await ctx.cpu.run(_validate_body, *args, size=len(body)) if ctx is not None
                       else _validate_body(*args))
    return _answer(outcome, status)


def type_validate_router(base: str) -> APIRouter:
    """``POST {base}/{type}/$validate`` (FHIR R4 Resource-validate at type level), for any FHIR
    service: the path type must be the body's ``resourceType`` (400 OperationOutcome otherwise,
    404 for a type R4 does not define); ``profile`` query parameter; the workspace policy applies."""
    router = APIRouter(tags=["profiles"])

    async def validate_type(resource_type: str, request: Request,
                            policy: WorkspacePolicy = Depends(workspace_policy)) -> Response:
        return await _validate(request, policy, resource_type)

    router.add_api_route(base.rstrip("/") + "/{resource_type}/$validate", validate_type, methods=["POST"],
                         summary="Validate a FHIR R4 resource of this type (OperationOutcome)")
    return router


def build_router(ctx: Any = None) -> APIRouter:
    router = APIRouter(tags=["profiles"])

    @router.post(f"{BASE}/$validate", summary="Validate a FHIR R4 resource (OperationOutcome)")
    async def validate_op(request: Request, policy: WorkspacePolicy = Depends(workspace_policy)) -> Response:
        return await _validate(request, policy, None)

    router.include_router(type_validate_router(BASE))
    return router


