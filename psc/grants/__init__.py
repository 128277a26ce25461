"""Token-endpoint grants, registered by ``grant_type`` (STYLE §9: a new grant is a new module plus
one entry here)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from psc.grants import authorization_code, client_credentials, refresh_token

Handler = Callable[..., Awaitable[dict[str, Any]]]

GRANTS: Mapping[str, Handler] = {
    m.GRANT_TYPE: m.handle for m in (authorization_code, refresh_token, client_credentials)
}
