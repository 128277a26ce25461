"""Hot endpoints dispatched before FastAPI's routing (``sandbox.direct_routes``) keep everything
the middleware and the app's error handlers give other routes."""

from __future__ import annotations

import uuid

import pytest
from starlette.requests import Request
from starlette.responses import Response

from sandbox.direct_routes import DirectTable
from sandbox.errors import ProblemError
from sandbox.testing import RunningSandbox

TOKEN = "/psc/realms/esante-wallet/protocol/openid-connect/token"


def test_the_token_endpoint_is_direct_and_still_recorded(sandbox: RunningSandbox) -> None:
    assert ("POST", TOKEN) in sandbox.ctx.direct.routes
    corr = uuid.uuid4().hex
    with sandbox.client() as c:
        r = c.post(TOKEN, data={"grant_type": "client_credentials"}, headers={"X-Correlation-ID": corr})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"  # RFC 6749 §5.2 shape
    assert r.headers["x-correlation-id"] == corr
    [ex] = sandbox.exchanges(correlation_id=corr)
    assert ex["operation"] == "psc.token" and ex["status"] == "401" and ex["service"] == "psc"
    assert ex["summary"]["error"] == "invalid_client"


def test_errors_escaping_a_direct_handler_get_the_app_handlers(sandbox: RunningSandbox) -> None:
    async def problem(_: Request) -> Response:
        raise ProblemError(409, "conflict", "direct handler refused")

    async def crash(_: Request) -> Response:
        raise RuntimeError("a bug in a direct handler")

    sandbox.ctx.direct.add("GET", "/sandbox/test-direct/problem", problem)
    sandbox.ctx.direct.add("GET", "/sandbox/test-direct/crash", crash)
    with sandbox.client() as c:
        r = c.get("/sandbox/test-direct/problem")
        assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["detail"] == "direct handler refused"
        r = c.get("/sandbox/test-direct/crash")
        assert r.status_code == 500 and r.headers["content-type"].startswith("application/problem+json")
        assert "traceback" not in r.text.lower() and "a bug" not in r.text
    with sandbox.client() as c:  # uvicorn closes a connection whose request crashed, as for any route
        # other methods and paths still go through FastAPI
        assert c.post("/sandbox/test-direct/problem").status_code == 404
        assert c.get("/sandbox/api/workspaces").status_code == 200


def test_paths_with_parameters_cannot_be_direct() -> None:
    async def handler(_: Request) -> Response:
        return Response()

    with pytest.raises(ValueError):
        DirectTable().add("GET", "/things/{id}", handler)
