"""``client_credentials`` grant for machine clients (RFC 6749 §4.4): an access token only, no
refresh token (§4.4.3), no ID token; ``sub`` names the client's service account."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from psc.clients import Client
from psc.errors import InvalidScope
from psc.runtime import Psc
from psc.scopes import parse_scope
from psc.tokens import token_set

GRANT_TYPE = "client_credentials"


async def handle(rt: Psc, client: Client, form: Mapping[str, str], now: datetime) -> dict[str, Any]:
    requested = parse_scope(form.get("scope"))
    unknown = [s for s in requested if s not in client.scopes or s == "openid"]
    if unknown:
        raise InvalidScope(f"scope not allowed for client_credentials: {' '.join(unknown)}")
    return await token_set(rt, client, sub=f"service-account-{client.client_id}",
                           scope=" ".join(requested), now=now, session=None)
