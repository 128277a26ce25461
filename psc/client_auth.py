"""Client authentication at the token and introspection endpoints, one registered function per
method (RFC 6749 §2.3.1 ``client_secret_basic``/``client_secret_post``; RFC 7523 §2.2 and OIDC Core
§9 ``private_key_jwt``). A request using several methods is refused (RFC 6749 §2.3). Like PSC's
Keycloak, a client holding a secret may send it by either secret method.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote_plus

import orjson
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from psc.clients import Client
from psc.errors import InvalidClient, InvalidRequest
from psc.runtime import Psc
from psc.store import first_use_of_assertion

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SECRET_METHODS = ("client_secret_basic", "client_secret_post")
ASSERTION_ALGS = ("RS256", "ES256", "PS256", "ES384", "RS384", "ES512", "RS512")


@dataclass(frozen=True)
class Presented:
    """What the request carried: the method it used and the client it names."""

    method: str
    client_id: str
    secret: str | None = None
    assertion: str | None = None


Authenticator = Callable[[Psc, Client, Presented, tuple[str, ...]], Awaitable[None]]
AUTHENTICATORS: dict[str, Authenticator] = {}


def authenticator(method: str) -> Callable[[Authenticator], Authenticator]:
    def register(fn: Authenticator) -> Authenticator:
        AUTHENTICATORS[method] = fn
        return fn
    return register


def _secret_ok(client: Client, secret: str | None) -> bool:
    return bool(client.client_secret and secret is not None
                and hmac.compare_digest(client.client_secret.encode(), secret.encode()))


@authenticator("client_secret_basic")
async def _basic(rt: Psc, client: Client, p: Presented, audiences: tuple[str, ...]) -> None:
    if not _secret_ok(client, p.secret):
        raise InvalidClient("client authentication failed (wrong client secret)")


@authenticator("client_secret_post")
async def _post(rt: Psc, client: Client, p: Presented, audiences: tuple[str, ...]) -> None:
    if not _secret_ok(client, p.secret):
        raise InvalidClient("client authentication failed (wrong client secret)")




@authenticator("private_key_jwt")
async def _private_key_jwt(rt: Psc, client: Client, p: Presented, audiences: tuple[str, ...]) -> None:
    token = p.assertion or ""
    try:
        header = orjson.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
        keyset = KeySet.import_key_set(client.jwks or {"keys": []})
    except (ValueError, binascii.Error, orjson.JSONDecodeError, JoseError, IndexError):
        raise InvalidClient("client_assertion is not a compact JWS") from None
    alg = header.get("alg") if isinstance(header, dict) else None
    if alg not in ASSERTION_ALGS:
        raise InvalidClient(f"client_assertion alg {alg!r} not accepted")
    try:
        obj = jws.deserialize_compact(token, keyset, algorithms=[alg])
        claims = orjson.loads(obj.payload)
    except (JoseError, ValueError, orjson.JSONDecodeError):
        raise InvalidClient("client_assertion signature does not verify with the registered jwks") from None
    now = time.time()
    leeway = rt.config.leeway
    if not isinstance(claims, dict) or claims.get("iss") != client.client_id or claims.get("sub") != client.client_id:
        raise InvalidClient("client_assertion iss and sub must be the client_id")
    aud = claims.get("aud")
    auds = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if not any(a in audiences for a in auds):
        raise InvalidClient(f"client_assertion aud must name {audiences[0]}")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp + leeway < now:
        raise InvalidClient("client_assertion expired or without exp")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise InvalidClient("client_assertion jti missing")
    until = datetime.fromtimestamp(exp + leeway, UTC)
    if not await first_use_of_assertion(rt.ctx.db, client.workspace, client.client_id, jti[:512], until):
        raise InvalidClient("client_assertion jti already used")


def _basic_credentials(authorization: str) -> tuple[str, str]:
    try:
        raw = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        client_id, secret = raw.split(":", 1)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidClient("malformed HTTP Basic credentials") from None
    # RFC 6749 §2.3.1: both parts are form-urlencoded before being joined
    return unquote_plus(client_id), unquote_plus(secret)


def presented(form: Mapping[str, str], authorization: str | None) -> Presented:
    """Which method the request used (at most one)."""
    methods = []
    if authorization and authorization[:6].lower() == "basic ":
        cid, secret = _basic_credentials(authorization)
        methods.append(Presented("client_secret_basic", cid, secret=secret))
    if "client_secret" in form:
        methods.append(Presented("client_secret_post", form.get("client_id", ""), secret=form["client_secret"]))
    if "client_assertion" in form or "client_assertion_type" in form:
        if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
            raise InvalidRequest(f"client_assertion_type must be {ASSERTION_TYPE} with a client_assertion")
        assertion = form["client_assertion"]
        try:
            payload = orjson.loads(base64.urlsafe_b64decode(assertion.split(".")[1] + "=="))
            sub = payload.get("sub") if isinstance(payload, dict) else None
        except (ValueError, binascii.Error, orjson.JSONDecodeError, IndexError):
            raise InvalidClient("client_assertion is not a compact JWS") from None
        methods.append(Presented("private_key_jwt", form.get("client_id") or str(sub or ""), assertion=assertion))
    if len(methods) > 1:
        raise InvalidRequest("use exactly one client authentication method (RFC 6749 §2.3)")
    if not methods:
        raise InvalidClient("client authentication required")
    p = methods[0]
    if form.get("client_id") and form["client_id"] != p.client_id:
        raise InvalidClient("client_id does not match the authenticated client")
    return p


async def authenticate_client(rt: Psc, form: Mapping[str, str], authorization: str | None,
                              audiences: tuple[str, ...], *, realm: str | None = None) -> Client:
    """The authenticated client, or :class:`InvalidClient`.

    ``audiences``: values a ``private_key_jwt`` assertion may carry in ``aud`` (endpoint URLs, issuer
    of the default path; the same under the client's workspace issuer are accepted too).
    ``realm``: the workspace whose issuer path was called: a client of another workspace is unknown
    there (a workspace is a security boundary).
    """
    p = presented(form, authorization)
    if not p.client_id:
        raise InvalidClient("client_id missing")
    client = await rt.clients.get(p.client_id)
    if client is None or (realm is not None and client.workspace != realm):
        raise InvalidClient(f"unknown client {p.client_id[:128]!r}")
    audiences = audiences + tuple(a.replace(rt.issuer, rt.issuer_for(client.workspace), 1) for a in audiences)
    # PSC's Keycloak "client id and secret" authenticator takes the secret from either place, so a
    # secret client may use basic or post whatever it registered; private_key_jwt stays strict.
    same_family = {client.token_endpoint_auth_method, p.method} <= set(SECRET_METHODS)
    if client.token_endpoint_auth_method != p.method and not same_family:
        raise InvalidClient(f"client is registered for {client.token_endpoint_auth_method}, "
                            f"not {p.method}")
    await AUTHENTICATORS[p.method](rt, client, p, audiences)
    return client
