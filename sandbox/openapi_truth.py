"""An OpenAPI document that tells the truth about what the sandbox answers (checked by schemathesis:
``.ci/schemathesis``, ``bench/schemathesis_long.py``).

FastAPI documents what a route's signature shows: routes that read their body themselves (FHIR
transactions, OAuth forms, SOAP envelopes) declare no request body, errors answered by the
middlewares (401/403 keys, 413 size, 421 host, 429 rate, protocol-shaped 500) and by the protocol
error families appear nowhere, and validation errors are documented as FastAPI's
``HTTPValidationError`` although the sandbox answers problem JSON or an OperationOutcome. This
module completes the generated document once, by path prefix, with the shape each protocol really
uses — the same prefixes :func:`sandbox.errors.render_generic` uses.
"""

from __future__ import annotations

import re
from typing import Any

PROBLEM = {"type": "object", "required": ["type", "title", "status"],
           "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                          "detail": {"type": "string"}}}
OUTCOME = {"type": "object", "required": ["resourceType", "issue"],
           "properties": {"resourceType": {"const": "OperationOutcome"}, "issue": {"type": "array"}}}
OAUTH_ERROR = {"type": "object", "required": ["error"],
               "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}}}
ANY_JSON: dict[str, Any] = {}
TEXT = {"type": "string"}

FHIR_ERRORS = {"application/fhir+json": OUTCOME}
PROBLEM_ERRORS = {"application/problem+json": PROBLEM}
#: (path prefix, error media types and schemas, 2xx media types, request body media types)
SHAPES: list[tuple[str, dict[str, dict[str, Any]], list[str], list[str]]] = [
    ("/dmp/fhir", FHIR_ERRORS, ["application/fhir+json", "application/octet-stream"],
     ["application/fhir+json", "application/json-patch+json"]),
    ("/dmp/mes/api", FHIR_ERRORS, ["application/json", "application/fhir+json"], ["application/json"]),
    ("/ins/fhir", FHIR_ERRORS, ["application/fhir+json"], ["application/fhir+json"]),
    ("/profiles/fhir", FHIR_ERRORS, ["application/fhir+json"], ["application/fhir+json"]),
    ("/annuaire/fhir", FHIR_ERRORS, ["application/fhir+json"], []),
    ("/ins/insi", {"application/soap+xml": TEXT, "text/xml": TEXT, **PROBLEM_ERRORS},
     ["application/soap+xml", "text/xml", "text/html"], ["application/soap+xml"]),
    ("/psc/demo", {"text/html": TEXT}, ["text/html"], []),
    ("/psc/", {"application/json": OAUTH_ERROR, "text/html": TEXT},
     ["application/json", "text/html", "application/jwt"], ["application/x-www-form-urlencoded"]),
    ("/", PROBLEM_ERRORS, ["application/json", "application/octet-stream"], ["application/json"]),
]
#: answered on any path by the middlewares: 413 size, 421 host, 429 rate, 500 crash guard
EVERYWHERE = {"400": "Bad request", "405": "Method not allowed", "413": "Request body too large",
              "421": "Host not served here",
              "429": "Too many requests (see Retry-After)", "500": "Internal error (a bug; the log has details)"}
#: by the key check of the sandbox's own APIs, and by the protocols' own authentication
AUTHENTICATED = {"401": "No valid credential", "403": "Credential of another workspace, or not allowed",
                 "404": "Unknown resource", "409": "Conflict", "415": "Unsupported media type",
                 "422": "Invalid request"}
INSI_FAULT = ("SOAP 1.2 Fault. INSi answers every fault, client errors included, with HTTP 500 "
              "(siram:Erreur in the detail), as the real service does.")


def _shape(path: str) -> tuple[dict[str, dict[str, Any]], list[str], list[str]]:
    for prefix, errors, ok_media, body_media in SHAPES:
        if path.startswith(prefix):
            return errors, ok_media, body_media
    raise AssertionError("the '/' shape matches every path")


def _declare_path_parameters(path: str, op: dict[str, Any]) -> None:
    """Routes mounted under a templated prefix (PSC's per-workspace realms ``/psc/w/{ws}/…``) read
    the parameter from the path, not from their signature: declare every ``{name}`` of the path."""
    declared = {p.get("name") for p in op.get("parameters", []) if p.get("in") == "path"}
    for name in re.findall(r"{([^}/]+)}", path):
        if name not in declared:
            op.setdefault("parameters", []).append(
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}})


def complete(doc: dict[str, Any]) -> dict[str, Any]:
    """Complete a FastAPI-generated document in place (see the module docstring); returns it."""
    for path, ops in doc.get("paths", {}).items():
        error_media, ok_media, body_media = _shape(path)
        for method, op in ops.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            _declare_path_parameters(path, op)
            responses = op.setdefault("responses", {})
            for code, answer in list(responses.items()):
                if code.startswith("2") and "content" in answer:
                    declared = answer["content"]
                    first: dict[str, Any] = next(iter(declared.values()), {})
                    body_schema = first.get("schema", ANY_JSON) if error_media is PROBLEM_ERRORS else ANY_JSON
                    answer["content"] = {m: {"schema": body_schema if "json" in m and m != "application/jwt"
                                             else TEXT if m.startswith("text/") or "xml" in m else ANY_JSON}
                                         for m in ok_media}
                    for media in declared.keys() - answer["content"].keys():  # a route's own type
                        answer["content"][media] = {"schema": ANY_JSON}
            if path.startswith("/psc/"):  # authorization, logout and the demo answer with redirects
                for code in ("302", "303"):
                    responses.setdefault(code, {"description": "Redirect (Location)"})
            errors = {**EVERYWHERE, **AUTHENTICATED}
            for code, description in errors.items():
                text = INSI_FAULT if path == "/ins/insi" and code == "500" else description
                responses[code] = {"description": text,
                                   "content": {m: {"schema": s} for m, s in error_media.items()}}
            if method in ("post", "put", "patch") and "requestBody" not in op and body_media:
                op["requestBody"] = {"required": False, "content": {
                    m: {"schema": TEXT if "xml" in m else {"type": "object"}} for m in body_media}}
            elif "requestBody" in op and error_media is FHIR_ERRORS:
                op["requestBody"]["content"].setdefault("application/fhir+json", {"schema": {"type": "object"}})
    return doc
