"""Access-token verification for the other services (DMP, MSSanté) and PSC's own userinfo and
introspection (RFC 6750 §3.1, RFC 8725 "JWT BCP" §3.1–3.3, RFC 9068 §4).

    from psc.verify import TokenError, verify_access_token

    try:
        tok = await verify_access_token(ctx, bearer, audience=None)
    except TokenError as exc:
        ...  # exc.reason (TokenErrorReason), exc.description
    tok.workspace, tok.client_id, tok.scopes, tok.professional  # persona dict or None

Checks, in order: compact JWS shape; ``alg`` in the allow-list (ES256, RS256 — never ``none`` nor
HMAC, so a public key can't be used as an HMAC secret) and equal to the key's own alg; ``kid``
published; signature; ``iss``; ``typ`` ``Bearer`` (an ID token is refused); ``exp``/``nbf``/``iat``
with the configured leeway; ``aud`` holding ``azp`` (and the audience asked for, if any);
the client still registered in the token's workspace; session not revoked
(logout, reused code, replayed refresh token); the ``token_expired_early`` fault.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import orjson
from joserfc import jws
from joserfc.errors import JoseError

from psc import runtime
from psc.claims import idnps_of
from sandbox.faults import Fault

if TYPE_CHECKING:
    from sandbox.context import SandboxContext

ALLOWED_ALGS = ("ES256", "RS256")
MAX_TOKEN_BYTES = 16 * 1024


class TokenErrorReason(StrEnum):
    MALFORMED = "malformed"
    ALG_NOT_ALLOWED = "alg_not_allowed"
    UNKNOWN_KID = "unknown_kid"
    BAD_SIGNATURE = "bad_signature"
    WRONG_ISSUER = "wrong_issuer"
    WRONG_TYPE = "wrong_type"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    WRONG_AUDIENCE = "wrong_audience"
    REVOKED = "revoked"


class TokenError(Exception):
    """The token is not acceptable; ``reason`` is stable, ``description`` is for humans."""

    def __init__(self, reason: TokenErrorReason, description: str) -> None:
        super().__init__(f"{reason}: {description}")
        self.reason = reason
        self.description = description
        #: the workspace of a token whose signature verified (ours, but expired, revoked...): the
        #: refusal is that workspace's evidence; None when the token proved nothing
        self.workspace: str | None = None


@dataclass(frozen=True)
class VerifiedToken:
    claims: dict[str, Any]
    workspace: str
    client_id: str
    scopes: tuple[str, ...]
    subject: str
    #: the professional persona (``/sandbox/api/personas`` shape); None for client_credentials tokens
    professional: dict[str, Any] | None = None
    sid: str | None = None
    auth_mode: str | None = None
    expires_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def _b64json(segment: str) -> Any:
    pad = "=" * (-len(segment) % 4)
    return orjson.loads(base64.urlsafe_b64decode(segment + pad))


async def verify_signature(rt: runtime.Psc, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a JWS this provider signed; raises :class:`TokenError`.

    A token this process verified before skips the signature check (the same bytes verify the
    same way) as long as its key is still published; every other check is made on each call."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_BYTES:
        raise TokenError(TokenErrorReason.MALFORMED, "empty or oversized token")
    hit = rt.verified.get(token)
    if hit is not None and await rt.keys.find(hit[0]["kid"]) is not None:
        return hit[0], dict(hit[1])
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError(TokenErrorReason.MALFORMED, "not a compact JWS (three base64url parts)")
    try:
        header = _b64json(parts[0])
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raise TokenError(TokenErrorReason.MALFORMED, "the JOSE header is not base64url JSON") from None
    if not isinstance(header, dict):
        raise TokenError(TokenErrorReason.MALFORMED, "the JOSE header is not a JSON object")
    alg = header.get("alg")
    if alg not in ALLOWED_ALGS:
        raise TokenError(TokenErrorReason.ALG_NOT_ALLOWED, f"alg {alg!r} not accepted (ES256, RS256 only)")
    if "crit" in header or "jku" in header or "jwk" in header or "x5u" in header:
        raise TokenError(TokenErrorReason.MALFORMED, "unsupported JOSE header parameter")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenError(TokenErrorReason.UNKNOWN_KID, "no kid in the JOSE header")
    key = await rt.keys.find(kid)
    if key is None:
        raise TokenError(TokenErrorReason.UNKNOWN_KID, f"kid {kid!r} is not published in the JWKS")
    if key.alg != alg:
        raise TokenError(TokenErrorReason.ALG_NOT_ALLOWED, f"key {kid!r} is {key.alg}, token says {alg}")
    try:
        obj = jws.deserialize_compact(token, key.key, algorithms=[alg])
    except (JoseError, ValueError):
        raise TokenError(TokenErrorReason.BAD_SIGNATURE, "signature verification failed") from None
    try:
        claims = orjson.loads(obj.payload)
    except orjson.JSONDecodeError:
        raise TokenError(TokenErrorReason.MALFORMED, "the payload is not JSON") from None
    if not isinstance(claims, dict):
        raise TokenError(TokenErrorReason.MALFORMED, "the payload is not a JSON object")
    if not rt.is_issuer(claims.get("iss")):
        raise TokenError(TokenErrorReason.WRONG_ISSUER, f"iss {claims.get('iss')!r} is not this provider's")
    if len(rt.verified) >= runtime.VERIFIED_CACHE_SIZE:
        rt.verified.clear()
    rt.verified[token] = (header, dict(claims))
    return header, claims


def check_times(claims: dict[str, Any], leeway: int, now: float, *, verify_exp: bool = True) -> None:
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise TokenError(TokenErrorReason.MALFORMED, "exp missing or not a number")
    if verify_exp and now > exp + leeway:
        raise TokenError(TokenErrorReason.EXPIRED, f"token expired at {int(exp)}")
    for name in ("nbf", "iat"):
        value = claims.get(name)
        if value is not None and (not isinstance(value, int | float) or now + leeway < value):
            raise TokenError(TokenErrorReason.NOT_YET_VALID, f"{name} is in the future")


def _audiences(claims: dict[str, Any]) -> list[str]:
    aud = claims.get("aud")
    return [aud] if isinstance(aud, str) else [a for a in aud if isinstance(a, str)] if isinstance(aud, list) else []


async def verify(rt: runtime.Psc, token: str, *, audience: str | None = None,
                 operation: str = "verify") -> VerifiedToken:
    """:func:`verify_access_token` on a runtime; ``operation`` names the fault-injection point."""
    verified, _ = await verify_with_faults(rt, token, audience=audience, operation=operation)
    return verified


async def verify_with_faults(rt: runtime.Psc, token: str, *, audience: str | None = None,
                             operation: str = "verify",
                             fault_kinds: tuple[str, ...] = ()) -> tuple[VerifiedToken, Fault | None]:
    """:func:`verify`, also taking a scripted fault of ``fault_kinds`` for the caller to act on —
    (free when nothing is scripted: the registry remembers which services have live faults)."""
    _, claims = await verify_signature(rt, token)
    try:
        return await _verify_claims(rt, claims, audience, operation, fault_kinds)
    except TokenError as exc:
        proven = claims.get("workspace")
        exc.workspace = proven if isinstance(proven, str) else None
        raise


async def _verify_claims(rt: runtime.Psc, claims: dict[str, Any], audience: str | None, operation: str,
                         fault_kinds: tuple[str, ...]) -> tuple[VerifiedToken, Fault | None]:
    if claims.get("typ") != "Bearer":
        raise TokenError(TokenErrorReason.WRONG_TYPE, f"typ {claims.get('typ')!r} is not an access token")
    now = datetime.now(UTC)
    check_times(claims, rt.config.leeway, now.timestamp())
    workspace, client_id = claims.get("workspace"), claims.get("azp")
    if not isinstance(workspace, str) or not isinstance(client_id, str) or not isinstance(claims.get("sub"), str):
        raise TokenError(TokenErrorReason.MALFORMED, "workspace, azp or sub missing")
    if claims.get("iss") != rt.issuer_for(workspace):
        raise TokenError(TokenErrorReason.WRONG_ISSUER, f"iss {claims.get('iss')!r} is not the issuer of "
                                                        f"workspace {workspace!r}")
    audiences = _audiences(claims)
    if client_id not in audiences:
        raise TokenError(TokenErrorReason.WRONG_AUDIENCE, f"aud does not include the azp {client_id!r}")
    if audience is not None and audience not in audiences:
        raise TokenError(TokenErrorReason.WRONG_AUDIENCE, f"token is not meant for {audience!r}")
    client = await rt.clients.get(client_id)
    if client is None or client.workspace != workspace:
        raise TokenError(TokenErrorReason.REVOKED, f"client {client_id!r} no longer exists in {workspace!r}")
    sid = claims.get("sid")
    kinds = ("token_expired_early", *fault_kinds)
    session = await rt.session_state(str(sid)) if sid is not None else None
    fault = await rt.ctx.faults.take(workspace, "psc", operation, kinds=kinds)
    if fault is not None and fault.kind == "token_expired_early":
        raise TokenError(TokenErrorReason.EXPIRED, "token expired (fault token_expired_early injected)")
    if sid is not None and (session is None or session.revoked):
        why = session.revoked_reason if session else "session ended"
        raise TokenError(TokenErrorReason.REVOKED, f"token revoked ({why})")
    idnps = idnps_of(claims["sub"])
    professional = await rt.professional(workspace, idnps) if idnps else None
    scope = claims.get("scope")
    verified = VerifiedToken(
        claims=claims, workspace=workspace, client_id=client_id,
        scopes=tuple(scope.split()) if isinstance(scope, str) else (), subject=claims["sub"],
        professional=professional, sid=str(sid) if sid else None,
        auth_mode=session.auth_mode if session else None,
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
    )
    return verified, fault


async def verify_access_token(ctx: SandboxContext, token: str, *,
                              audience: str | None = None) -> VerifiedToken:
    """Verify a PSC access token presented to another service; raises :class:`TokenError`."""
    return await verify(runtime.get(ctx), token, audience=audience)
