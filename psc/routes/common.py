"""Helpers shared by the PSC routers (FastAPI side only)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from psc.errors import NO_STORE, OAuthError
from sandbox.errors import Wire

templates = Environment(loader=PackageLoader("psc", "templates"),
                        autoescape=select_autoescape(["html"]), enable_async=False)


def wire_response(wire: Wire) -> Response:
    return Response(wire.body, status_code=wire.status, media_type=wire.media_type, headers=wire.headers)


def oauth_error(exc: OAuthError) -> Response:
    return wire_response(exc.to_wire())


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                    headers={**NO_STORE, **(headers or {})})


def html(template: str, status: int = 200, **values: Any) -> HTMLResponse:
    return HTMLResponse(templates.get_template(template).render(**values), status_code=status,
                        headers={"Cache-Control": "no-store"})


def raw_query(request: Request) -> str:
    return request.scope.get("query_string", b"").decode("latin-1")
