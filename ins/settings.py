"""Settings of the ``ins`` service, read once from ``MES_SANDBOX_INS_*`` (STYLE §12).

Built in the service's router factory and kept in ``ctx.state["ins"]``; nothing reads the
environment at import time. The platform settings (``sandbox/settings.py``) stay untouched.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ins.nir import OID_INS_NIR


class InsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MES_SANDBOX_INS_", extra="ignore")

    oid: str = Field(
        OID_INS_NIR,
        pattern=r"^[0-2](\.(0|[1-9]\d*))+$",
        description="OID returned with NIR matricules (INSACTIF/INSHISTO OID). CNAM's qualification "
        "platform answers 1.2.250.1.213.1.4.8 for its test identities; "
        "1.2.250.1.213.1.4.10 is the INS-NIR TEST OID.",
    )
    plain_http_loopback_only: bool = Field(
        True,
        description="On plain HTTP, accept INSi calls from loopback clients only (the real INSi is "
        "mutual TLS only); other clients use the HTTPS listener with an organisation certificate. "
        "False accepts plain-HTTP INSi from any address. Either way a plain-HTTP call needs a key "
        "(Authorization: Bearer, docs/security.md); this switch is about realism, not access.",
    )
    max_fault_delay_ms: int = Field(120_000, ge=0, description="Upper bound of the `timeout` fault.")
