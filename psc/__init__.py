"""Pro Santé Connect in the sandbox: an OpenID Connect provider like PSC (FACTS §4).

Public API — other packages import only these names (``from psc import …``):

- Verifying an access token presented to another service (DMP, MSSanté, the runner):
  :func:`verify_access_token` (``await verify_access_token(ctx, bearer, audience="urn:dmp")``) →
  :class:`VerifiedToken` (``workspace``, ``client_id``, ``scopes``, ``professional``, ``claims``), or
  :class:`TokenError` with a stable :class:`TokenErrorReason`.
- FastAPI: :func:`require_bearer` (dependency), :func:`verify_bearer`, :class:`BearerAuthError`.
- Where PSC lives in the sandbox (psc/README.md "Wallet and discovery"): :data:`REALM`,
  :data:`WALLET_PATH` (authorization, PSC's ``wallet.*`` host), :func:`realm_path` (a workspace's
  issuer path), :data:`WALLET_DOCUMENT` / :data:`STANDARD_DOCUMENT` (discovery names as recorded in
  evidence ``summary.document``).
"""

from psc.claims import REALM
from psc.discovery import STANDARD_DOCUMENT, WALLET_DOCUMENT
from psc.http_deps import BearerAuthError, require_bearer, verify_bearer
from psc.runtime import WALLET_PATH, realm_path
from psc.verify import TokenError, TokenErrorReason, VerifiedToken, verify_access_token

__all__ = [
    "REALM", "STANDARD_DOCUMENT", "WALLET_DOCUMENT", "WALLET_PATH", "BearerAuthError", "TokenError",
    "TokenErrorReason", "VerifiedToken", "realm_path", "require_bearer", "verify_access_token", "verify_bearer",
]
