"""Patient-persona tokens for the patient's view (Mon Espace Santé), issued by the sandbox.

The real Mon Espace Santé authenticates citizens with its own login; PSC only knows professionals
(FACTS §4). The sandbox therefore issues its own short JWTs for patient personas:

- ``POST /sandbox/api/workspaces/{ws}/dmp/patient-token`` with ``{"patient": "<persona id or INS>"}``
  (or ``{"patient": ..., "represents": "<INS of the minor>"}`` for a legal representative);
- HS256, signed with a random secret kept in table ``dmp_keys`` (shared by every node, never
  exported); ``kid`` starts with ``dmp-`` so :mod:`dmp.auth` tells them from PSC tokens;
- claims: ``iss`` = ``<base>/dmp``, ``aud`` = ``mes-espace-sante``, ``sub`` = ``patient:<persona id>``,
  ``workspace``, ``ins`` (own INS), ``role`` (``patient`` | ``legal_representative``),
  ``represents`` (INS), ``typ`` = ``Bearer``, ``iat``, ``exp`` (1 hour).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from sqlalchemy import select

from dmp.models import DmpKeyRow
from sandbox.db import Database

AUDIENCE = "mes-espace-sante"
TTL_SECONDS = 3600
KID_PREFIX = "dmp-"


class PatientTokenError(Exception):
    pass


@dataclass(frozen=True)
class PatientClaims:
    workspace: str
    persona_id: str
    ins: str
    role: str
    represents: str


class PatientTokenKeys:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: dict[str, OctKey] = {}

    async def _signer(self) -> tuple[str, OctKey]:
        async with self.db.session() as s:
            row = (await s.scalars(select(DmpKeyRow).order_by(DmpKeyRow.created_at.desc()).limit(1))).first()
            if row is None:
                row = DmpKeyRow(kid=f"{KID_PREFIX}{secrets.token_hex(6)}", secret=secrets.token_urlsafe(48),
                                created_at=datetime.now(UTC))
                s.add(row)
            kid, secret = row.kid, row.secret
        key = self._cache.setdefault(kid, OctKey.import_key(secret))
        return kid, key

    async def _find(self, kid: str) -> OctKey | None:
        if kid in self._cache:
            return self._cache[kid]
        async with self.db.session() as s:
            row = await s.get(DmpKeyRow, kid)
        if row is None:
            return None
        return self._cache.setdefault(kid, OctKey.import_key(row.secret))

    async def issue(self, issuer: str, claims: PatientClaims) -> str:
        kid, key = await self._signer()
        now = int(time.time())
        payload = {"iss": issuer, "aud": AUDIENCE, "sub": f"patient:{claims.persona_id}",
                   "workspace": claims.workspace, "ins": claims.ins, "role": claims.role,
                   "represents": claims.represents, "typ": "Bearer", "iat": now, "exp": now + TTL_SECONDS}
        return jwt.encode({"alg": "HS256", "kid": kid, "typ": "JWT"}, payload, key)

    async def verify(self, issuer: str, token: str, kid: str) -> PatientClaims:
        key = await self._find(kid)
        if key is None:
            raise PatientTokenError("clé de signature inconnue (unknown kid)")
        try:
            tok = jwt.decode(token, key, algorithms=["HS256"])
        except (JoseError, ValueError):
            raise PatientTokenError("signature invalide") from None
        c = tok.claims
        if c.get("iss") != issuer or c.get("aud") != AUDIENCE or c.get("typ") != "Bearer":
            raise PatientTokenError("jeton patient non émis pour le DMP (iss/aud/typ)")
        exp = c.get("exp")
        if not isinstance(exp, int) or exp < time.time():
            raise PatientTokenError("jeton expiré")
        sub = c.get("sub", "")
        if not isinstance(sub, str) or not sub.startswith("patient:"):
            raise PatientTokenError("sub invalide")
        return PatientClaims(str(c.get("workspace")), sub.split(":", 1)[1], str(c.get("ins") or ""),
                             str(c.get("role") or "patient"), str(c.get("represents") or ""))


def header_kid(token: str) -> str | None:
    """The ``kid`` of a compact JWS header, without verifying anything."""
    import base64

    import orjson

    try:
        head = token.split(".", 1)[0]
        data: Any = orjson.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        return None
    kid = data.get("kid") if isinstance(data, dict) else None
    return kid if isinstance(kid, str) else None
