"""Scopes, grants, ACR and authentication means PSC knows (FACTS §4).

Scopes seen at PSC: ``openid``, ``scope_all``, ``profile``, ``email``, ``identity`` [V]. Which
userinfo claims each scope releases is not published [U]; the mapping below is documented in
psc/README.md: ``scope_all`` releases every PSC claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

SCOPES = ("openid", "scope_all", "profile", "email", "identity")
ACR_VALUES = ("eidas1",)  # the ANS connector only knows eidas1 and refuses others (FACTS §4)
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")


class AuthMode(StrEnum):
    """How the professional authenticated (userinfo ``authMode``; FACTS §4: ``CARD`` [V],
    the e-CPS value is not published [U] — ``MOBILE`` here)."""

    CARD = "CARD"
    MOBILE = "MOBILE"


@dataclass(frozen=True)
class AuthMeans:
    mode: AuthMode
    label_fr: str
    amr: tuple[str, ...]  # RFC 8176 values


AUTH_MEANS: dict[AuthMode, AuthMeans] = {
    AuthMode.CARD: AuthMeans(AuthMode.CARD, "Carte CPS (lecteur de carte et code PIN)", ("sc", "pin")),
    AuthMode.MOBILE: AuthMeans(AuthMode.MOBILE, "e-CPS (application mobile)", ("swk", "pin", "mfa")),
}


def parse_scope(value: str | None) -> list[str]:
    """Space-delimited scope (RFC 6749 §3.3), duplicates removed, order kept."""
    out: list[str] = []
    for s in (value or "").split(" "):
        if s and s not in out:
            out.append(s)
    return out
