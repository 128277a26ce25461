"""The application factory: ``create_app(settings)`` composes every registered service.

Start-up (lifespan): test PKI, migrations, evidence writer and retention purge, the default
workspace with its seeded world, then each service's ``on_startup`` hook.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from sandbox import __version__, migrate, openapi_truth, pki_store
from sandbox.api_auth import ApiAuth
from sandbox.browser_safety import BrowserSafety
from sandbox.changes import ChangeScope
from sandbox.context import SandboxContext
from sandbox.crash_guard import CrashGuard
from sandbox.credentials import ensure_operator_key, secure_data_files
from sandbox.deployment import BaseUrlMismatch, claim_base_url
from sandbox.direct_routes import DirectRoutes
from sandbox.errors import FhirError, ProblemError, Wire, outcome_renderer, render_generic
from sandbox.http_evidence import EvidenceMiddleware
from sandbox.rate_limit import RateLimit
from sandbox.services import Service, discover
from sandbox.settings import Settings
from sandbox.tls import client_certificate
from sandbox.user_language import RequestLanguage

log = logging.getLogger(__name__)


def _response(wire: Wire) -> Response:
    return Response(wire.body, status_code=wire.status, media_type=wire.media_type, headers=wire.headers)


def _validation_detail(exc: RequestValidationError) -> tuple[int, str]:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return 400, "the request body is not well-formed JSON"
    parts = []
    for e in errors[:10]:
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
        parts.append(f"{loc or 'body'}: {e.get('msg', 'invalid')}")
    return 422, "; ".join(parts) or "invalid request"


def create_app(settings: Settings | None = None, services: list[Service] | None = None) -> FastAPI:
    """Build the sandbox app. ``services`` defaults to every registered service."""
    settings = settings or Settings()
    services = services if services is not None else discover()
    ctx = SandboxContext(settings=settings, services=services)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ensure_operator_key(settings.data_dir, settings.operator_key)
        secure_data_files(settings.data_dir, settings.database_url)
        await migrate.upgrade(ctx.db, services)
        try:
            await claim_base_url(ctx.db, settings)
            # dur (issue 19): the deployment's one CA, from the database, before any TLS context loads
            await pki_store.sync(ctx.pki, ctx.db, settings.pki_secret_path)
        except (BaseUrlMismatch, pki_store.PkiSecretError) as exc:
            log.error("%s", exc)
            await ctx.db.dispose()
            raise
        await ctx.recorder.start()
        await ctx.recorder.purge_older_than(settings.evidence_retention_days)
        ctx.recorder.start_housekeeping(settings.evidence_retention_days, settings.evidence_quota_bytes,
                                        settings.evidence_housekeeping_seconds)
        await ctx.workspaces.ensure(settings.default_workspace)
        for svc in services:
            if svc.on_startup:
                await svc.on_startup(ctx)
        try:
            yield
        finally:
            for svc in reversed(services):
                if svc.on_shutdown:
                    try:
                        await svc.on_shutdown(ctx)
                    except Exception:
                        log.exception("shutdown hook of %s failed", svc.name)
            await ctx.recorder.stop()
            ctx.cpu.close()
            await ctx.db.dispose()

    # /docs (Swagger UI) and /redoc from assets installed with the package, never a CDN: the
    # sandbox is offline (fastapi-offline ships Swagger UI 5, which reads OpenAPI 3.1, and ReDoc)
    app = FastAPIOffline(
        static_url="/docs/assets",
        title="mes-sandbox",
        version=__version__,
        description="Offline reproduction of the French national e-health foundations "
        "(Pro Santé Connect, INSi, DMP/PDSm, MSSanté) with a conformance runner.",
        lifespan=lifespan,
    )
    app.state.ctx = ctx

    renderers = {}
    for svc in services:
        for base in svc.fhir_bases:
            renderers[base] = outcome_renderer
        renderers.update(svc.error_renderers)

    def generic(request: Request, status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
        return _response(render_generic(renderers, request.url.path, status, detail, headers))

    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> Response:
        return _response(exc.to_wire())

    @app.exception_handler(FhirError)
    async def _fhir(_: Request, exc: FhirError) -> Response:
        return _response(exc.to_wire())

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such endpoint: {request.method} {request.url.path}"
        elif exc.status_code == 405:
            detail = f"method {request.method} is not allowed on {request.url.path}"
        return generic(request, exc.status_code, detail, dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        status, detail = _validation_detail(exc)
        return generic(request, status, detail)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return generic(request, 500, "internal error; the sandbox log has the details")

    def too_large(path: str):  # noqa: ANN202 - ASGI app factory
        wire = render_generic(renderers, path, 413,
                              f"request body larger than {settings.max_request_bytes} bytes")
        return _response(wire)

    for svc in services:
        if svc.routers:
            for router in svc.routers(ctx):
                app.include_router(router)

    generated = app.openapi

    def truthful() -> dict:
        if app.openapi_schema is None:
            openapi_truth.complete(generated())
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = truthful  # type: ignore[method-assign]

    app.add_middleware(DirectRoutes, table=ctx.direct, fastapi_app=app)  # inside the evidence middleware
    app.add_middleware(ApiAuth, ctx=ctx, operator_key=ctx.operator_key, open_api=settings.open_api)
    app.add_middleware(CrashGuard, render=lambda path: render_generic(
        renderers, path, 500, "internal error; the sandbox log has the details"))
    app.add_middleware(RateLimit, rate=settings.workspace_rate_per_second, loopback=settings.rate_limit_loopback,
                       render=lambda path, status, detail, headers: render_generic(renderers, path, status, detail,
                                                                                   headers))
    app.add_middleware(BrowserSafety, public_base_url=settings.base_url, allowed_hosts=settings.allowed_hosts,
                       render=lambda path, status, detail: render_generic(renderers, path, status, detail))
    app.add_middleware(
        EvidenceMiddleware, recorder=ctx.recorder, default_workspace=settings.default_workspace,
        max_request_bytes=settings.max_request_bytes, services=[s.name for s in services],
        too_large=too_large, peer_lookup=client_certificate, anonymous_body_limit=settings.anonymous_body_limit,
    )
    # one read of the change record per request, whatever the request does (sandbox.changes)
    app.add_middleware(ChangeScope, changes=ctx.changes)
    # outermost: the user's language for every error text of the sandbox's own APIs
    app.add_middleware(RequestLanguage, default=settings.language)
    return app
