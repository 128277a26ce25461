"""OAuth 2.0 / OpenID Connect errors of the PSC provider, each knowing its wire form.

- Token, introspection and client-registration-style errors: RFC 6749 §5.2 JSON object
  (``error``, ``error_description``), 400, or 401 with ``WWW-Authenticate`` for a failed client
  authentication.
- Authorization endpoint errors: RFC 6749 §4.1.2.1 — redirected to the client with ``error``,
  ``error_description``, ``state`` (and ``iss``, RFC 9207) once the ``redirect_uri`` is trusted;
  before that (unknown client, unregistered ``redirect_uri``) an error page, never a redirect.
- Protected resources (userinfo): RFC 6750 §3, ``WWW-Authenticate: Bearer error="invalid_token"``.

No web framework here (STYLE §10): the routers turn :meth:`OAuthError.to_wire` into a response.
"""

from __future__ import annotations

from typing import Any

import orjson

from sandbox.errors import Wire

REALM = "esante-wallet"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(Exception):
    """An RFC 6749 error. Subclasses fix ``error`` and the default HTTP status."""

    error = "invalid_request"
    status = 400

    def __init__(self, description: str, *, status: int | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.description = description
        if status is not None:
            self.status = status
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "error_description": self.description}

    def to_wire(self) -> Wire:
        return Wire(self.status, orjson.dumps(self.body()), "application/json",
                    {**NO_STORE, **self.headers})


class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidClient(OAuthError):
    """Client authentication failed (RFC 6749 §5.2): 401 with a ``WWW-Authenticate`` challenge."""

    error = "invalid_client"
    status = 401

    def __init__(self, description: str) -> None:
        super().__init__(description, headers={"WWW-Authenticate": f'Basic realm="{REALM}"'})


class InvalidGrant(OAuthError):
    error = "invalid_grant"


class UnauthorizedClient(OAuthError):
    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class InvalidScope(OAuthError):
    error = "invalid_scope"


class AccessDenied(OAuthError):
    error = "access_denied"
    status = 403


class UnsupportedResponseType(OAuthError):
    error = "unsupported_response_type"


class LoginRequired(OAuthError):
    error = "login_required"


class RequestNotSupported(OAuthError):
    error = "request_not_supported"


class RequestUriNotSupported(OAuthError):
    error = "request_uri_not_supported"


class ServerError(OAuthError):
    error = "server_error"
    status = 500


class BearerError(OAuthError):
    """RFC 6750 §3 errors of a protected resource (userinfo)."""

    error = "invalid_token"
    status = 401

    def __init__(self, description: str, *, error: str = "invalid_token", status: int = 401) -> None:
        super().__init__(description, status=status)
        self.error = error
        desc = description.replace('"', "'")
        self.headers["WWW-Authenticate"] = (
            f'Bearer realm="{REALM}", error="{error}", error_description="{desc}"')


class AuthorizeError(Exception):
    """An authorization-endpoint error.

    ``redirect_uri`` is set only once the client and its redirect URI are trusted; without it the
    error is shown to the user instead of being redirected (RFC 6749 §4.1.2.1).
    """

    def __init__(self, error: OAuthError, *, redirect_uri: str | None = None,
                 state: str | None = None) -> None:
        super().__init__(error.description)
        self.error = error
        self.redirect_uri = redirect_uri
        self.state = state


def oauth_renderer(status: int, detail: str) -> tuple[dict[str, Any], str]:
    """Generic framework errors under ``/psc`` (unknown route, 413, 405...) as RFC 6749 objects."""
    code = "server_error" if status >= 500 else "invalid_request"
    return {"error": code, "error_description": detail}, "application/json"
