"""PSC options (FACTS §4 "short token lifetimes"), read from ``MES_SANDBOX_PSC_*`` variables.

The platform :class:`sandbox.settings.Settings` holds what every service shares; these knobs are
PSC's own. One :class:`PscConfig` is built when the service starts (``psc.service``) and kept in
``ctx.state["psc"]``; nothing reads the environment at import time.

| variable | default | meaning |
|---|---|---|
| ``MES_SANDBOX_PSC_ACCESS_TOKEN_TTL`` | 120 | access token lifetime, seconds (PSC BAS: ~120 s) |
| ``MES_SANDBOX_PSC_ID_TOKEN_TTL`` | 300 | ID token lifetime, seconds |
| ``MES_SANDBOX_PSC_REFRESH_TOKEN_TTL`` | 1800 | refresh token lifetime, seconds |
| ``MES_SANDBOX_PSC_CODE_TTL`` | 60 | authorization code lifetime, seconds |
| ``MES_SANDBOX_PSC_DEFAULT_ALG`` | RS256 | signing alg of clients that registered none (OIDC Registration §2 default) |
| ``MES_SANDBOX_PSC_LEEWAY`` | 30 | clock leeway of token verification, seconds |
| ``MES_SANDBOX_PSC_CLIENT_CACHE_TTL`` | 2 | seconds a node caches a client read from the database |
| ``MES_SANDBOX_PSC_STANDARD_DISCOVERY`` | false | **leniency** for early development (below) |

``MES_SANDBOX_PSC_STANDARD_DISCOVERY``: also serve the standard ``.well-known/openid-configuration`` and
authorization under the issuer (``…/protocol/openid-connect/auth``); real PSC publishes
``wallet-openid-configuration`` and authorizes on its wallet host (FACTS §4, §8.7).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PscConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MES_SANDBOX_PSC_", extra="ignore")

    access_token_ttl: int = Field(120, ge=1, le=86400)
    id_token_ttl: int = Field(300, ge=1, le=86400)
    refresh_token_ttl: int = Field(1800, ge=1, le=30 * 86400)
    code_ttl: int = Field(60, ge=1, le=3600)
    default_alg: Literal["ES256", "RS256"] = "RS256"
    leeway: int = Field(30, ge=0, le=600)
    client_cache_ttl: float = Field(2.0, ge=0, le=300)
    standard_discovery: bool = False
