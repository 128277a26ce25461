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
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.credentials import (
    OPERATOR,
    KeyRefusal,
    KeyRefused,
    OperatorKey,
    Principal,
    bearer_token,
    workspace_opened_by,
)
from sandbox.errors import ProblemError
from sandbox.http_evidence import annotate
from sandbox.user_language import Text

PROTECTED_PREFIXES = ("/sandbox/api", "/mss/api", "/conformance/api")
PRINCIPAL_KEY = "sandbox.principal"
_PATH_WORKSPACE = re.compile(r"^/(?:sandbox|mss|conformance)/api/workspaces/([^/]+)")


def principal(scope_or_request: Any) -> Principal | None:
    """The caller :class:`ApiAuth` verified for this request (None outside the protected APIs)."""
    scope = scope_or_request if isinstance(scope_or_request, dict) else scope_or_request.scope
    return scope.get("state", {}).get(PRINCIPAL_KEY)


__all__ = ["OPERATOR", "PROTECTED_PREFIXES", "ApiAuth", "Principal", "principal"]


def _bearer(scope: Scope) -> str:
    for k, v in scope.get("headers", ()):
        if k == b"authorization":
            return bearer_token(v.decode("latin-1"))
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
        named = _header(scope, b"x-sandbox-workspace")
        try:
            opened = await workspace_opened_by(_bearer(scope), target, named, operator_key=self.operator_key,
                                               workspaces=self.ctx.workspaces)
        except KeyRefused as exc:
            if exc.reason is KeyRefusal.MISSING:
                raise ProblemError(401, exc.reason.value, Text(
                    "cette API demande 'Authorization: Bearer <clé>' : la clé d'opérateur "
                    "(mes-sandbox operator-key show) ou celle de l'espace de travail",
                    "this API needs 'Authorization: Bearer <key>': the operator key "
                    "(mes-sandbox operator-key show) or the workspace's key"),
                                   headers={"WWW-Authenticate": 'Bearer realm="mes-sandbox"'}) from None
            if exc.reason is KeyRefusal.INVALID:
                raise ProblemError(401, exc.reason.value, Text(
                    "clé d'API non valide (inconnue, remplacée, ou son espace de travail supprimé)",
                    "the API key is not valid (unknown, rotated or its workspace deleted)"),
                                   headers={"WWW-Authenticate": 'Bearer realm="mes-sandbox", error="invalid_token"'}) \
                    from None
            assert exc.holder is not None and exc.holder.workspace is not None
            annotate(scope, workspace=exc.holder.workspace)  # the attempt is the key's own evidence
            raise ProblemError(403, exc.reason.value, _only(exc.holder.workspace)) from None
        who = opened.holder
        if who.operator:
            if opened.workspace:
                annotate(scope, workspace=opened.workspace[:64])
            return who
        ws = opened.workspace
        assert ws is not None
        annotate(scope, workspace=ws)  # from here on the exchange is the workspace's evidence
        if path.rstrip("/") == "/sandbox/api/workspaces" and scope["method"] != "GET":
            raise ProblemError(403, "operator-only", Text("créer un espace de travail demande la clé d'opérateur",
                                                          "creating a workspace needs the operator key"))
        if named is None:  # the handlers read the key's workspace as if the caller had named it
            scope["headers"] = [*scope.get("headers", ()), (b"x-sandbox-workspace", ws.encode())]
        return who
