"""Direct dispatch for the few hot endpoints (the PSC token endpoint first).

FastAPI's path matching over every included router, its dependency solving and its exception
middleware cost ≈ 0.1 ms of CPU per request here: a sixth of a client_credentials token. An
endpoint whose handler takes only the ``Request`` and returns a ``Response``, and whose path has no
parameter, can be added to the context's :class:`DirectTable` (``ctx.direct``) as well as to its
router: it stays a normal FastAPI route (OpenAPI, docs), and :class:`DirectRoutes` — an ASGI
middleware inside the evidence middleware, so every exchange is still recorded, size-limited and
carries its correlation id — calls it straight away when method and path match exactly. Anything
else goes through FastAPI unchanged.

Exceptions a direct handler lets escape get the app's exception handlers, found by the exception's
class as Starlette's exception middleware would; an unexpected one reaches the server-error
middleware (the generic 500 of the path's protocol), as for any route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

Handler = Callable[[Request], Awaitable[Response]]


class DirectTable:
    """(method, exact path) → handler; services add their hot endpoints while building routers."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}

    def add(self, method: str, path: str, handler: Handler) -> None:
        if "{" in path:
            raise ValueError(f"direct route {path} has path parameters")
        self.routes[(method.upper(), path)] = handler


class DirectRoutes:
    def __init__(self, app: ASGIApp, *, table: DirectTable, fastapi_app: FastAPI) -> None:
        self.app = app
        self.routes = table.routes
        self.fastapi_app = fastapi_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            handler = self.routes.get((scope["method"], scope["path"]))
            if handler is not None:
                request = Request(scope, receive, send)
                try:
                    response = await handler(request)
                except Exception as exc:  # noqa: BLE001 - handed to the app's handlers, or re-raised
                    response = await self._handled(request, exc)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _handled(self, request: Request, exc: Exception) -> Response:
        handlers: dict[Any, Any] = self.fastapi_app.exception_handlers
        for cls in type(exc).__mro__:
            if cls is Exception:
                break
            if cls in handlers:
                return await handlers[cls](request, exc)
        raise exc
