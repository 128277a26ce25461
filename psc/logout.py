"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2–3; FACTS appendix A.6): the
session named by ``id_token_hint`` is ended, so its access and refresh tokens are refused from
then on; the user is sent back to a registered ``post_logout_redirect_uri`` with ``state``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from psc.authorize import redirect_with
from psc.errors import InvalidRequest
from psc.runtime import Psc
from psc.store import revoke_session
from psc.verify import TokenError, verify_signature


@dataclass
class LogoutResult:
    workspace: str | None
    client_id: str | None
    sid: str | None
    redirect: str | None  # where to send the browser; None = show the "déconnecté" page


async def logout(rt: Psc, params: dict[str, str]) -> LogoutResult:
    hint = params.get("id_token_hint")
    post = params.get("post_logout_redirect_uri")
    client_id = params.get("client_id")
    sid = workspace = None
    if hint:
        try:
            _, claims = await verify_signature(rt, hint)  # an expired ID token is still a valid hint
        except TokenError as exc:
            raise InvalidRequest(f"id_token_hint rejected: {exc.description}") from None
        if claims.get("typ") != "ID":
            raise InvalidRequest("id_token_hint must be an ID token issued by this provider")
        aud = claims.get("aud")
        if client_id and client_id != aud:
            raise InvalidRequest("client_id does not match the id_token_hint audience")
        client_id = aud if isinstance(aud, str) else client_id
        sid = claims.get("sid") if isinstance(claims.get("sid"), str) else None
    if post and not client_id:
        raise InvalidRequest("post_logout_redirect_uri needs id_token_hint or client_id")
    client = await rt.clients.get(client_id) if client_id else None
    if client_id and client is None:
        raise InvalidRequest(f"unknown client {client_id[:128]!r}")
    if post and not client.logout_uri_registered(post, rt.ctx.settings.base_url):  # type: ignore[union-attr]
        raise InvalidRequest("post_logout_redirect_uri is not registered for this client")
    if sid:
        now = datetime.now(UTC)
        await rt.ctx.db.run(lambda c: revoke_session(c, sid, "logout", now))  # every node sees it (watched)
    workspace = client.workspace if client else None
    redirect = redirect_with(post, {"state": params.get("state")}) if post else None
    return LogoutResult(workspace, client_id, sid, redirect)
