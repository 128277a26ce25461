"""Token endpoint (RFC 6749 §3.2, §5): client authentication, grant dispatch through the
:data:`psc.grants.GRANTS` registry, scripted faults (``slow_token``, ``invalid_grant``,
``server_error``, ``jwks_rotated``)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psc.client_auth import authenticate_client
from psc.clients import Client
from psc.errors import InvalidGrant, InvalidRequest, ServerError, UnauthorizedClient, UnsupportedGrantType
from psc.grants import GRANTS
from psc.runtime import Psc

MAX_DELAY_MS = 60_000
TOKEN_FAULTS = ("slow_token", "invalid_grant", "server_error", "jwks_rotated")


@dataclass
class TokenResult:
    client: Client
    grant_type: str
    body: dict[str, Any]


async def _faults(rt: Psc, client: Client) -> None:
    fault = await rt.ctx.faults.take(client.workspace, "psc", "token", kinds=TOKEN_FAULTS)
    if fault is None:
        return
    if fault.kind == "slow_token":
        try:
            delay = min(max(int(fault.params.get("delay_ms", 2000)), 0), MAX_DELAY_MS)
        except (TypeError, ValueError):
            delay = 2000
        await asyncio.sleep(delay / 1000)
    elif fault.kind == "invalid_grant":
        raise InvalidGrant("grant refused (fault invalid_grant injected)")
    elif fault.kind == "server_error":
        raise ServerError("internal error (fault server_error injected)")
    elif fault.kind == "jwks_rotated":
        await rt.keys.rotate((client.signing_alg(rt.config.default_alg),))


async def token(rt: Psc, form: Mapping[str, str], authorization: str | None,
                client: Client | None = None, realm: str | None = None) -> TokenResult:
    """Handle one token request; raises :class:`psc.errors.OAuthError`.

    ``client`` may be given by an in-process caller that already trusts it (the demo page);
    ``realm``: the workspace whose issuer path was called (None: the default path).
    """
    if client is None:
        client = await authenticate_client(rt, form, authorization, (rt.endpoint("token"), rt.issuer), realm=realm)
    grant_type = form.get("grant_type")
    if not grant_type:
        raise InvalidRequest("grant_type is required")
    handler = GRANTS.get(grant_type)
    if handler is None:
        raise UnsupportedGrantType(f"grant_type {grant_type[:100]!r} is not supported")
    if grant_type not in client.grant_types:
        raise UnauthorizedClient(f"client is not allowed to use the {grant_type} grant")
    await _faults(rt, client)
    body = await handler(rt, client, form, datetime.now(UTC))
    return TokenResult(client, grant_type, body)
