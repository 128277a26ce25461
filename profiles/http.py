"""HTTP face: ``POST /profiles/fhir/$validate`` (FHIR R4 operation Resource-validate).

Body: a resource, or a ``Parameters`` with ``resource`` and optional ``profile``; the ``profile``
query parameter is also accepted. Answers an OperationOutcome (200 once the body is readable,
whatever the verdict); unreadable JSON → 400 OperationOutcome. Thin adapter over
:func:`profiles.validate` (STYLE §11).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from profiles.api import validate_with_suppressed
from profiles.cli import parse_bytes
from profiles.issues import to_operation_outcome

FHIR_JSON = "application/fhir+json"


def _lang(request: Request) -> str:
    q = request.query_params.get("_lang")
    if q in ("fr", "en"):
        return q
    return "en" if request.headers.get("accept-language", "fr").lower().startswith("en") else "fr"


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
    import orjson

    return Response(orjson.dumps(body), status_code=status, media_type=FHIR_JSON)


def build_router(ctx: Any = None) -> APIRouter:
    router = APIRouter(tags=["profiles"])

    @router.post("/profiles/fhir/$validate", summary="Validate a FHIR R4 resource (OperationOutcome)")
    async def validate_op(request: Request) -> Response:
        lang = _lang(request)
        doc, parse_issues = parse_bytes(await request.body())
        if parse_issues:
            return _answer(to_operation_outcome(parse_issues, lang), 400)
        resource, profile = _unwrap(doc, request.query_params.get("profile"))
        kept, _suppressed = validate_with_suppressed(resource, profile)
        return _answer(to_operation_outcome(kept, lang), 200)

    return router
