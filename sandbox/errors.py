"""Protocol-shaped errors for the HTTP side (DESIGN "Errors"; STYLE §10).

Two exception families live here because every service needs them: :class:`ProblemError`
(RFC 9457 problem JSON, used by ``/sandbox/api``) and :class:`FhirError` (FHIR R4
``OperationOutcome``, used by every FHIR base). Both know their wire form (:meth:`to_wire`) and
import no web framework. :func:`render_generic` shapes errors raised by the framework itself
(unknown route, malformed JSON, body too large) after the path's registered style.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import orjson

from sandbox import problem_texts, user_language

PROBLEM_JSON = "application/problem+json"
FHIR_JSON = "application/fhir+json"
PROBLEM_BASE = "https://mes-sandbox.invalid/problems/"

# HTTP status -> FHIR issue type for generic failures (R4 IssueType codes)
_ISSUE_CODE_BY_STATUS = {
    400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported",
    406: "not-supported", 409: "conflict", 410: "deleted", 412: "conflict", 413: "too-costly",
    415: "not-supported", 422: "processing", 429: "throttled", 500: "exception", 503: "transient",
}


@dataclass
class Wire:
    status: int
    body: bytes
    media_type: str
    headers: dict[str, str] = field(default_factory=dict)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class ProblemError(Exception):
    """An RFC 9457 problem. ``kind`` becomes the last segment of the ``type`` URI."""

    def __init__(self, status: int, kind: str, detail: str, *, title: str | None = None,
                 headers: Mapping[str, str] | None = None, **extensions: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.detail = detail
        self.title = title or _phrase(status)
        self.headers = dict(headers or {})
        self.extensions = extensions

    def body(self) -> dict[str, Any]:
        """The problem JSON, ``detail`` in the request's language (:mod:`sandbox.user_language`)."""
        lang = user_language.current()
        detail = (self.detail.in_language(lang) if isinstance(self.detail, user_language.Text)
                  else problem_texts.by_kind(self.kind, self.detail, self.extensions, lang))
        return {"type": PROBLEM_BASE + self.kind, "title": self.title, "status": self.status,
                "detail": detail, **self.extensions}

    def to_wire(self) -> Wire:
        return Wire(self.status, orjson.dumps(self.body()), PROBLEM_JSON, self.headers)


def issue(severity: str, code: str, diagnostics: str, expression: str | None = None,
          details: dict[str, Any] | None = None) -> dict[str, Any]:
    """One ``OperationOutcome.issue`` (severity fatal|error|warning|information)."""
    out: dict[str, Any] = {"severity": severity, "code": code}
    if details:
        out["details"] = details
    out["diagnostics"] = diagnostics
    if expression:
        out["expression"] = [expression]
    return out


def operation_outcome(*issues: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": list(issues)}


class FhirError(Exception):
    """A FHIR failure answered as an ``OperationOutcome``."""

    def __init__(self, status: int, code: str, diagnostics: str, *, expression: str | None = None,
                 issues: list[dict[str, Any]] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.issues = issues or [issue("error", code, diagnostics, expression)]
        self.headers = dict(headers or {})

    def to_wire(self) -> Wire:
        return Wire(self.status, orjson.dumps(operation_outcome(*self.issues)), FHIR_JSON, self.headers)


def problem_renderer(status: int, detail: str) -> tuple[dict[str, Any], str]:
    try:
        kind = HTTPStatus(status).phrase.lower().replace(" ", "-")
    except ValueError:  # a status the standard library does not name
        kind = "error"
    return ProblemError(status, kind, problem_texts.generic(detail, user_language.current())).body(), PROBLEM_JSON


def outcome_renderer(status: int, detail: str) -> tuple[dict[str, Any], str]:
    code = _ISSUE_CODE_BY_STATUS.get(status, "exception" if status >= 500 else "invalid")
    return operation_outcome(issue("error" if status < 500 else "fatal", code, detail)), FHIR_JSON


def render_generic(renderers: Mapping[str, Any], path: str, status: int, detail: str,
                   headers: Mapping[str, str] | None = None) -> Wire:
    """Shape a framework-level error after the longest registered prefix matching ``path``."""
    renderer = problem_renderer
    best = -1
    for prefix, candidate in renderers.items():
        if (path == prefix or path.startswith(prefix.rstrip("/") + "/")) and len(prefix) > best:
            renderer, best = candidate, len(prefix)
    body, media_type = renderer(status, detail)
    return Wire(status, orjson.dumps(body), media_type, dict(headers or {}))
