"""``/psc/demo/``: a sandbox-served relying party so a newcomer logs in from a browser with no
set-up (psc/README.md). It uses the workspace's seeded demo client, PKCE S256, state and nonce,
and shows the token response, the ID token claims and the userinfo answer."""

from __future__ import annotations

import base64
import json
import secrets
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from psc import runtime, token_endpoint, userinfo
from psc.authorize import redirect_with
from psc.clients import DEMO_CALLBACK, demo_client_id
from psc.errors import OAuthError
from psc.forms import MAX_QUERY_BYTES, parse_params
from psc.rfc7636 import s256
from psc.routes.common import html, raw_query
from sandbox.context import SandboxContext

COOKIE = "psc_demo"


def build(ctx: SandboxContext) -> APIRouter:
    router = APIRouter(prefix="/psc/demo", tags=["psc: demo relying party"])
    rt = runtime.get(ctx)

    def links(workspace: str) -> dict[str, str]:
        return {"login_url": f"{ctx.settings.base_url}/psc/demo/login?{urlencode({'workspace': workspace})}",
                "discovery": f"{rt.issuer_for(workspace)}/.well-known/wallet-openid-configuration",
                "workspace": workspace,
                "client_id": demo_client_id(workspace, ctx.settings.default_workspace)}

    @router.get("/")
    async def start(request: Request, workspace: str | None = None) -> Response:
        return html("demo.html", **links(workspace or ctx.settings.default_workspace))

    @router.get("/login")
    async def login(request: Request, workspace: str | None = None, login_hint: str | None = None) -> Response:
        ws = workspace or ctx.settings.default_workspace
        state, verifier, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(48), secrets.token_urlsafe(16)
        client_id = demo_client_id(ws, ctx.settings.default_workspace)
        params = {"response_type": "code", "client_id": client_id,
                  "redirect_uri": ctx.settings.base_url + DEMO_CALLBACK,
                  "scope": "openid scope_all profile email identity", "acr_values": "eidas1",
                  "state": state, "nonce": nonce, "code_challenge": s256(verifier),
                  "code_challenge_method": "S256", "login_hint": login_hint}
        cookie = base64.urlsafe_b64encode(orjson.dumps(
            {"state": state, "verifier": verifier, "client_id": client_id, "workspace": ws})).decode()
        resp = RedirectResponse(redirect_with(rt.authorization_endpoint, params), status_code=302)
        resp.set_cookie(COOKIE, cookie, max_age=600, httponly=True, samesite="lax", path="/psc/demo",
                        secure=request.url.scheme == "https")
        return resp

    @router.get("/callback")
    async def callback(request: Request) -> Response:
        try:
            params = parse_params(raw_query(request), limit=MAX_QUERY_BYTES)
            saved = orjson.loads(base64.urlsafe_b64decode(request.cookies.get(COOKIE, "") or "e30="))
        except (OAuthError, ValueError, orjson.JSONDecodeError):
            params, saved = {}, {}
        ws = saved.get("workspace") or ctx.settings.default_workspace
        page = links(ws)
        if "error" in params:
            return html("demo.html", 400, error=params["error"],
                        description=params.get("error_description", ""), **page)
        if not saved or params.get("state") != saved.get("state") or "code" not in params:
            return html("demo.html", 400, error="invalid_state",
                        description="state absent ou différent de celui envoyé (recommencez la connexion)",
                        **page)
        client = await rt.clients.get(saved["client_id"])
        if client is None:
            return html("demo.html", 400, error="invalid_client", description="client de démo absent", **page)
        form = {"grant_type": "authorization_code", "code": params["code"],
                "redirect_uri": ctx.settings.base_url + DEMO_CALLBACK, "code_verifier": saved["verifier"]}
        try:
            result = await token_endpoint.token(rt, form, None, client=client)
            info = await userinfo.userinfo(rt, result.body["access_token"])
        except OAuthError as exc:
            return html("demo.html", 400, error=exc.error, description=exc.description, **page)
        id_token = result.body.get("id_token", "")
        id_claims = orjson.loads(base64.urlsafe_b64decode(id_token.split(".")[1] + "==")) if id_token else {}
        logout_url = redirect_with(rt.endpoint("logout", ws), {
            "id_token_hint": id_token, "post_logout_redirect_uri": ctx.settings.base_url + "/psc/demo/"})
        resp = html("demo.html", tokens=json.dumps(result.body, indent=2),
                    id_claims=json.dumps(id_claims, indent=2, ensure_ascii=False),
                    userinfo=json.dumps(info.claims, indent=2, ensure_ascii=False), logout_url=logout_url, **page)
        resp.delete_cookie(COOKIE, path="/psc/demo")
        return resp

    return router
