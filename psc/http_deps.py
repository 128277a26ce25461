"""FastAPI side of :mod:`psc.verify` for resource servers (DMP, MSSanté APIs) — RFC 6750 §2.1, §3.

    from psc.http_deps import BearerAuthError, require_bearer

    @router.get("/dmp/fhir/DocumentReference")
    async def search(token: VerifiedToken = Depends(require_bearer(audience=None, scopes=("openid",)))):
        token.workspace, token.professional ...

On failure the dependency raises :class:`BearerAuthError`, a Starlette ``HTTPException`` (401
``invalid_token`` / 400 ``invalid_request`` / 403 ``insufficient_scope``) carrying
``WWW-Authenticate: Bearer error="..."`` plus ``.error``, ``.reason`` (a
:class:`psc.verify.TokenErrorReason` or None) and ``.description``. The app's generic handler
renders it in the style of the path's prefix — an ``OperationOutcome`` (code ``login``) under a FHIR
base — and keeps the header; a service wanting its own mapping can call :func:`verify_bearer`
and translate the exception itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from starlette.exceptions import HTTPException

from psc import runtime
from psc.errors import REALM
from psc.verify import TokenError, TokenErrorReason, VerifiedToken, verify
from sandbox.http_evidence import annotate


class BearerAuthError(HTTPException):
    def __init__(self, status: int, error: str, description: str,
                 reason: TokenErrorReason | None = None) -> None:
        desc = description.replace('"', "'")
        super().__init__(status, f"{error}: {description}", headers={
            "WWW-Authenticate": f'Bearer realm="{REALM}", error="{error}", error_description="{desc}"'})
        self.error = error
        self.reason = reason
        self.description = description


async def verify_bearer(request: Request, *, audience: str | None = None,
                        scopes: tuple[str, ...] = ()) -> VerifiedToken:
    """Verify the request's ``Authorization: Bearer`` token; raises :class:`BearerAuthError`."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if not header:
        raise BearerAuthError(401, "invalid_token", "a PSC access token is required (Authorization: Bearer)")
    if scheme.lower() != "bearer" or not value.strip():
        raise BearerAuthError(400, "invalid_request", "Authorization header must be 'Bearer <token>'")
    try:
        token = await verify(runtime.get(request.app.state.ctx), value.strip(), audience=audience)
    except TokenError as exc:
        raise BearerAuthError(401, "invalid_token", exc.description, exc.reason) from None
    missing = [s for s in scopes if s not in token.scopes]
    if missing:
        raise BearerAuthError(403, "insufficient_scope", f"scope {' '.join(missing)} required")
    who = (token.professional or {}).get("id", token.subject)
    annotate(request, workspace=token.workspace, actor=f"{token.client_id} / {who}")
    return token


def require_bearer(audience: str | None = None,
                   scopes: tuple[str, ...] = ()) -> Callable[[Request], Awaitable[VerifiedToken]]:
    """A dependency returning the :class:`VerifiedToken` of the request."""

    async def dependency(request: Request) -> VerifiedToken:
        return await verify_bearer(request, audience=audience, scopes=scopes)

    return dependency
