"""An OpenAPI document that tells the truth about what the sandbox answers (checked by schemathesis:
``.ci/schemathesis``, ``bench/schemathesis_long.py``).

FastAPI documents what a route's signature shows: routes that read their body themselves (FHIR
transactions, OAuth forms, SOAP envelopes) declare no request body, errors answered by the
middlewares (401/403 keys, 413 size, 421 host, 429 rate, protocol-shaped 500) and by the protocol
error families appear nowhere, and validation errors are documented as FastAPI's
``HTTPValidationError`` although the sandbox answers problem JSON or an OperationOutcome. This
module completes the generated document once: per operation, the request body a route reads
itself (:data:`BODIES`: OAuth forms with their fields, the DMP transaction Bundle, JSON Patch, FHIR
resources, SOAP) and the error statuses it can answer (:func:`_statuses`: 401/403 only where a
credential is checked, 404 where something is looked up, 409 on writes, 413/415/422 where a body
is read, plus what the middlewares answer anywhere), each in its protocol's media type and shape —
the same prefixes :func:`sandbox.errors.render_generic` uses.
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
#: answered on any operation by the middlewares: 421 host, 429 rate, 500 crash guard (413 where a
#: body is read)
EVERYWHERE = {"421": "Host not served here", "429": "Too many requests (see Retry-After)",
              "500": "Internal error (a bug; the log has details)"}
INSI_FAULT = ("SOAP 1.2 Fault. INSi answers every fault, client errors included, with HTTP 500 "
              "(siram:Erreur in the detail), as the real service does.")
DESCRIPTIONS = {"400": "Bad request (unreadable body or parameter)", "401": "No valid credential",
                "403": "Credential of another workspace, or not allowed", "404": "Unknown resource or workspace",
                "405": "Method not allowed (INSi: POST; GET only with ?wsdl)", "409": "Conflict with the current state",
                "413": "Request body too large", "415": "Unsupported media type",
                "422": "Invalid request (the body or parameters break a rule)"}
# Prefixes whose operations authenticate their caller (key, token, client, certificate): 401/403.
AUTHENTICATED_PREFIXES = ("/sandbox/api", "/mss/api", "/conformance/api", "/dmp/fhir", "/dmp/mes/api",
                          "/annuaire/fhir", "/ins/fhir", "/ins/api", "/ins/insi")
# Public operations of those prefixes (and PSC's authenticated endpoints outside them).
PUBLIC = re.compile(r"^(/dmp/fhir/metadata|/annuaire/fhir/metadata|/dmp/fhir/\{resource_type\}/\$validate"
                    r"|/ins/fhir/\{resource_type\}/\$validate)$")
PSC_AUTHENTICATED = re.compile(r"/protocol/openid-connect/(token|token/introspect|userinfo)$")

FORM_TOKEN = {"type": "object", "required": ["grant_type"], "properties": {
    "grant_type": {"type": "string", "enum": ["authorization_code", "refresh_token", "client_credentials"]},
    "code": {"type": "string"}, "redirect_uri": {"type": "string"}, "code_verifier": {"type": "string"},
    "refresh_token": {"type": "string"}, "scope": {"type": "string"}, "client_id": {"type": "string"},
    "client_secret": {"type": "string"}, "client_assertion_type": {"type": "string"},
    "client_assertion": {"type": "string"}}}
FORM_INTROSPECT = {"type": "object", "required": ["token"], "properties": {
    "token": {"type": "string"}, "token_type_hint": {"type": "string"}, "client_id": {"type": "string"},
    "client_secret": {"type": "string"}}}
FORM_AUTH = {"type": "object", "properties": {
    "client_id": {"type": "string"}, "redirect_uri": {"type": "string"}, "response_type": {"type": "string"},
    "scope": {"type": "string"}, "state": {"type": "string"}, "nonce": {"type": "string"},
    "code_challenge": {"type": "string"}, "code_challenge_method": {"type": "string"},
    "persona": {"type": "string"}, "decision": {"type": "string", "enum": ["allow", "deny"]}}}
FORM_LOGOUT = {"type": "object", "properties": {
    "id_token_hint": {"type": "string"}, "post_logout_redirect_uri": {"type": "string"},
    "client_id": {"type": "string"}, "state": {"type": "string"}}}
FORM_USERINFO = {"type": "object", "properties": {"access_token": {"type": "string"}}}
FHIR_RESOURCE = {"type": "object", "required": ["resourceType"],
                 "properties": {"resourceType": {"type": "string"}}}
TRANSACTION = {"type": "object", "required": ["resourceType", "type", "entry"], "properties": {
    "resourceType": {"const": "Bundle"}, "type": {"const": "transaction"},
    "meta": {"type": "object"}, "entry": {"type": "array", "items": {"type": "object", "properties": {
        "fullUrl": {"type": "string"}, "resource": FHIR_RESOURCE,
        "request": {"type": "object", "required": ["method", "url"], "properties": {
            "method": {"enum": ["POST", "PUT"]}, "url": {"type": "string"}}}}}}}}
JSON_PATCH = {"type": "array", "items": {"type": "object", "required": ["op", "path"], "properties": {
    "op": {"enum": ["add", "remove", "replace", "test", "move", "copy"]}, "path": {"type": "string"},
    "value": {}}}}
SOAP = {"type": "string", "description": "A SOAP 1.2 envelope (ins/README.md: RECSANSVITALE, RECVITALE)"}
#: (method, path pattern) -> the request body the route reads itself (FastAPI cannot see it)
_BODIES: list[tuple[str, str, dict[str, Any]]] = [
    ("post", r"/protocol/openid-connect/token$", {"application/x-www-form-urlencoded": FORM_TOKEN}),
    ("post", r"/protocol/openid-connect/token/introspect$", {"application/x-www-form-urlencoded": FORM_INTROSPECT}),
    ("post", r"/protocol/openid-connect/auth$|^/psc/wallet/auth$",
     {"application/x-www-form-urlencoded": FORM_AUTH}),
    ("post", r"/protocol/openid-connect/logout$", {"application/x-www-form-urlencoded": FORM_LOGOUT}),
    ("post", r"/protocol/openid-connect/userinfo$", {"application/x-www-form-urlencoded": FORM_USERINFO}),
    ("post", r"^/dmp/fhir/?$", {"application/fhir+json": TRANSACTION}),
    ("patch", r"^/dmp/fhir/DocumentReference", {"application/json-patch+json": JSON_PATCH,
                                               "application/fhir+json": FHIR_RESOURCE}),
    ("post", r"\$validate$", {"application/fhir+json": FHIR_RESOURCE}),
    ("post", r"^/ins/insi$", {"application/soap+xml": SOAP}),
]
BODIES = [(m, re.compile(p), b) for m, p, b in _BODIES]


def _own_body(method: str, path: str) -> dict[str, Any] | None:
    for m, pattern, media in BODIES:
        if m == method and pattern.search(path):
            return media
    return None


def _statuses(method: str, path: str, op: dict[str, Any]) -> list[str]:
    """The error statuses this operation can answer (besides :data:`EVERYWHERE`)."""
    has_body = "requestBody" in op
    has_params = bool(op.get("parameters"))
    codes = {"400"} if has_body or has_params or path.startswith(("/dmp/", "/ins/", "/annuaire/")) else set()
    if has_body:
        codes |= {"413", "415", "422"}
    if has_params or path.startswith(("/sandbox/api", "/mss/api", "/conformance/api")):
        codes |= {"404", "422"}
    if path.startswith(("/dmp/", "/ins/fhir", "/annuaire/")) or "{" in path:
        codes.add("404")
    authenticated = ((path.startswith(AUTHENTICATED_PREFIXES) and not PUBLIC.match(path))
                     or PSC_AUTHENTICATED.search(path) is not None)
    if authenticated:
        codes |= {"401", "403"}
    if method != "get" and path.startswith(("/sandbox/api", "/mss/api", "/conformance/api", "/dmp/")):
        codes.add("409")
    if path.startswith("/sandbox/api/exchanges"):
        codes.add("403")  # a workspace key asking for another workspace's evidence
    if path == "/ins/insi":
        codes |= {"405", "415"}
    if path.startswith("/psc/") and not re.search(r"/(\.well-known/.*|certs)$", path):
        codes.add("400")  # OAuth's invalid_request and friends
    if path.startswith("/psc/") and not re.search(r"/(wallet-openid-configuration|certs)$", path):
        codes.add("404")  # the standard discovery name and authorize under the issuer: absent, as on real PSC
    return sorted(codes)


def _shape(path: str) -> tuple[dict[str, dict[str, Any]], list[str], list[str]]:
    for prefix, errors, ok_media, body_media in SHAPES:
        if path.startswith(prefix):
            return errors, ok_media, body_media
    raise AssertionError("the '/' shape matches every path")


#: an existing value for the path parameters of a fresh sandbox, so that a fuzzer's examples reach
#: the logic behind the lookup instead of a 404
PATH_EXAMPLES = {"ws": "default", "name": "default", "ins": "297022A02077878", "kind": "patient",
                 "client_id": "sandbox-demo", "resource_type": "Patient", "rtype": "Practitioner",
                 "which": "request-body", "fmt": "html", "suite_id": "dpi-ldl"}


def _declare_path_parameters(path: str, op: dict[str, Any]) -> None:
    """Routes mounted under a templated prefix (PSC's per-workspace realms ``/psc/w/{ws}/…``) read
    the parameter from the path, not from their signature: declare every ``{name}`` of the path,
    with an existing value as its example."""
    declared = {p.get("name") for p in op.get("parameters", []) if p.get("in") == "path"}
    for name in re.findall(r"{([^}/]+)}", path):
        if name not in declared:
            op.setdefault("parameters", []).append(
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}})
    for param in op.get("parameters", []):
        if param.get("in") == "path" and param.get("name") in PATH_EXAMPLES:
            param.setdefault("example", PATH_EXAMPLES[param["name"]])


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
            own = _own_body(method, path)
            if own is not None:
                op["requestBody"] = {"required": True, "content": {m: {"schema": s} for m, s in own.items()}}
            elif method in ("post", "put", "patch") and "requestBody" not in op and body_media:
                op["requestBody"] = {"required": False, "content": {
                    m: {"schema": TEXT if "xml" in m else {"type": "object"}} for m in body_media}}
            elif "requestBody" in op and error_media is FHIR_ERRORS:
                op["requestBody"]["content"].setdefault("application/fhir+json", {"schema": {"type": "object"}})
            for code in [c for c in responses if c[0] in "45"]:  # FastAPI's HTTPValidationError and the like
                del responses[code]
            errors = {**{c: DESCRIPTIONS[c] for c in _statuses(method, path, op)}, **EVERYWHERE}
            for code, description in sorted(errors.items()):
                text = INSI_FAULT if path == "/ins/insi" and code == "500" else description
                responses[code] = {"description": text,
                                   "content": {m: {"schema": s} for m, s in error_media.items()}}
    return doc
