"""HTTP adapters of the provider endpoints under ``/psc/realms/esante-wallet`` (FACTS §4 table):
discovery (``wallet-openid-configuration``; the standard name only with the leniency
``MES_SANDBOX_PSC_STANDARD_DISCOVERY``), ``token``, ``userinfo``, ``token/introspect``, ``logout``,
``certs``; authorization on the wallet, ``/psc/wallet/auth`` (PSC's ``wallet.*`` host). Evidence
records which discovery document and which authorization endpoint a client used, and the host.
Each handler parses, calls the framework-free domain module, annotates the evidence and
shapes the protocol answer."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute

from psc import authorize, discovery, introspection, logout, runtime, token_endpoint, userinfo
from psc.claims import REALM
from psc.errors import AccessDenied, AuthorizeError, BearerError, OAuthError
from psc.forms import MAX_QUERY_BYTES, parse_form, parse_params
from psc.routes.common import html, json_response, oauth_error, raw_query
from psc.runtime import WALLET_PATH, WORKSPACE_REALM_PREFIX
from psc.scopes import AUTH_MEANS, AuthMode
from sandbox.context import SandboxContext
from sandbox.http_evidence import annotate

PREFIX = f"/psc/realms/{REALM}"


def build(ctx: SandboxContext) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["psc: OpenID Connect provider"])
    wallet = APIRouter(prefix=WALLET_PATH, tags=["psc: OpenID Connect provider"])
    rt = runtime.get(ctx)

    def note(request: Request, operation: str, **fields) -> None:  # noqa: ANN003 - evidence fields
        annotate(request, service="psc", operation=f"psc.{operation}", **fields)

    async def unknown_realm(request: Request) -> Response | None:
        """404 for a workspace realm that does not exist; notes the realm's workspace otherwise."""
        realm = _realm(request)
        if realm is None:  # PSC's own path is the default workspace's realm
            annotate(request, workspace=ctx.settings.default_workspace)
            return None
        if await ctx.workspaces.get(realm) is None:
            return json_response({"error": "not_found", "error_description": f"unknown realm {realm[:64]!r}"},
                                 status=404)
        annotate(request, workspace=realm)
        return None

    @router.get("/.well-known/wallet-openid-configuration")
    async def well_known(request: Request) -> Response:
        note(request, "discovery", summary={"document": discovery.WALLET_DOCUMENT, "host": _host(request)})
        if (missing := await unknown_realm(request)) is not None:
            return missing
        return json_response(discovery.metadata(rt, _realm(request)), headers={"Cache-Control": "max-age=60"})

    @router.get("/.well-known/openid-configuration")
    async def well_known_standard(request: Request) -> Response:
        served = rt.config.standard_discovery
        note(request, "discovery", summary={"document": discovery.STANDARD_DOCUMENT, "host": _host(request),
                                            "served": served})
        if (missing := await unknown_realm(request)) is not None:
            return missing
        if served:
            return json_response(discovery.metadata(rt, _realm(request)), headers={"Cache-Control": "max-age=60"})
        return json_response({"error": "not_found", "error_description": (
            "Pro Santé Connect publie sa configuration à .well-known/wallet-openid-configuration "
            "(pas openid-configuration)")}, status=404)

    @router.get("/protocol/openid-connect/certs")
    async def certs(request: Request) -> Response:
        note(request, "certs")
        if (missing := await unknown_realm(request)) is not None:
            return missing
        return json_response(await rt.keys.jwks(), headers={"Cache-Control": "max-age=10"})

    async def picker(request: Request, areq: authorize.AuthorizationRequest, *, message: str = "",
                     status: int = 200) -> Response:
        page = await ctx.personas.list(areq.client.workspace, "professional")
        return html("authorize.html", status, client=areq.client, params=areq.forwarded(),
                    personas=page.items, means=list(AUTH_MEANS.values()), message=message,
                    action=rt.authorization_endpoint, workspace=areq.client.workspace)

    async def finish(request: Request, params: dict[str, str], *, posted: bool) -> Response:
        status = 303 if posted else 302
        where = {"endpoint": "wallet" if request.url.path.startswith(WALLET_PATH) else "issuer",
                 "host": _host(request)}
        try:
            areq = await authorize.validate(rt, params)
            note(request, "authorize", workspace=areq.client.workspace, actor=areq.client.client_id,
                 summary={"client_id": areq.client.client_id, "scope": " ".join(areq.scopes), **where})
            if posted and params.get("decision") == "deny":
                raise AuthorizeError(AccessDenied("le professionnel a refusé la connexion"),
                                     redirect_uri=areq.redirect_uri, state=areq.state)
            hint = params.get("persona") if posted else areq.login_hint
            if not hint:
                return await picker(request, areq)
            pro = await authorize.resolve_hint(rt, areq.client.workspace, hint)
            if pro is None:
                return await picker(request, areq, message=(
                    f"Aucun professionnel « {hint[:80]} » dans l'espace de travail "
                    f"{areq.client.workspace} : choisissez-en un."), status=200 if not posted else 400)
            try:
                mode = AuthMode(params.get("auth_mode", AuthMode.CARD.value) if posted else AuthMode.CARD)
            except ValueError:
                return await picker(request, areq, message="Moyen d'authentification inconnu.", status=400)
            # from here a scripted fault fires or a session and its code are created: committed before
            # the redirect leaves, though the method is GET (docs/scale.md "What a crash can lose")
            note(request, "authorize", durable=True)
            await authorize.apply_faults(rt, areq)
            location = await authorize.issue_code(rt, areq, pro["id"], mode)
            note(request, "authorize", actor=f"{areq.client.client_id} / {pro['id']}",
                 summary={"persona": pro["id"], "auth_mode": mode.value, "outcome": "code"})
            return RedirectResponse(location, status_code=status, headers={"Cache-Control": "no-store"})
        except AuthorizeError as exc:
            note(request, "authorize", summary={"error": exc.error.error})
            if exc.redirect_uri is None:
                return html("error.html", 400, error=exc.error.error, description=exc.error.description)
            client = await rt.clients.get(params.get("client_id") or "")
            if client is not None:  # a refusal sent back to the client's own redirect URI is its evidence
                note(request, "authorize", workspace=client.workspace, actor=client.client_id)
            return RedirectResponse(authorize.error_redirect(rt, exc, client.workspace if client else None),
                                    status_code=status, headers={"Cache-Control": "no-store"})

    @wallet.get("/auth")
    async def auth_get(request: Request) -> Response:
        try:
            params = parse_params(raw_query(request), limit=MAX_QUERY_BYTES)
        except OAuthError as exc:
            return html("error.html", 400, error=exc.error, description=exc.description)
        return await finish(request, params, posted=False)

    @wallet.post("/auth")
    async def auth_post(request: Request) -> Response:
        try:
            params = parse_form(await request.body(), request.headers.get("content-type"))
        except OAuthError as exc:
            return html("error.html", 400, error=exc.error, description=exc.description)
        return await finish(request, params, posted=True)

    async def not_on_issuer(request: Request) -> Response:
        note(request, "authorize", summary={"endpoint": "issuer", "host": _host(request), "served": False})
        return html("error.html", 404, error="not_found", description=(
            "Pro Santé Connect n'autorise pas sur l'hôte de l'émetteur : utilisez l'authorization_endpoint "
            f"de .well-known/wallet-openid-configuration ({rt.authorization_endpoint})"))

    @router.get("/protocol/openid-connect/auth")
    async def auth_get_issuer(request: Request) -> Response:
        return await (auth_get(request) if rt.config.standard_discovery else not_on_issuer(request))

    @router.post("/protocol/openid-connect/auth")
    async def auth_post_issuer(request: Request) -> Response:
        return await (auth_post(request) if rt.config.standard_discovery else not_on_issuer(request))

    @router.post("/protocol/openid-connect/token")
    async def token(request: Request) -> Response:
        try:
            form = parse_form(await request.body(), request.headers.get("content-type"))
            note(request, "token", summary={"grant_type": form.get("grant_type", "")})
            result = await token_endpoint.token(rt, form, request.headers.get("authorization"),
                                                realm=_realm(request))
        except OAuthError as exc:
            note(request, "token", summary={"error": exc.error})
            return oauth_error(exc)
        note(request, "token", workspace=result.client.workspace, actor=result.client.client_id,
             summary={"client_id": result.client.client_id, "scope": result.body.get("scope", "")})
        return json_response(result.body)

    ctx.direct.add("POST", PREFIX + "/protocol/openid-connect/token", token)  # the hot path

    async def _userinfo(request: Request, form: dict[str, str] | None) -> Response:
        try:
            info = await userinfo.userinfo(rt, userinfo.bearer_from(request.headers.get("authorization"), form))
            realm = _realm(request)
            if realm is not None and info.token.workspace != realm:
                raise BearerError("the token was issued by another realm")
        except OAuthError as exc:
            note(request, "userinfo", summary={"error": exc.error})
            return oauth_error(exc)
        tok = info.token
        note(request, "userinfo", workspace=tok.workspace,
             actor=f"{tok.client_id} / {(tok.professional or {}).get('id', tok.subject)}")
        if info.jwt is not None:
            return Response(info.jwt, media_type="application/jwt", headers={"Cache-Control": "no-store"})
        return json_response(info.claims)

    @router.get("/protocol/openid-connect/userinfo")
    async def userinfo_get(request: Request) -> Response:
        return await _userinfo(request, None)

    @router.post("/protocol/openid-connect/userinfo")
    async def userinfo_post(request: Request) -> Response:
        form = None
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            try:
                form = parse_form(await request.body(), request.headers.get("content-type"))
            except OAuthError as exc:
                return oauth_error(exc)
        return await _userinfo(request, form)

    @router.post("/protocol/openid-connect/token/introspect")
    async def introspect(request: Request) -> Response:
        try:
            form = parse_form(await request.body(), request.headers.get("content-type"))
            caller, body = await introspection.introspect(rt, form, request.headers.get("authorization"),
                                                          realm=_realm(request))
        except OAuthError as exc:
            note(request, "introspect", summary={"error": exc.error})
            return oauth_error(exc)
        note(request, "introspect", workspace=caller.workspace, actor=caller.client_id,
             summary={"active": body["active"]})
        return json_response(body)

    async def _logout(request: Request, params: dict[str, str]) -> Response:
        try:
            result = await logout.logout(rt, params)
        except OAuthError as exc:
            return html("error.html", 400, error=exc.error, description=exc.description)
        # a session ended: committed before the answer leaves, also for a GET
        note(request, "logout", workspace=result.workspace, actor=result.client_id, summary={"sid": result.sid},
             durable=bool(result.sid))
        if result.redirect:
            return RedirectResponse(result.redirect, status_code=302)
        return html("logged_out.html", ended=bool(result.sid))

    @router.get("/protocol/openid-connect/logout")
    async def logout_get(request: Request) -> Response:
        try:
            params = parse_params(raw_query(request), limit=MAX_QUERY_BYTES)
        except OAuthError as exc:
            return html("error.html", 400, error=exc.error, description=exc.description)
        return await _logout(request, params)

    @router.post("/protocol/openid-connect/logout")
    async def logout_post(request: Request) -> Response:
        try:
            params = parse_form(await request.body(), request.headers.get("content-type"))
        except OAuthError as exc:
            return html("error.html", 400, error=exc.error, description=exc.description)
        return await _logout(request, params)

    # every workspace is a realm of its own under /psc/w/<workspace>/realms/esante-wallet: the same
    # endpoints, so discovery and JWKS fetches are attributable to the vendor's workspace
    realms = APIRouter(prefix=WORKSPACE_REALM_PREFIX, tags=["psc: OpenID Connect provider"])
    for route in router.routes:
        if isinstance(route, APIRoute):
            realms.add_api_route(route.path[len(PREFIX):], route.endpoint, methods=sorted(route.methods or ()),
                                 name=f"{route.name}_workspace_realm")
    both = APIRouter()
    both.include_router(router)
    both.include_router(realms)
    both.include_router(wallet)
    return both


def _realm(request: Request) -> str | None:
    """The workspace of the realm path called (None for the default path)."""
    return request.path_params.get("ws")


def _host(request: Request) -> str:
    return request.headers.get("host", "")[:200]
