"""Who may call the sandbox's own APIs (DESIGN "Shared sandbox: who may do what").

An ASGI middleware in front of ``/sandbox/api``, ``/mss/api`` and ``/conformance/api``: each call
carries ``Authorization: Bearer <key>`` (RFC 6750 §2.1), the operator's key or a workspace's key
(:mod:`sandbox.credentials`). The national protocols (OIDC, SOAP, FHIR) are not behind it: they
authenticate as the real services do, and those credentials pick the workspace.

A workspace key opens its own workspace only: a path ``…/workspaces/<other>/…`` or an
``X-Sandbox-Workspace`` header naming another workspace is a 403, and a call naming no workspace
gets the key's own (the header is added for the handlers). Creating workspaces and reading the
evidence of every workspace take the operator key. Handlers read the verified caller with
:func:`principal`.

``open_api`` (``serve --open``, single-user laptop only) lets every call through as the operator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.credentials import OperatorKey, workspace_of_key
from sandbox.errors import ProblemError
from sandbox.http_evidence import annotate
from sandbox.user_language import Text

PROTECTED_PREFIXES = ("/sandbox/api", "/mss/api", "/conformance/api")
PRINCIPAL_KEY = "sandbox.principal"
_PATH_WORKSPACE = re.compile(r"^/(?:sandbox|mss|conformance)/api/workspaces/([^/]+)")


@dataclass(frozen=True)
class Principal:
    """The verified caller of a protected API: the operator, or one workspace's key holder."""

    operator: bool
    workspace: str | None = None

    def may(self, workspace: str) -> bool:
        return self.operator or self.workspace == workspace


OPERATOR = Principal(operator=True)


def principal(scope_or_request: Any) -> Principal | None:
    """The caller :class:`ApiAuth` verified for this request (None outside the protected APIs)."""
    scope = scope_or_request if isinstance(scope_or_request, dict) else scope_or_request.scope
    return scope.get("state", {}).get(PRINCIPAL_KEY)


def _bearer(scope: Scope) -> str:
    for k, v in scope.get("headers", ()):
        if k == b"authorization":
            scheme, _, value = v.decode("latin-1").partition(" ")
            return value.strip() if scheme.lower() == "bearer" else ""
    return ""


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return v.decode("latin-1")
    return None


def _only(ws: str) -> Text:
    return Text("cette clé n'ouvre que l'espace de travail {ws!r}", "this key opens workspace {ws!r} only", ws=ws)


class ApiAuth:
    def __init__(self, app: ASGIApp, *, ctx: Any, operator_key: OperatorKey, open_api: bool) -> None:
        self.app = app
        self.ctx = ctx  # sandbox.context.SandboxContext
        self.operator_key = operator_key
        self.open_api = open_api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PROTECTED_PREFIXES):
            await self.app(scope, receive, send)
            return
        try:
            who = await self._verify(scope)
        except ProblemError as exc:
            wire = exc.to_wire()
            headers = [(b"content-type", wire.media_type.encode())]
            headers += [(k.lower().encode(), v.encode()) for k, v in wire.headers.items()]
            await send({"type": "http.response.start", "status": wire.status, "headers": headers})
            await send({"type": "http.response.body", "body": wire.body})
            return
        scope.setdefault("state", {})[PRINCIPAL_KEY] = who
        await self.app(scope, receive, send)

    async def _verify(self, scope: Scope) -> Principal:
        path: str = scope["path"]
        match = _PATH_WORKSPACE.match(path)
        target = match.group(1) if match else None
        if self.open_api:
            if target:
                annotate(scope, workspace=target)
            return OPERATOR
        key = _bearer(scope)
        if not key:
            raise ProblemError(401, "api-key-required", Text(
                "cette API demande 'Authorization: Bearer <clé>' : la clé d'opérateur "
                "(mes-sandbox operator-key show) ou celle de l'espace de travail",
                "this API needs 'Authorization: Bearer <key>': the operator key "
                "(mes-sandbox operator-key show) or the workspace's key"),
                               headers={"WWW-Authenticate": 'Bearer realm="mes-sandbox"'})
        if self.operator_key.matches(key):
            ws = target or _header(scope, b"x-sandbox-workspace")
            if ws:
                annotate(scope, workspace=ws[:64])
            return OPERATOR
        ws = workspace_of_key(key)
        if ws is None or not await self.ctx.workspaces.key_matches(ws, key):
            raise ProblemError(401, "invalid-api-key", Text(
                "clé d'API non valide (inconnue, remplacée, ou son espace de travail supprimé)",
                "the API key is not valid (unknown, rotated or its workspace deleted)"),
                               headers={"WWW-Authenticate": 'Bearer realm="mes-sandbox", error="invalid_token"'})
        annotate(scope, workspace=ws)  # from here on the exchange is the workspace's evidence
        who = Principal(operator=False, workspace=ws)
        if target is not None and target != ws:
            raise ProblemError(403, "other-workspace", _only(ws))
        if path.rstrip("/") == "/sandbox/api/workspaces" and scope["method"] != "GET":
            raise ProblemError(403, "operator-only", Text("créer un espace de travail demande la clé d'opérateur",
                                                          "creating a workspace needs the operator key"))
        named = _header(scope, b"x-sandbox-workspace")
        if named is not None and named != ws:
            raise ProblemError(403, "other-workspace", _only(ws))
        if named is None:  # the handlers read the key's workspace as if the caller had named it
            scope["headers"] = [*scope.get("headers", ()), (b"x-sandbox-workspace", ws.encode())]
        return who
