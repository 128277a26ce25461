"""The PSC provider's per-app runtime: options, keys, clients, issuer URLs, signing.

One :class:`Psc` per sandbox context, kept in ``ctx.state["psc"]`` and created on first use
(:func:`get`), so other services may call :mod:`psc.verify` whatever the start-up order.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from joserfc import jwt
from sqlalchemy import bindparam, select

from psc.claims import REALM
from psc.clients import ClientRepository
from psc.config import PscConfig
from psc.keys import KeyStore, SigningKey
from psc.models import PscSessionRow
from psc.store import SESSIONS
from sandbox.changes import FreshCache, watch
from sandbox.models import PersonaRow

if TYPE_CHECKING:
    from sandbox.context import SandboxContext

STATE_KEY = "psc"
#: a workspace's realm (the default workspace's is ``/psc/realms/esante-wallet``)
WORKSPACE_REALM_PREFIX = f"/psc/w/{{ws}}/realms/{REALM}"


def realm_path(workspace: str | None, default_workspace: str) -> str:
    if workspace is None or workspace == default_workspace:
        return f"/psc/realms/{REALM}"
    return WORKSPACE_REALM_PREFIX.format(ws=workspace)


#: stands for PSC's wallet host (``https://wallet.bas.psc.esante.gouv.fr/auth``, FACTS §4)
WALLET_PATH = "/psc/wallet"
#: personas and session states are re-read after any change recorded by any node (sandbox.changes);
#: these bound how long a change made outside the sandbox goes unseen
PERSONA_CACHE_SECONDS = 60.0
SESSION_CACHE_SECONDS = 60.0
PERSONAS = watch(PersonaRow.__table__)
VERIFIED_CACHE_SIZE = 4096


@dataclass(frozen=True)
class SessionState:
    auth_mode: str
    revoked: bool
    revoked_reason: str


#: built once: a reused statement keeps SQLAlchemy's cache key and compiled form
_SESSION_STATE = select(PscSessionRow.auth_mode, PscSessionRow.revoked_at, PscSessionRow.revoked_reason).where(
    PscSessionRow.sid == bindparam("sid"))


@dataclass
class Psc:
    ctx: SandboxContext
    config: PscConfig
    keys: KeyStore
    clients: ClientRepository
    _personas: FreshCache = field(init=False)
    #: JWS this provider signed and this process already verified: token -> (header, claims).
    #: Bounded; only the signature check is skipped on a hit (:func:`psc.verify.verify_signature`).
    verified: dict[str, tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=dict)
    _sessions: FreshCache = field(init=False)

    def __post_init__(self) -> None:
        self._sessions = FreshCache(SESSION_CACHE_SECONDS, self.ctx.changes, size=20_000, tables=[SESSIONS])
        self._personas = FreshCache(PERSONA_CACHE_SECONDS, self.ctx.changes, size=20_000, tables=[PERSONAS])

    @property
    def issuer(self) -> str:
        """The default workspace's issuer (``<base>/psc/realms/esante-wallet``)."""
        return f"{self.ctx.settings.base_url}/psc/realms/{REALM}"

    def issuer_for(self, workspace: str | None) -> str:
        """The issuer of ``workspace``: each workspace is a realm of its own, so what a vendor fetches
        (discovery, JWKS) is attributable to it; the default workspace keeps the plain path."""
        return f"{self.ctx.settings.base_url}{realm_path(workspace, self.ctx.settings.default_workspace)}"

    def is_issuer(self, value: object) -> bool:
        """The default issuer or a workspace's (the token's own is checked against its workspace)."""
        if value == self.issuer:
            return True
        prefix, suffix = f"{self.ctx.settings.base_url}/psc/w/", f"/realms/{REALM}"
        return isinstance(value, str) and value.startswith(prefix) and value.endswith(suffix) \
            and "/" not in value[len(prefix):-len(suffix)]

    @property
    def wallet(self) -> str:
        """Where the wallet host's paths live: PSC authorizes on ``wallet.<env>`` (FACTS §4, §8.7),
        another host than the issuer's; here a distinct path, ``/psc/wallet``, on the same listener."""
        return f"{self.ctx.settings.base_url}{WALLET_PATH}"

    @property
    def authorization_endpoint(self) -> str:
        return f"{self.wallet}/auth"

    def endpoint(self, name: str, workspace: str | None = None) -> str:
        """``token``, ``userinfo``, ``token/introspect``, ``logout``, ``certs`` of a workspace's issuer."""
        return f"{self.issuer_for(workspace)}/protocol/openid-connect/{name}"

    async def sign(self, claims: dict[str, Any], alg: str) -> str:
        key: SigningKey = await self.keys.signer(alg)
        return jwt.encode({"alg": alg, "kid": key.kid, "typ": "JWT"}, claims, key.key)

    async def personas(self, workspace: str, kind: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Personas by id (cached until personas change anywhere: a workspace seeded, reset or deleted)."""
        found = await self._personas.get_many([(workspace, kind, pid) for pid in ids], self._load_personas)
        return {key[2]: data for key, data in found.items() if data is not None}

    async def _load_personas(self, keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], dict[str, Any]]:
        workspace, kind, _ = keys[0]  # one workspace and kind per call (personas())
        async with self.ctx.db.session() as s:
            rows = (await s.execute(select(PersonaRow.id, PersonaRow.data).where(
                PersonaRow.workspace == workspace, PersonaRow.kind == kind,
                PersonaRow.id.in_([k[2] for k in keys])))).all()
        return {(workspace, kind, r.id): r.data for r in rows}

    async def professional(self, workspace: str, idnps: str) -> dict[str, Any] | None:
        return (await self.personas(workspace, "professional", [idnps])).get(idnps)

    async def session_state(self, sid: str) -> SessionState | None:
        """Authentication means and revocation of session ``sid`` (None if unknown), cached until
        a session is revoked or deleted anywhere (logout, reused code, replayed refresh token)."""
        return await self._sessions.get(sid, lambda: self._load_session_state(sid))

    async def _load_session_state(self, sid: str) -> SessionState | None:
        row = await self.ctx.db.run(lambda c: c.execute(_SESSION_STATE, {"sid": sid}).first(), write=False)
        return SessionState(row.auth_mode, row.revoked_at is not None, row.revoked_reason) if row else None


def half_hash(value: str) -> str:
    """``at_hash`` (OIDC Core §3.1.3.6): left half of SHA-256, base64url (RS256 and ES256)."""
    d = hashlib.sha256(value.encode()).digest()
    return base64.urlsafe_b64encode(d[: len(d) // 2]).rstrip(b"=").decode()


def get(ctx: SandboxContext) -> Psc:
    rt = ctx.state.get(STATE_KEY)
    if rt is None:
        config = PscConfig()
        longest = max(config.access_token_ttl, config.id_token_ttl) + config.leeway
        rt = Psc(ctx, config, KeyStore(ctx.db, longest), ClientRepository(ctx.db, config.client_cache_ttl))
        ctx.state[STATE_KEY] = rt
    return rt
