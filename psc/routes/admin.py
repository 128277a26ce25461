"""``/sandbox/api/workspaces/{ws}/psc/clients``: register, list, read and delete PSC clients
(problem JSON errors, RFC 9457). Metadata names follow RFC 7591 §2."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from psc import runtime
from psc.clients import build_client
from sandbox.context import SandboxContext
from sandbox.http_evidence import annotate


class ClientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str | None = Field(None, description="Generated when omitted")
    client_name: str | None = None
    client_secret: str | None = Field(None, description="Generated when omitted (secret methods)")
    redirect_uris: list[str] = Field(default_factory=list)
    post_logout_redirect_uris: list[str] = Field(default_factory=list)
    token_endpoint_auth_method: str = "client_secret_basic"
    grant_types: list[str] | None = None
    scopes: list[str] | None = None
    jwks: dict[str, Any] | None = Field(None, description="Public JWK Set (private_key_jwt)")
    id_token_signed_response_alg: str | None = Field(None, description="ES256 or RS256 (default RS256)")
    userinfo_signed_response_alg: str | None = Field(None, description="Set for application/jwt userinfo")
    require_pkce: bool = True
    audiences: list[str] = Field(default_factory=list, description="Extra access-token audiences")


def build(ctx: SandboxContext) -> APIRouter:
    router = APIRouter(prefix="/sandbox/api/workspaces/{ws}/psc/clients", tags=["psc: clients"])
    rt = runtime.get(ctx)

    @router.post("", status_code=201)
    async def create(ws: str, body: ClientIn, request: Request, response: Response) -> dict[str, Any]:
        annotate(request, workspace=ws, service="psc", operation="psc.client.create")
        await ctx.workspaces.require(ws)
        client = await rt.clients.create(build_client(ws, body.model_dump(exclude_none=True)))
        response.headers["Location"] = f"/sandbox/api/workspaces/{ws}/psc/clients/{client.client_id}"
        return client.to_dict()

    @router.get("")
    async def list_clients(ws: str, request: Request) -> dict[str, Any]:
        annotate(request, workspace=ws, service="psc")
        await ctx.workspaces.require(ws)
        return {"clients": [c.to_dict() for c in await rt.clients.list(ws)]}

    @router.get("/{client_id}")
    async def get_client(ws: str, client_id: str, request: Request) -> dict[str, Any]:
        annotate(request, workspace=ws, service="psc")
        return (await rt.clients.require(ws, client_id)).to_dict()

    @router.delete("/{client_id}", status_code=204)
    async def delete_client(ws: str, client_id: str, request: Request) -> Response:
        annotate(request, workspace=ws, service="psc", operation="psc.client.delete")
        await rt.clients.delete(ws, client_id)
        return Response(status_code=204)

    return router
