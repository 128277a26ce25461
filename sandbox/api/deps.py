"""FastAPI dependencies shared by every router: the context and the request's workspace."""

from __future__ import annotations

from fastapi import Request

from sandbox.api_auth import OPERATOR, Principal, principal
from sandbox.context import SandboxContext
from sandbox.errors import ProblemError
from sandbox.http_evidence import annotate
from sandbox.user_language import Text
from sandbox.workspaces import Workspace

WORKSPACE_HEADER = "x-sandbox-workspace"


def get_ctx(request: Request) -> SandboxContext:
    return request.app.state.ctx


async def request_workspace(request: Request) -> Workspace:
    """Workspace named by ``X-Sandbox-Workspace`` (default workspace otherwise); must exist."""
    ctx = get_ctx(request)
    name = request.headers.get(WORKSPACE_HEADER) or ctx.settings.default_workspace
    ws = await ctx.workspaces.require(name)
    who = principal(request)
    if who is not None and who.may(name):  # public endpoints (e.g. $validate) stay anonymous evidence
        annotate(request, workspace=name)
    return ws


def caller(request: Request) -> Principal:
    """The verified caller of a ``/sandbox/api`` route (:mod:`sandbox.api_auth`)."""
    return principal(request) or OPERATOR


def require_operator(request: Request) -> None:
    if not caller(request).operator:
        raise ProblemError(403, "operator-only", Text("cette opération demande la clé d'opérateur",
                                                      "this operation needs the operator key"))


async def header_workspace(request: Request) -> str:
    """Name of :func:`request_workspace`."""
    return (await request_workspace(request)).name
