"""Registered clients (relying parties and resource servers), per workspace.

Metadata names follow OIDC Dynamic Client Registration §2 / RFC 7591 §2 (``redirect_uris``,
``token_endpoint_auth_method``, ``grant_types``, ``id_token_signed_response_alg``,
``userinfo_signed_response_alg``, ``jwks``). Client ids are unique across the sandbox: the client
tells which workspace a request belongs to (DESIGN "Workspaces"). Secrets stay readable — this is
a test tool, not a production OP.

A redirect URI starting with ``/`` is relative to the sandbox's public base URL (the seeded demo
client uses ``/psc/demo/callback``), so it survives a change of port.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import delete, select

from psc.keys import SUPPORTED_ALGS
from psc.models import PscClientRow
from psc.scopes import GRANT_TYPES, SCOPES
from sandbox.changes import FreshCache, watch
from sandbox.db import Database, as_utc
from sandbox.errors import ProblemError

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9._~:@-]{1,128}$")
DEMO_CALLBACK = "/psc/demo/callback"
#: clients are cached per process: every change is recorded for all of them (sandbox.changes)
CLIENTS = watch(PscClientRow.__table__)


@dataclass(frozen=True)
class Client:
    client_id: str
    workspace: str
    client_name: str = ""
    client_secret: str | None = None
    redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    token_endpoint_auth_method: str = "client_secret_basic"
    grant_types: tuple[str, ...] = ("authorization_code", "refresh_token")
    scopes: tuple[str, ...] = SCOPES
    jwks: dict[str, Any] | None = None
    id_token_signed_response_alg: str | None = None
    userinfo_signed_response_alg: str | None = None
    require_pkce: bool = True
    audiences: tuple[str, ...] = ()
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def resolve_uri(self, uri: str, base_url: str) -> str:
        return base_url + uri if uri.startswith("/") else uri

    def redirect_uri_registered(self, uri: str, base_url: str) -> bool:
        """Exact string match (OIDC Core §3.1.2.1; RFC 9700 §4.1.3)."""
        return any(self.resolve_uri(r, base_url) == uri for r in self.redirect_uris)

    def logout_uri_registered(self, uri: str, base_url: str) -> bool:
        return any(self.resolve_uri(r, base_url) == uri for r in self.post_logout_redirect_uris)

    def signing_alg(self, default: str) -> str:
        return self.id_token_signed_response_alg or default

    def to_dict(self, *, with_secret: bool = True) -> dict[str, Any]:
        d = asdict(self)
        for k in ("redirect_uris", "post_logout_redirect_uris", "grant_types", "scopes", "audiences"):
            d[k] = list(d[k])
        d["created_at"] = self.created_at.isoformat()
        if not with_secret:
            d.pop("client_secret")
        return d


def _invalid(detail: str, **ext: Any) -> ProblemError:
    return ProblemError(422, "invalid-client-metadata", detail, **ext)


def _check_uri(uri: str, what: str) -> None:
    if uri.startswith("/"):
        return
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment or "#" in uri:
        raise _invalid(f"{what} {uri!r} must be an absolute http(s) URI without fragment "
                       "(or a path starting with '/' relative to the sandbox)")


def build_client(workspace: str, meta: dict[str, Any]) -> Client:
    """Validate registration metadata and build a :class:`Client` (secret generated if needed)."""
    client_id = meta.get("client_id") or f"client-{secrets.token_hex(6)}"
    if not CLIENT_ID_RE.match(client_id):
        raise _invalid("client_id: 1–128 characters among A-Z a-z 0-9 . _ ~ : @ -")
    method = meta.get("token_endpoint_auth_method") or "client_secret_basic"
    if method not in AUTH_METHODS:
        raise _invalid(f"unsupported token_endpoint_auth_method {method!r}", supported=list(AUTH_METHODS))
    grants = tuple(meta.get("grant_types") or ("authorization_code", "refresh_token"))
    bad = [g for g in grants if g not in GRANT_TYPES]
    if bad:
        raise _invalid(f"unsupported grant_types {bad}", supported=list(GRANT_TYPES))
    scopes = tuple(meta.get("scopes") or SCOPES)
    bad = [s for s in scopes if s not in SCOPES]
    if bad:
        raise _invalid(f"unknown scopes {bad}", supported=list(SCOPES))
    redirects = tuple(meta.get("redirect_uris") or ())
    if "authorization_code" in grants and not redirects:
        raise _invalid("redirect_uris is required for the authorization_code grant")
    for uri in redirects:
        _check_uri(uri, "redirect_uri")
    logouts = tuple(meta.get("post_logout_redirect_uris") or ())
    for uri in logouts:
        _check_uri(uri, "post_logout_redirect_uri")
    for name in ("id_token_signed_response_alg", "userinfo_signed_response_alg"):
        alg = meta.get(name)
        if alg is not None and alg not in SUPPORTED_ALGS:
            raise _invalid(f"{name} must be one of {list(SUPPORTED_ALGS)}")
    jwks = meta.get("jwks")
    if method == "private_key_jwt":
        if not jwks:
            raise _invalid("private_key_jwt needs the client's public keys in 'jwks'")
        try:
            keyset = KeySet.import_key_set(jwks)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise _invalid(f"jwks is not a valid JWK Set: {exc}") from None
        if any(k.is_private for k in keyset.keys):
            raise _invalid("jwks must hold public keys only")
    secret = meta.get("client_secret")
    if method != "private_key_jwt" and not secret:
        secret = secrets.token_urlsafe(32)
    return Client(
        client_id=client_id, workspace=workspace, client_name=meta.get("client_name") or client_id,
        client_secret=secret, redirect_uris=redirects, post_logout_redirect_uris=logouts,
        token_endpoint_auth_method=method, grant_types=grants, scopes=scopes, jwks=jwks,
        id_token_signed_response_alg=meta.get("id_token_signed_response_alg"),
        userinfo_signed_response_alg=meta.get("userinfo_signed_response_alg"),
        require_pkce=bool(meta.get("require_pkce", True)),
        audiences=tuple(meta.get("audiences") or ()),
    )


#: the services the demo client's access tokens are for (the DMP checks ``urn:dmp``, FACTS §3.1)
DEMO_AUDIENCES = ("urn:dmp",)


def demo_client_id(workspace: str, default_workspace: str) -> str:
    return "sandbox-demo" if workspace == default_workspace else f"sandbox-demo-{workspace}"


def demo_client(workspace: str, default_workspace: str) -> Client:
    """The client seeded in every workspace (psc/README.md "Five-minute start")."""
    return build_client(workspace, {
        "client_id": demo_client_id(workspace, default_workspace),
        "client_name": "Démo mes-sandbox",
        # random per workspace (a shared fixed secret let anyone act as any workspace's client)
        "client_secret": secrets.token_urlsafe(32),
        "redirect_uris": [DEMO_CALLBACK, "http://127.0.0.1:8000/callback", "http://localhost:8000/callback"],
        "post_logout_redirect_uris": ["/psc/demo/", "http://127.0.0.1:8000/", "http://localhost:8000/"],
        "grant_types": list(GRANT_TYPES),
        "audiences": list(DEMO_AUDIENCES),
    })


def _row_data(client: Client) -> dict[str, Any]:
    d = client.to_dict()
    for k in ("client_id", "workspace", "created_at"):
        d.pop(k)
    return d


def _domain(row: PscClientRow) -> Client:
    d = dict(row.data)
    for k in ("redirect_uris", "post_logout_redirect_uris", "grant_types", "scopes", "audiences"):
        d[k] = tuple(d.get(k) or ())
    return Client(client_id=row.client_id, workspace=row.workspace, created_at=as_utc(row.created_at), **d)


class ClientRepository:
    """Clients in the database, cached per process until any process or node changes one (the
    table is watched: :mod:`sandbox.changes`), and at most ``cache_ttl`` seconds."""

    def __init__(self, db: Database, cache_ttl: float) -> None:
        self.db = db
        self._cache = FreshCache(cache_ttl, db.changes, tables=[CLIENTS])

    def row(self, client: Client) -> PscClientRow:
        return PscClientRow(client_id=client.client_id, workspace=client.workspace,
                            data=_row_data(client), created_at=client.created_at)

    async def create(self, client: Client) -> Client:
        async with self.db.session() as s:
            existing = await s.get(PscClientRow, client.client_id)
            if existing is not None:
                raise ProblemError(409, "client-exists",
                                   f"a client with client_id {client.client_id!r} already exists",
                                   client_id=client.client_id)
            s.add(self.row(client))
        return client

    async def list(self, workspace: str) -> list[Client]:
        async with self.db.session() as s:
            rows = await s.scalars(select(PscClientRow).where(PscClientRow.workspace == workspace)
                                   .order_by(PscClientRow.created_at, PscClientRow.client_id))
            return [_domain(r) for r in rows]

    async def get(self, client_id: str) -> Client | None:
        return await self._cache.get(client_id, lambda: self._load(client_id))

    async def _load(self, client_id: str) -> Client | None:
        async with self.db.session() as s:
            row = await s.get(PscClientRow, client_id)
            return _domain(row) if row else None

    async def require(self, workspace: str, client_id: str) -> Client:
        client = await self.get(client_id)
        if client is None or client.workspace != workspace:
            raise ProblemError(404, "unknown-client", f"no client {client_id!r} in workspace {workspace!r}",
                               client_id=client_id)
        return client

    async def delete(self, workspace: str, client_id: str) -> None:
        await self.require(workspace, client_id)
        async with self.db.session() as s:
            await s.execute(delete(PscClientRow).where(PscClientRow.client_id == client_id,
                                                       PscClientRow.workspace == workspace))

